// Spend per day, stacked by model; and, when Stripe is on, the card form: Stripe.js confirms a
// SetupIntent in the browser (3-D Secure included), so card numbers never reach our server.
const spend = JSON.parse(document.getElementById("spend-data").textContent);
const palette = ["#4f46e5", "#e11d48", "#059669", "#d97706", "#0891b2", "#7c3aed", "#64748b"];
new Chart(document.getElementById("spend-chart"), {
  type: "bar",
  data: {
    labels: spend.days,
    datasets: spend.series.map((s, i) => ({ label: s.label, data: s.amounts.map(Number), backgroundColor: palette[i % palette.length] })),
  },
  options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { callback: (v) => "$" + v } } } },
});

const cardForm = document.getElementById("card-form");
if (cardForm && window.Stripe) {
  const stripe = window.Stripe(cardForm.dataset.stripeKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  const showError = (message) => { document.getElementById("card-errors").textContent = message; };
  cardForm.addEventListener("submit", async (event) => {
    if (document.getElementById("setup-intent-id").value) return;
    event.preventDefault();
    const csrf = cardForm.querySelector("[name=csrfmiddlewaretoken]").value;
    const reply = await fetch(cardForm.dataset.setupUrl, { method: "POST", headers: { "X-CSRFToken": csrf } });
    const body = await reply.json();
    if (!reply.ok) return showError(body.error);
    const { setupIntent, error } = await stripe.confirmCardSetup(body.client_secret, { payment_method: { card } });
    if (error) return showError(error.message);
    document.getElementById("setup-intent-id").value = setupIntent.id;
    cardForm.submit();
  });
}
