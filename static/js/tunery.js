// Small progressive enhancements; every page works without them.
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
});
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = document.querySelector(button.dataset.copy).textContent;
  await navigator.clipboard.writeText(text);
  button.textContent = "Copied";
});
// Mark the navigation link of the section this page belongs to.
document.addEventListener("DOMContentLoaded", () => {
  const links = [...document.querySelectorAll(".nav a[href^='/']")];
  const path = window.location.pathname;
  const match = (href) => href === "/" ? path === "/" : path === href || path.startsWith(href + "/");
  const current = links.filter((a) => match(a.getAttribute("href"))).sort((a, b) => b.getAttribute("href").length - a.getAttribute("href").length)[0];
  if (current) current.setAttribute("aria-current", "page");
});
