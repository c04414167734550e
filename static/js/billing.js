// Spend per day, stacked by model; and, when Stripe is on, the card form (Stripe.js makes the
// PaymentMethod in the browser so card numbers never reach our server).
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
  cardForm.addEventListener("submit", async (event) => {
    if (document.getElementById("payment-method-id").value) return;
    event.preventDefault();
    const { paymentMethod, error } = await stripe.createPaymentMethod({ type: "card", card });
    if (error) {
      document.getElementById("card-errors").textContent = error.message;
      return;
    }
    document.getElementById("payment-method-id").value = paymentMethod.id;
    cardForm.submit();
  });
}
