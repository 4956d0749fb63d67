// The menu button: on a narrow screen the menu folds behind it. A file, not inline script: the CSP
// allows only the site's own files. Without JavaScript the menu simply stays open.
(function () {
  "use strict";
  var button = document.getElementById("menu-button");
  var menu = document.getElementById("site-menu");
  if (!button || !menu) { return; }
  var header = button.closest("header");
  header.classList.add("menu-ready");

  function show(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  }

  button.addEventListener("click", function () {
    show(button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      show(false);
      button.focus();
    }
  });
})();
