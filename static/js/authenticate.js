// A top-up the bank holds for 3-D Secure: Stripe.js shows the bank's check, then the form asks
// the server where the payment stands (it records success or failure and credits once).
const section = document.getElementById("authenticate");
const refresh = document.getElementById("refresh-form");
const start = document.getElementById("authenticate-start");

async function authenticate() {
  if (!window.Stripe) {
    document.getElementById("authenticate-error").textContent = "Stripe's page did not load; reload this page to try again.";
    return;
  }
  start.disabled = true;
  const stripe = window.Stripe(section.dataset.stripeKey);
  const { error } = await stripe.confirmCardPayment(section.dataset.clientSecret);
  if (error) document.getElementById("authenticate-error").textContent = error.message;
  refresh.submit();
}

start.addEventListener("click", authenticate);
if (window.Stripe) authenticate();
