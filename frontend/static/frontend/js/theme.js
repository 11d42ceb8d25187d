// Applied before first paint so the page never flashes the wrong colours. Dark is the default:
// control rooms are dim. The choice is remembered per browser.
(function () {
  var stored = null;
  try { stored = localStorage.getItem("outcry.theme"); } catch (e) { /* private mode */ }
  document.documentElement.dataset.theme = stored === "light" ? "light" : "dark";
})();
