// Draws the report's chart from the JSON description the server put in #report-chart-data.
(function () {
  function draw() {
    var data = document.getElementById("report-chart-data");
    var canvas = document.getElementById("report-chart");
    if (!data || !canvas || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(data.textContent);
    var palette = ["#417690", "#79aec8", "#e0a030", "#ba2121", "#5b9e4d", "#8e6bbf", "#999999", "#d17ab0"];
    var axis = { stacked: !!spec.stacked, beginAtZero: true };
    var valueAxis = Object.assign({}, axis);
    if (spec.percent) {
      valueAxis.ticks = { callback: function (v) { return v + "%"; } };
    }
    new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d, i) {
          var colour = palette[i % palette.length];
          return { label: d.label, data: d.data, backgroundColor: colour, borderColor: colour, fill: false, tension: 0.2 };
        })
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        scales: spec.horizontal ? { x: valueAxis, y: axis } : { x: axis, y: valueAxis }
      }
    });
    canvas.setAttribute("data-rendered", "true");
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
