// The agency picker (agencies.forms.AgencyPickerWidget): an ARIA combobox with a listbox.
// htmx fetches the options as one types; this file lets the person choose one, by keyboard
// (ArrowDown/ArrowUp, Enter, Escape) or mouse. Focus stays in the text box throughout.
(function () {
  "use strict";

  function parts(element) {
    const picker = element.closest("[data-agency-picker]");
    if (!picker) return null;
    return {
      picker: picker,
      text: picker.querySelector("[data-agency-picker-text]"),
      value: picker.querySelector("[data-agency-picker-value]"),
      listbox: picker.querySelector('[role="listbox"]'),
      // The multiple variant: chosen agencies are chips, each with a hidden input.
      chosen: picker.querySelector("[data-agency-picker-chosen]"),
    };
  }

  function choices(p) {
    return Array.from(p.listbox.querySelectorAll('[role="option"]:not([aria-disabled="true"])'));
  }

  function active(p) {
    const id = p.text.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }

  function setOpen(p, open) {
    p.listbox.hidden = !open;
    p.text.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) highlight(p, null);
  }

  function highlight(p, option) {
    p.listbox.querySelectorAll('[role="option"]').forEach(function (each) {
      const on = each === option;
      each.setAttribute("aria-selected", on ? "true" : "false");
      each.classList.toggle("active", on);
    });
    if (option) {
      p.text.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      p.text.removeAttribute("aria-activedescendant");
    }
  }

  function changed(p) {
    // Bubbles: a form that reacts to the choice (the referral form's categories) hears it.
    p.value.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function addChip(p, option) {
    const already = Array.from(p.chosen.querySelectorAll("input[type=hidden]")).some(function (input) {
      return input.value === option.dataset.value;
    });
    if (!already) {
      const chip = p.picker.querySelector("[data-agency-picker-chip-template]").content.firstElementChild.cloneNode(true);
      chip.querySelector("input[type=hidden]").value = option.dataset.value;
      chip.querySelector("[data-agency-picker-chip-label]").textContent = option.dataset.label;
      const remove = chip.querySelector("[data-agency-picker-remove]");
      remove.setAttribute("aria-label", remove.dataset.labelFormat.replace("{name}", option.dataset.label));
      p.chosen.appendChild(chip);
    }
    // Ready for the next one.
    p.text.value = "";
    setOpen(p, false);
    p.picker.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function choose(p, option) {
    if (p.chosen) return addChip(p, option);
    p.value.value = option.dataset.value;
    p.text.value = option.dataset.label;
    setOpen(p, false);
    changed(p);
  }

  function move(p, step) {
    const list = choices(p);
    if (!list.length) return;
    if (p.listbox.hidden) setOpen(p, true);
    const index = list.indexOf(active(p));
    const next = index < 0 ? (step > 0 ? 0 : list.length - 1) : (index + step + list.length) % list.length;
    highlight(p, list[next]);
  }

  document.addEventListener("keydown", function (event) {
    if (!event.target.matches("[data-agency-picker-text]")) return;
    const p = parts(event.target);
    if (event.key === "ArrowDown") {
      event.preventDefault();
      move(p, 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      move(p, -1);
    } else if (event.key === "Enter" && !p.listbox.hidden) {
      // An open list: Enter chooses, it does not send the form half filled.
      event.preventDefault();
      const option = active(p) || (choices(p).length === 1 ? choices(p)[0] : null);
      if (option) choose(p, option);
    } else if (event.key === "Escape" && !p.listbox.hidden) {
      event.preventDefault();
      setOpen(p, false);
    }
  });

  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-agency-picker-text]")) return;
    const p = parts(event.target);
    // Typing again undoes the choice: what is sent is always what the text box shows.
    if (p.value && p.value.value) {
      p.value.value = "";
      changed(p);
    }
    if (!event.target.value.trim()) setOpen(p, false);
  });

  // The text box's own change event (on blur, after typing) is not a choice: only the hidden
  // value's is. Left to bubble, it reloaded the referral form's categories as the person moved
  // on to tick one, and the reload dropped the tick.
  document.addEventListener(
    "change",
    function (event) {
      if (event.target.matches("[data-agency-picker-text]")) event.stopPropagation();
    },
    true
  );

  // Keep the focus in the text box when an option is clicked.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest("[data-agency-picker] [role='option']")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    const remove = event.target.closest("[data-agency-picker] [data-agency-picker-remove]");
    if (remove) {
      const p = parts(remove);
      remove.closest("[data-agency-picker-chip]").remove();
      p.text.focus();
      p.picker.dispatchEvent(new Event("change", { bubbles: true }));
      return;
    }
    const option = event.target.closest("[data-agency-picker] [role='option']");
    if (!option || option.getAttribute("aria-disabled") === "true") return;
    choose(parts(option), option);
  });

  document.addEventListener("focusout", function (event) {
    if (!event.target.matches("[data-agency-picker-text]")) return;
    const p = parts(event.target);
    if (!p.picker.contains(event.relatedTarget)) setOpen(p, false);
  });

  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt.matches("[data-agency-picker-text]")) return;
    event.detail.parameters.q = event.detail.elt.value;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const p = parts(event.detail.target);
    if (!p || event.detail.target !== p.listbox) return;
    setOpen(p, p.listbox.children.length > 0 && p.text.value.trim() !== "");
  });
})();
