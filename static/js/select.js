// Selecting tickets in the inbox for the bulk bar (templates/_bulk_bar.html).
//
// The rows' checkboxes belong to the bar's form (form="bulk-form"), so the browser sends
// the ticked ones with the button pressed. This file adds what plain checkboxes lack:
// shift-click ticks the range since the last click, "select all in view" ticks every row
// shown, and the bar shows how many are ticked. The list refreshes itself (every 20 s,
// a filter, "show more"): ticked tickets still shown stay ticked, those that left the
// view drop out of the selection. A bulk action that succeeded ends the selection.
(function () {
  "use strict";

  var selected = new Set();
  var lastClicked = null;

  function boxes() {
    return Array.prototype.slice.call(
      document.querySelectorAll("#ticket-list input[type=checkbox][name=ids]")
    );
  }

  function render() {
    var shown = boxes();
    var ids = new Set();
    shown.forEach(function (box) {
      ids.add(box.value);
      box.checked = selected.has(box.value);
      var row = box.closest("tr");
      if (row) row.classList.toggle("picked", box.checked);
    });
    selected.forEach(function (id) { if (!ids.has(id)) selected.delete(id); });
    var bar = document.getElementById("bulk-form");
    if (bar) {
      bar.classList.toggle("active", selected.size > 0);
      var label = bar.querySelector("[data-bulk-count]");
      if (label) {
        var n = selected.size;
        label.textContent = n === 0 ? label.dataset.none
          : n === 1 ? label.dataset.one : label.dataset.many.replace("{n}", String(n));
      }
    }
    document.querySelectorAll("[data-select-all]").forEach(function (all) {
      all.checked = shown.length > 0 && selected.size === shown.length;
      all.indeterminate = selected.size > 0 && selected.size < shown.length;
    });
  }

  function setBox(box, on) {
    if (on) selected.add(box.value); else selected.delete(box.value);
  }

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!(t instanceof HTMLInputElement) || t.type !== "checkbox") {
      if (t && t.closest && t.closest("[data-select-none]")) { selected.clear(); render(); }
      return;
    }
    if (t.name === "ids" && t.closest("#ticket-list")) {
      var shown = boxes();
      var here = shown.indexOf(t);
      var from = lastClicked ? shown.indexOf(lastClicked) : -1;
      if (e.shiftKey && from >= 0 && here >= 0) {
        var lo = Math.min(from, here), hi = Math.max(from, here);
        for (var i = lo; i <= hi; i++) setBox(shown[i], t.checked);
      } else {
        setBox(t, t.checked);
      }
      lastClicked = t;
      render();
    } else if (t.hasAttribute("data-select-all")) {
      boxes().forEach(function (box) { setBox(box, t.checked); });
      render();
    }
  });

  // A click on the row's own cell (outside a link) ticks it: a bigger target on a phone.
  document.addEventListener("click", function (e) {
    var cell = e.target && e.target.closest && e.target.closest("#ticket-list td.pick");
    if (cell && e.target === cell) {
      var box = cell.querySelector("input[name=ids]");
      if (box) box.click();
    }
  });

  // Enter in the tag or merge field presses that field's own button.
  document.addEventListener("keydown", function (e) {
    var field = e.target;
    if (e.key !== "Enter" || !field.closest || !field.closest("#bulk-form [data-enter]")) return;
    var button = document.querySelector(
      '#bulk-form button[name=action][value="' + field.getAttribute("data-enter") + '"]'
    );
    if (button) { e.preventDefault(); button.click(); }
  });

  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.target && (e.target.id === "ticket-list" || e.target.closest("#ticket-list"))) render();
  });
  // A bulk action that succeeded ends the selection (the list reloads on the same event).
  document.body.addEventListener("tickets-changed", function () {
    selected.clear();
    lastClicked = null;
    render();
  });
  document.addEventListener("DOMContentLoaded", function () {
    var bar = document.getElementById("bulk-form");
    if (bar) bar.classList.add("armed");
    boxes().forEach(function (box) { if (box.checked) selected.add(box.value); });
    render();
  });
})();
