// Behaviour every page shares. Under the Content-Security-Policy no page has inline script or
// event handlers: a page marks its elements with data- attributes and this file acts on them.
(() => {
  // <button data-print>: print the page.
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-print]")) window.print();
  });

  // hx-trigger filters ("change[…]") need eval, which the policy forbids. An element marked
  // data-htmx-skip-empty sends its request only when the control that fired has a value: emptying
  // a picker while typing again must not reload (and wipe) the form around it.
  document.addEventListener("htmx:confirm", (event) => {
    const source = event.detail.elt;
    const trigger = event.detail.triggerEvent;
    if (source.hasAttribute("data-htmx-skip-empty") && trigger && trigger.target && trigger.target.value === "") {
      event.preventDefault();
    }
  });
})();
