// The caseload's quick entry: "Log" opens the consultation form in a row under the case.
(() => {
  // On the list's container, which the filter keeps: the table inside it is swapped.
  const list = document.getElementById("caseload-list");
  const template = document.getElementById("quick-row-template");
  if (!list || !template) return;  // no open case: no list
  const quickRowOf = (row) => {
    const next = row.nextElementSibling;
    return next && next.classList.contains("quick-row") ? next : null;
  };

  function openQuick(link) {
    const row = link.closest("tr");
    const open = quickRowOf(row);
    if (open) {  // already open: go back to it rather than reload and lose what was typed
      open.querySelector("input[name=summary]")?.focus();
      return;
    }
    const quick = template.content.firstElementChild.cloneNode(true);
    row.after(quick);
    link.setAttribute("aria-expanded", "true");
    htmx.ajax("GET", link.href, {target: quick.querySelector(".quick-target"), swap: "innerHTML"});
  }

  function closeQuick(quick) {
    const link = quick.previousElementSibling.querySelector("[data-quick-open]");
    quick.remove();
    link.setAttribute("aria-expanded", "false");
    link.focus();
  }

  // After a consultation is logged, the server sends that case's row again (and the summary
  // beside it): it stays the one place that decides what is overdue.
  async function refresh(row) {
    await htmx.ajax("GET", row.dataset.rowUrl, {target: row, swap: "outerHTML"});
    document.getElementById(row.id)?.querySelector("[data-quick-open]")?.setAttribute("aria-expanded", "true");
  }

  list.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-quick-open]");
    if (opener && !(event.ctrlKey || event.metaKey || event.shiftKey)) {
      event.preventDefault();
      openQuick(opener);
    }
    const closer = event.target.closest("[data-quick-close]");
    if (closer) closeQuick(closer.closest("tr"));
  });
  list.addEventListener("keydown", (event) => {
    const quick = event.target.closest("tr.quick-row");
    if (event.key === "Escape" && quick) closeQuick(quick);
  });
  list.addEventListener("consultation-logged", (event) => {
    const quick = event.target.closest("tr.quick-row");
    if (quick) refresh(quick.previousElementSibling);
  });
})();
