// Import preview while its validation or commit runs as a job: polls the job's progress
// endpoint (the job page's own) and reloads the preview when the job has finished.
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("import-job");
    if (!root) return;
    var url = root.dataset.progressUrl;
    function set(name, value) {
      var el = root.querySelector('[data-field="' + name + '"]');
      if (el) el.textContent = value;
    }
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (p) {
          if (!p) return;
          set("processed", p.processed);
          set("total", p.total);
          set("percent", p.percent);
          var bar = root.querySelector('[data-field="bar"]');
          if (bar) bar.style.width = p.percent + "%";
          var meter = document.getElementById("import-bar");
          if (meter) meter.setAttribute("aria-valuenow", p.percent);
          if (p.finished) window.location.reload();
          else window.setTimeout(poll, 1500);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 1000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
