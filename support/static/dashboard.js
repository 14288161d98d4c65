/* The SLA dashboard's weekly chart: figures come from the JSON the page embeds (the table
   beside it shows the same numbers, so the page reads fine without JavaScript). */
(function () {
  "use strict";
  var holder = document.getElementById("weekly-chart-data");
  var canvas = document.getElementById("weekly-chart");
  if (!holder || !canvas || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(holder.textContent);
  canvas.hidden = false;
  new Chart(canvas, {
    data: {
      labels: data.labels,
      datasets: [
        { type: "bar", label: "Filed", data: data.filed, yAxisID: "count",
          backgroundColor: "#a8c7fa", borderColor: "#5b8def", borderWidth: 1 },
        { type: "bar", label: "Decided", data: data.decided, yAxisID: "count",
          backgroundColor: "#1a5fb4" },
        { type: "line", label: "% within 5 business days", data: data.within5, yAxisID: "pct",
          borderColor: "#188038", backgroundColor: "#188038", spanGaps: true, tension: 0.2 },
        { type: "line", label: "% within 3 business days", data: data.within3, yAxisID: "pct",
          borderColor: "#b06000", backgroundColor: "#b06000", borderDash: [5, 4],
          spanGaps: true, tension: 0.2 }
      ]
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: {
        // Lines are shown as a stroke of their own dash pattern, bars as a square: a plain
        // legend box filled a dashed line's colour into a blot.
        usePointStyle: true, pointStyleWidth: 30,
        generateLabels: function (chart) {
          var items = Chart.defaults.plugins.legend.labels.generateLabels(chart);
          items.forEach(function (item) {
            var isLine = chart.data.datasets[item.datasetIndex].type === "line";
            item.pointStyle = isLine ? "line" : "rect";
            if (isLine) { item.lineWidth = 3; }
          });
          return items;
        } } } },
      scales: {
        count: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 },
                 title: { display: true, text: "Requests" } },
        pct: { type: "linear", position: "right", min: 0, max: 100,
               grid: { drawOnChartArea: false },
               ticks: { callback: function (v) { return v + " %"; } },
               title: { display: true, text: "Decided in time" } }
      }
    }
  });
})();
