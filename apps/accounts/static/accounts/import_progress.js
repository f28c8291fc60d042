// Polls an import's status while it is checked or imported in the background, moves the
// progress bar, and reloads the page (which then shows the preview or the result) when done.
(function () {
  "use strict";
  function poll(bar) {
    fetch(bar.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        bar.value = state.percent;
        document.getElementById("import-percent").textContent = state.percent;
        document.getElementById("import-status").textContent = state.status_display;
        document.getElementById("import-stage").textContent = state.stage;
        document.getElementById("import-processed").textContent = state.processed;
        document.getElementById("import-total").textContent = state.total;
        document.getElementById("import-verb").textContent = state.status === "running" ? "imported" : "checked";
        if (state.finished) { window.location.reload(); } else { window.setTimeout(function () { poll(bar); }, 1000); }
      })
      .catch(function () { window.setTimeout(function () { poll(bar); }, 3000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var bar = document.getElementById("import-progress");
    if (bar) { poll(bar); }
  });
})();
