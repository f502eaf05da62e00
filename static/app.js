// Small behaviours the pages need; no inline script anywhere (the CSP forbids it).
(function () {
  "use strict";

  // Remote images in mail stay unloaded until the agent asks for them.
  function armRemoteImages(root) {
    root.querySelectorAll("[data-remote-images]").forEach(function (box) {
      var imgs = box.querySelectorAll("img[data-remote-src]");
      var button = box.nextElementSibling;
      if (!imgs.length || !button || !button.classList.contains("show-images")) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        imgs.forEach(function (img) { img.src = img.getAttribute("data-remote-src"); });
        button.hidden = true;
      }, { once: true });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { armRemoteImages(document); });
  document.addEventListener("htmx:afterSettle", function (e) { armRemoteImages(e.target); });

  // Forms that should clear after a successful htmx post (notes, replies).
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (form && form.matches && form.matches("form[data-reset-on-success]") && e.detail.successful) {
      form.reset();
    }
  });

  // Keyboard shortcuts: "/" focuses search; elements with data-shortcut-key are clicked.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "/") {
      var search = document.querySelector("[data-shortcut='/']");
      if (search) { e.preventDefault(); search.focus(); }
      return;
    }
    var target = document.querySelector("[data-shortcut-key='" + e.key + "']");
    if (target) { e.preventDefault(); target.click(); }
  });
})();
