// The Reports page: draws each <canvas data-chart=...> with the vendored Chart.js.
// The numbers are in the table beside each chart; this only draws them. No inline script
// (the CSP forbids it), no animation (print and slow phones), and a redraw before printing.
(function () {
  "use strict";
  var COLOURS = ["#0b5cad", "#b3261e", "#1e7d34", "#8a5a00", "#6b3fa0", "#00838f"];
  var charts = [];

  function config(spec) {
    var horizontal = !!spec.horizontal;
    var datasets = spec.datasets.map(function (d, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {
        label: d.label,
        data: d.data,
        type: d.type || undefined,
        yAxisID: d.axis || "y",
        backgroundColor: spec.type === "line" || d.type === "line" ? colour : colour + "cc",
        borderColor: colour,
        borderWidth: 2,
        pointRadius: 2,
        spanGaps: true,
        order: d.type === "line" ? 0 : 1
      };
    });
    var valueAxis = { beginAtZero: true, stacked: !!spec.stacked, title: { display: !!spec.y, text: spec.y || "" } };
    var scales = horizontal
      ? { x: valueAxis, y: { stacked: !!spec.stacked } }
      : { x: { stacked: !!spec.stacked }, y: valueAxis };
    if (spec.y2) {
      scales.y2 = { position: "right", beginAtZero: true, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: spec.y2 } };
    }
    return {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: { legend: { position: "bottom" } },
        onClick: spec.links ? function (event, elements) {
          if (elements.length && spec.links[elements[0].index]) {
            window.location.href = spec.links[elements[0].index];
          }
        } : undefined
      }
    };
  }

  function draw() {
    if (typeof window.Chart === "undefined") return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      try {
        var chart = new window.Chart(canvas, config(JSON.parse(canvas.getAttribute("data-chart"))));
        canvas.setAttribute("data-drawn", "true");
        charts.push(chart);
      } catch (err) {
        // A chart that cannot be drawn leaves its table to speak; say why to a developer.
        if (window.console) window.console.error(err);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("beforeprint", function () {
    charts.forEach(function (c) { c.resize(); });
  });
  window.addEventListener("afterprint", function () {
    charts.forEach(function (c) { c.resize(); });
  });
})();
