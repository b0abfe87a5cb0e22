// Custos page behaviour. Everything works without this file; it only adds
// conveniences. The CSP allows scripts from this origin only, so nothing is
// inline: pages mark elements with data- attributes instead.
(function () {
  "use strict";

  // Rows with data-href open the record when clicked anywhere, except on
  // their own links, buttons and form controls.
  document.addEventListener("click", function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    var t = e.target;
    if (!(t instanceof Element) || t.closest("a, button, input, select, textarea, label, form")) return;
    var row = t.closest("tr[data-href]");
    if (row) window.location.assign(row.getAttribute("data-href"));
  });

  // Forms with data-confirm ask first (delete, release, revoke).
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f instanceof HTMLFormElement && f.hasAttribute("data-confirm") && !window.confirm(f.getAttribute("data-confirm"))) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // A new API token's secret is selected on focus, ready to copy.
  document.addEventListener("focusin", function (e) {
    var t = e.target;
    if (t instanceof HTMLInputElement && t.hasAttribute("data-select-on-focus")) t.select();
  });

  // Enter in the customer picker's search box searches; it must not
  // submit the half-filled form around it.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Enter" && t instanceof HTMLInputElement && t.hasAttribute("data-picker")) e.preventDefault();
  });

  // An alert shown by an htmx error replaces the previous one; clear it on
  // the next successful request so stale errors do not linger.
  document.addEventListener("htmx:beforeRequest", function () {
    var a = document.getElementById("alerts");
    if (a) a.textContent = "";
  });
})();
