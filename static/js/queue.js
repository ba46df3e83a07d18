// The referral queue: the header's box ticks or unticks every referral on the page. Listened for
// on the document: the filter swaps the table (and the box) in and out.
(() => {
  document.addEventListener("change", (event) => {
    if (event.target.id !== "tick-all") return;
    document.querySelectorAll('#queue-table input[name="referral"]').forEach((box) => { box.checked = event.target.checked; });
  });
})();
