// Loss charts: one job's train vs validation curves (live while it runs), or several jobs overlaid.
const palette = ["#4f46e5", "#e11d48", "#059669", "#d97706", "#0891b2", "#7c3aed"];

function lossChart(canvas, datasets) {
  return new Chart(canvas, {
    type: "line",
    data: { datasets },
    options: {
      animation: false,
      parsing: false,
      scales: {
        x: { type: "linear", title: { display: true, text: "step" } },
        y: { title: { display: true, text: "loss" } },
        // Validation answers scored (exact match, JSON fields or word F1): 0 to 1, on the right.
        answers: { position: "right", min: 0, max: 1, display: "auto", grid: { drawOnChartArea: false }, title: { display: true, text: "answer score" } },
      },
      plugins: { tooltip: { mode: "nearest", intersect: false } },
    },
  });
}

const single = document.getElementById("loss-chart");
if (single) {
  const chart = lossChart(single, [
    { label: "training loss", data: [], borderColor: palette[0], pointRadius: 0, borderWidth: 1.5 },
    { label: "validation loss", data: [], borderColor: palette[1], pointRadius: 3 },
    { label: "validation answers", data: [], borderColor: palette[2], pointRadius: 3, yAxisID: "answers" },
  ]);
  async function refresh() {
    const response = await fetch(single.dataset.metricsUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const series = await response.json();
    chart.data.datasets[0].data = series.train;
    chart.data.datasets[1].data = series.validation;
    chart.data.datasets[2].data = series.validation.filter((p) => p.answers != null).map((p) => ({ x: p.x, y: p.answers }));
    const metric = series.validation.find((p) => p.answer_metric)?.answer_metric;
    if (metric) chart.data.datasets[2].label = `validation ${metric.replaceAll("_", " ")}`;
    chart.update();
    const active = ["validating_files", "queued", "running", "paused"].includes(series.status);
    if (active) setTimeout(refresh, 3000);
    else if (single.dataset.live === "1") window.location.reload(); // show results, checkpoints, evaluation
  }
  refresh();
}

const compare = document.getElementById("compare-chart");
if (compare) {
  const series = JSON.parse(document.getElementById("compare-data").textContent);
  lossChart(compare, series.flatMap((job, i) => [
    { label: `${job.label} validation`, data: job.validation, borderColor: palette[i % palette.length], pointRadius: 2 },
    { label: `${job.label} training`, data: job.train, borderColor: palette[i % palette.length], borderDash: [3, 3], pointRadius: 0, borderWidth: 1 },
  ]));
}
