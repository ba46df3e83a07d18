// The backup codes page: print the codes, or save them as a text file, without a server
// round trip (the codes are shown once and never sent again).
(function () {
  "use strict";

  function codesAsText(section) {
    var heading = section.querySelector("h2").textContent.trim();
    var codes = Array.prototype.map.call(section.querySelectorAll(".backup-code"), function (item) {
      return item.textContent.trim();
    });
    return heading + "\n\n" + codes.join("\n") + "\n";
  }

  function download(section) {
    var blob = new Blob([codesAsText(section)], { type: "text/plain;charset=utf-8" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = section.dataset.filename || "backup-codes.txt";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-backup-codes]");
    if (!button) {
      return;
    }
    var section = document.getElementById("backup-codes");
    if (button.dataset.backupCodes === "print") {
      window.print();
    } else if (button.dataset.backupCodes === "download") {
      download(section);
    }
  });
})();
