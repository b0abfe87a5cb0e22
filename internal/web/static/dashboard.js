// Custos dashboard: draws each report's chart with the vendored ECharts
// from the JSON the page carries beside the chart's table. The tables are
// the figures (accessible, copyable, with their drill-down links); the
// charts only illustrate them, so a browser without this script loses
// nothing. The CSP allows no inline script or style: the data sits in
// <script type="application/json"> elements, which are never executed, and
// tooltips are drawn on the canvas (renderMode "richText") rather than as
// HTML with style attributes.
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") return;
  var echarts = window.echarts;

  var base = {
    animationDuration: 300,
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    tooltip: { renderMode: "richText", confine: true },
    legend: { type: "scroll", top: 0 },
    grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true }
  };

  function merge(a, b) {
    var out = {}, k;
    for (k in a) out[k] = a[k];
    for (k in b) out[k] = b[k];
    return out;
  }

  function axisSeries(d, type) {
    return d.series.map(function (s) {
      return { name: s.name, type: type, data: s.data, barMaxWidth: 40 };
    });
  }

  function option(d, width) {
    var cats = d.categories || [];
    // On a phone a few stages or months keep every label, slanted.
    var slant = width < 560 ? { interval: cats.length <= 8 ? 0 : "auto", rotate: 35 } : { hideOverlap: true };
    switch (d.kind) {
      case "funnel":
        return merge(base, {
          tooltip: merge(base.tooltip, { trigger: "item" }),
          series: [{
            name: d.series[0].name, type: "funnel", sort: "none", top: 40, bottom: 8, left: "10%", width: "80%", minSize: "8%",
            label: { position: "inside" },
            data: cats.map(function (c, i) { return { name: c, value: d.series[0].data[i] }; })
          }]
        });
      case "pie":
        return merge(base, {
          tooltip: merge(base.tooltip, { trigger: "item" }),
          series: [{
            name: d.series[0].name, type: "pie", radius: ["35%", "65%"], top: 32,
            data: cats.map(function (c, i) { return { name: c, value: d.series[0].data[i] }; })
          }]
        });
      case "hbar":
        return merge(base, {
          tooltip: merge(base.tooltip, { trigger: "axis" }),
          xAxis: { type: "value" },
          yAxis: { type: "category", data: cats, inverse: true, axisLabel: { width: 110, overflow: "truncate" } },
          series: axisSeries(d, "bar")
        });
      default: // bar, line
        return merge(base, {
          tooltip: merge(base.tooltip, { trigger: "axis" }),
          xAxis: { type: "category", data: cats, axisLabel: slant },
          yAxis: { type: "value" },
          series: axisSeries(d, d.kind === "line" ? "line" : "bar")
        });
    }
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var src = document.getElementById(el.getAttribute("data-chart"));
    if (!src) return;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(JSON.parse(src.textContent), el.clientWidth));
    charts.push(chart);
  });

  var pending;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      charts.forEach(function (c) { c.resize(); });
    }, 150);
  });
})();
