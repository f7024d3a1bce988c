// Kefu's page behaviour. No inline scripts anywhere (CSP: script-src 'self').
(function () {
  "use strict";
  // htmx requests carry the CSRF token from <body data-csrf-token>.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var token = document.body.dataset.csrfToken;
    if (token) { event.detail.headers["X-CSRFToken"] = token; }
  });

  // Charts: <div class="kefu-chart" data-option-id="ID"> with its ECharts option in a
  // <script type="application/json" id="ID"> (json_script), so no script is inline.
  function renderCharts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll(".kefu-chart[data-option-id]").forEach(function (el) {
      var source = document.getElementById(el.dataset.optionId);
      if (!source || el.dataset.rendered) { return; }
      var chart = window.echarts.init(el);
      chart.setOption(JSON.parse(source.textContent));
      el.dataset.rendered = "1";
      // A point may carry its own list URL (same site only); else its key goes after
      // data-click-base. A point with neither (an empty group) leads nowhere.
      chart.on("click", function (params) {
        var data = params.data || {};
        if (typeof data.url === "string" && /^\/(?!\/)/.test(data.url)) {
          window.location.href = data.url;
          return;
        }
        var key = data.key || (data.url === undefined ? params.name : "");
        if (el.dataset.clickBase && key) {
          window.location.href = el.dataset.clickBase + encodeURIComponent(key);
        }
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  renderCharts(document);
  document.body.addEventListener("htmx:afterSwap", function (event) { renderCharts(event.target); });

  // "All on this page" ticks every row box of its form (the server also honours it alone).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.name !== "all_on_page" || !box.form) { return; }
    box.form.querySelectorAll('input[type="checkbox"][name="ids"]').forEach(function (row) {
      row.checked = box.checked;
    });
  });

  // Buttons that ask before a destructive or bulk action: data-confirm="…".
  document.addEventListener("submit", function (event) {
    var message = event.submitter && event.submitter.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); }
  }, true);
})();
