// Live progress of a background job: every element with data-job-progress polls the job's
// JSON endpoint (data-progress-url) and fills its [data-field] children, no page reloads.
// The job page (data-finished) stops polling when the job ends; an import preview
// (data-reload-when-finished="1") reloads itself then, to show the job's outcome.
(function () {
  "use strict";
  function watch(root) {
    if (root.dataset.finished === "1") return;
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
          var meter = root.querySelector('[role="progressbar"]');
          if (meter) meter.setAttribute("aria-valuenow", p.percent);
          if (!p.finished) {
            window.setTimeout(poll, 1500);
          } else if (root.dataset.reloadWhenFinished === "1") {
            window.location.reload();
          } else {
            root.dataset.finished = "1";
            set("no-failures", p.failed ? "Finished with failures: reopen the page to list them." : "None.");
          }
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 1000);
  }
  function start() {
    document.querySelectorAll("[data-job-progress]").forEach(watch);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
