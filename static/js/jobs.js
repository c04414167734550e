// Loss charts: one job's train vs validation curves (live while it runs), or several jobs overlaid.
const palette = ["#4f46e5", "#e11d48", "#059669", "#d97706", "#0891b2", "#7c3aed"];

function lossChart(canvas, datasets) {
  return new Chart(canvas, {
    type: "line",
    data: { datasets },
    options: {
      animation: false,
      parsing: false,
      scales: { x: { type: "linear", title: { display: true, text: "step" } }, y: { title: { display: true, text: "loss" } } },
      plugins: { tooltip: { mode: "nearest", intersect: false } },
    },
  });
}

const single = document.getElementById("loss-chart");
if (single) {
  const chart = lossChart(single, [
    { label: "training loss", data: [], borderColor: palette[0], pointRadius: 0, borderWidth: 1.5 },
    { label: "validation loss", data: [], borderColor: palette[1], pointRadius: 3 },
  ]);
  async function refresh() {
    const response = await fetch(single.dataset.metricsUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const series = await response.json();
    chart.data.datasets[0].data = series.train;
    chart.data.datasets[1].data = series.validation;
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
