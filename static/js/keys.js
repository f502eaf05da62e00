// Keyboard shortcuts of the inbox and the ticket page; "?" lists them (templates/_keys_help.html).
// j/k move the selection in the inbox list, o or Enter opens it, r reply, n internal note,
// e close the ticket, / search. Never while typing in a field, never with Ctrl/Alt/Meta.
// Listens in the capture phase so that on a ticket "n" is the note, not a new conversation.
(function () {
  "use strict";

  function typing(t) {
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-keys-list] tr[data-row-link]"));
  }

  function current() {
    return document.querySelector("[data-keys-list] tr[data-row-link].key-selected");
  }

  function select(row) {
    var old = current();
    if (old) { old.classList.remove("key-selected"); old.removeAttribute("aria-selected"); }
    if (!row) return;
    row.classList.add("key-selected");
    row.setAttribute("aria-selected", "true");
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) return false;
    var at = all.indexOf(current());
    var next = at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + step));
    select(all[next]);
    return true;
  }

  function open() {
    var row = current();
    if (!row) return false;
    window.location.href = row.getAttribute("data-row-link");
    return true;
  }

  function focus(selector) {
    var el = document.querySelector(selector);
    if (!el) return false;
    el.scrollIntoView({ block: "center" });
    el.focus();
    return true;
  }

  function click(selector) {
    var el = document.querySelector(selector);
    if (!el || el.disabled) return false;
    el.click();
    return true;
  }

  function help() {
    var dialog = document.getElementById("keys-help");
    if (!dialog) return false;
    if (dialog.open) dialog.close(); else dialog.showModal();
    return true;
  }

  var actions = {
    j: function () { return move(1); },
    k: function () { return move(-1); },
    o: open,
    Enter: open,
    r: function () { return focus("#reply-body"); },
    n: function () { return focus("#note-text"); },
    e: function () { return click("[data-testid='status-closed']"); },
    "/": function () { return focus("[data-shortcut='/']"); },
    "?": help,
  };

  window.addEventListener("keydown", function (e) {
    if (typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Enter" && e.target && e.target.closest && e.target.closest("a, button")) return;
    var action = actions[e.key];
    if (action && action()) {
      e.preventDefault();
      e.stopPropagation();
    }
  }, true);

  // A list refreshed by htmx (every 20 s) keeps the selected row where it can.
  document.addEventListener("htmx:beforeSwap", function () {
    var row = current();
    window.__keysSelected = row ? row.getAttribute("data-row-link") : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    var link = window.__keysSelected;
    if (!link) return;
    var again = document.querySelector("[data-keys-list] tr[data-row-link='" + link + "']");
    if (again) select(again);
  });
})();
