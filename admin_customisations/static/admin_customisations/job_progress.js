// Live progress on a background job's page: polls the job's JSON endpoint, no page reloads.
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("job");
    if (!root || root.dataset.finished === "1") return;
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
          ["status_label", "processed", "total", "percent", "succeeded", "skipped", "failed", "message"]
            .forEach(function (key) { set(key, p[key]); });
          set("elapsed", p.elapsed_seconds === null ? "—" : p.elapsed_seconds + " s");
          set("eta", p.eta_seconds === null ? "—" : p.eta_seconds + " s");
          var bar = root.querySelector('[data-field="bar"]');
          if (bar) bar.style.width = p.percent + "%";
          var meter = document.getElementById("job-bar");
          if (meter) meter.setAttribute("aria-valuenow", p.percent);
          if (p.finished) {
            root.dataset.finished = "1";
            set("no-failures", p.failed ? "Finished with failures: reopen the page to list them." : "None.");
          } else {
            window.setTimeout(poll, 1500);
          }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 1000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
