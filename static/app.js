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
        // https only (the CSP's img-src): over plain http anyone on the way sees and may
        // alter the image and the request, and an https helpdesk would mix content. Like
        // browsers' mixed-content upgrade, http: sources are asked over https instead.
        imgs.forEach(function (img) {
          img.src = img.getAttribute("data-remote-src").replace(/^\s*http:/i, "https:");
        });
        button.hidden = true;
      }, { once: true });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { armRemoteImages(document); });
  document.addEventListener("htmx:afterSettle", function (e) { armRemoteImages(e.target); });

  // htmx leaves 4xx answers unswapped; ours that name a target (HX-Retarget: the flash
  // area) carry a message for the agent, so show it.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.getResponseHeader("HX-Retarget")) {
      e.detail.shouldSwap = true;
    }
  });

  // Forms that should clear after a successful htmx post (notes, replies).
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (form && form.matches && form.matches("form[data-reset-on-success]") && e.detail.successful) {
      form.reset();
    }
  });

  // The call panel (top bar button, shortcut "c"): close buttons and Escape empty it.
  function closeCallDialog() {
    var panel = document.getElementById("call-dialog");
    if (panel) panel.innerHTML = "";
  }
  document.addEventListener("click", function (e) {
    if (e.target && e.target.closest && e.target.closest("[data-close-dialog]")) closeCallDialog();
  });
  document.addEventListener("keydown", function (e) {
    // Not while typing: half-written call notes must not vanish on a stray Escape.
    var t = e.target;
    if (e.key !== "Escape" || (t && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    closeCallDialog();
  });

  // The reply composer. The draft lives in localStorage under the form's data-draft-key
  // (one per ticket) until the reply is sent; typing marks this agent as composing.
  function draftKey(el) {
    var form = el && el.closest && el.closest("form[data-draft-key]");
    return form ? form.getAttribute("data-draft-key") : null;
  }
  function restoreDrafts(root) {
    root.querySelectorAll("form[data-draft-key] textarea[data-draft]").forEach(function (area) {
      var saved = window.localStorage.getItem(draftKey(area));
      if (saved && !area.value) area.value = saved;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { restoreDrafts(document); });
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!t || !t.matches || !t.matches("textarea[data-draft]")) return;
    var key = draftKey(t);
    if (key) window.localStorage.setItem(key, t.value);
    var state = document.getElementById("presence-state");
    if (state) state.value = "composing";
  });
  document.addEventListener("submit", function (e) {
    // Forms posted without htmx (new conversation) leave the page: the draft is done.
    var form = e.target;
    if (form.matches("form[data-draft-key]") && !form.hasAttribute("hx-post")) {
      window.localStorage.removeItem(form.getAttribute("data-draft-key"));
    }
  });
  // htmx fires the HX-Trigger events of a response on the element; they bubble up here.
  document.addEventListener("reply-sent", function () {
    var form = document.querySelector("form[data-reply-form]");
    if (!form) return;
    window.localStorage.removeItem(form.getAttribute("data-draft-key"));
    form.reset();
    // A saved reply arrives as the textarea's own content, which reset() would bring back.
    form.querySelectorAll("textarea[data-draft]").forEach(function (area) {
      area.defaultValue = "";
      area.value = "";
    });
    var token = form.querySelector("[data-reply-token]");
    if (token) token.value = String(Date.now()) + String(Math.random()).slice(2);
    var warning = document.getElementById("composer-warning");
    if (warning) warning.innerHTML = "";
    document.querySelectorAll("[data-composer-error]").forEach(function (el) { el.innerHTML = ""; });
    var state = document.getElementById("presence-state");
    if (state) state.value = "viewing";
  });
  document.addEventListener("reply-undone", function (e) {
    var area = document.getElementById("reply-body");
    if (area && !area.value && e.detail && e.detail.text) area.value = e.detail.text;
  });
  // Attachments over the limit are flagged before sending (the server checks too).
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) return;
    var total = 0;
    Array.prototype.forEach.call(input.files, function (f) { total += f.size; });
    var error = input.form && input.form.querySelector("[data-file-error]");
    if (error) error.hidden = total <= Number(input.getAttribute("data-max-bytes"));
  });
  // "Undo (10 s)" counts down and goes away when the mail is on its way.
  window.setInterval(function () {
    document.querySelectorAll("[data-undo-until]").forEach(function (button) {
      var left = Math.round((Date.parse(button.getAttribute("data-undo-until")) - Date.now()) / 1000);
      var counter = button.querySelector("[data-countdown]");
      if (left <= 0) { button.hidden = true; return; }
      if (counter) counter.textContent = String(left);
    });
  }, 1000);

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

  // The OAuth connect flow's two in-between pages go on by themselves: on to the provider
  // (a link: the CSP lets forms go only to this site, redirects after a form included),
  // and the provider's answer posted on (GETs never write). Without JavaScript the agent
  // clicks the same link or button.
  document.addEventListener("DOMContentLoaded", function () {
    var next = document.querySelector("a[data-navigate-now]");
    if (next) window.location.assign(next.href);
    var form = document.querySelector("form[data-autosubmit]");
    if (form) form.submit();
  });
})();
