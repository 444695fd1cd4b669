// Theme and narrow-screen menu. Loaded in <head> without defer so that a stored dark theme
// is applied before the first paint (no flash of the light page).
"use strict";

(function () {
  const KEY = "tandem.theme";
  const root = document.documentElement;
  try {
    const stored = localStorage.getItem(KEY);
    if (stored === "dark" || stored === "light") { root.dataset.theme = stored; }
  } catch (e) { /* storage disabled: follow the OS preference */ }

  function effectiveTheme() {
    if (root.dataset.theme) { return root.dataset.theme; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  document.addEventListener("DOMContentLoaded", () => {
    const toggle = document.getElementById("theme-toggle");
    if (toggle) {
      toggle.addEventListener("click", () => {
        const next = effectiveTheme() === "dark" ? "light" : "dark";
        root.dataset.theme = next;
        try { localStorage.setItem(KEY, next); } catch (e) { /* not kept across pages then */ }
      });
    }
    const menu = document.getElementById("nav-toggle");
    if (menu) {
      menu.addEventListener("click", () => {
        const open = !document.body.classList.contains("nav-open");
        document.body.classList.toggle("nav-open", open);
        menu.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
  });
}());
