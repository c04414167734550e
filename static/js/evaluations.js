// The evaluation page: the main metric of each model as bars, its run's cost in the tooltip.
const canvas = document.getElementById("evaluation-chart");
if (canvas) {
  const data = JSON.parse(document.getElementById("evaluation-chart-data").textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [{ label: data.metric, data: data.values, backgroundColor: "#4f46e5" }],
    },
    options: {
      animation: false,
      scales: { y: { min: 0, max: 1, title: { display: true, text: data.metric } } },
      plugins: { tooltip: { callbacks: { footer: (items) => `cost of this run: ${data.costs[items[0].dataIndex]}` } } },
    },
  });
}
