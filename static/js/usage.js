// Requests (bars) and tokens (line) per day.
const days = JSON.parse(document.getElementById("usage-data").textContent);
new Chart(document.getElementById("usage-chart"), {
  data: {
    labels: days.map((d) => d.date),
    datasets: [
      { type: "bar", label: "requests", data: days.map((d) => d.requests), backgroundColor: "#4f46e5", yAxisID: "requests" },
      { type: "line", label: "tokens", data: days.map((d) => d.prompt_tokens + d.completion_tokens), borderColor: "#e11d48", yAxisID: "tokens" },
    ],
  },
  options: { scales: { requests: { position: "left", beginAtZero: true }, tokens: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } },
});
