// Charts from data the server embeds with json_script; Chart.js comes from npm.
function readJSON(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

const accent = "#4f46e5";
const renderers = {
  histogram(canvas) {
    const data = readJSON("histogram-data");
    const labels = data.counts.map((_, i) => {
      const low = data.edges[i], high = data.edges[i + 1] - 1;
      return low === high ? `${low}` : `${low}–${high}`;
    });
    return new Chart(canvas, {
      type: "bar",
      data: { labels, datasets: [{ label: "examples", data: data.counts, backgroundColor: accent }] },
      options: { plugins: { legend: { display: false } }, scales: { x: { title: { display: true, text: "tokens" } } } },
    });
  },
  labels(canvas) {
    const data = readJSON("labels-data");
    return new Chart(canvas, {
      type: "bar",
      data: { labels: Object.keys(data), datasets: [{ label: "examples", data: Object.values(data), backgroundColor: accent }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } } },
    });
  },
};

document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
  const render = renderers[canvas.dataset.chart];
  if (render) render(canvas);
});
