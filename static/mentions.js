// @mentions in the ticket's note form: typing @ offers agents by name or address, and
// picking one writes its handle (@maija). The server resolves handles when the note is
// saved, so a note typed without this script mentions the same agents.
(function () {
  "use strict";
  if (window.helpdeskMentions) return;
  window.helpdeskMentions = true;

  var TRIGGER = /(^|[^\w@.+-])@([\w.+-]{0,40})$/;
  var list = null, area = null, items = [], active = -1, timer = null, asked = 0;

  function close() {
    if (list) list.remove();
    list = null; items = []; active = -1;
  }

  function query(textarea) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var m = TRIGGER.exec(before);
    return m ? m[2] : null;
  }

  function pick(agent) {
    var before = area.value.slice(0, area.selectionStart);
    var after = area.value.slice(area.selectionStart);
    var start = before.lastIndexOf("@");
    var text = before.slice(0, start) + "@" + agent.handle + " ";
    area.value = text + after;
    area.selectionStart = area.selectionEnd = text.length;
    area.focus();
    close();
  }

  function mark() {
    if (!list) return;
    Array.prototype.forEach.call(list.children, function (li, i) {
      li.setAttribute("aria-selected", i === active ? "true" : "false");
    });
  }

  function show(agents) {
    close();
    if (!agents.length) return;
    items = agents;
    active = 0;
    list = document.createElement("ul");
    list.className = "mention-list";
    list.id = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("data-testid", "mention-list");
    agents.forEach(function (agent, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.textContent = agent.name + " (@" + agent.handle + ")";
      li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(items[i]); });
      list.appendChild(li);
    });
    area.insertAdjacentElement("afterend", list);
    mark();
  }

  function ask(q) {
    var ticket = ++asked;
    fetch("/api/v1/agents/mentionable?q=" + encodeURIComponent(q), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) { return r.ok ? r.json() : []; }).then(function (agents) {
      if (ticket === asked && area && query(area) !== null) show(agents);
    }).catch(close);
  }

  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!t || !t.matches || !t.matches(".note-form textarea")) return;
    area = t;
    var q = query(t);
    clearTimeout(timer);
    if (q === null) { close(); return; }
    timer = setTimeout(function () { ask(q); }, 120);
  });

  document.addEventListener("keydown", function (e) {
    if (!list || e.target !== area) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      active = (active + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      mark();
      e.preventDefault();
    } else if (e.key === "Enter" || e.key === "Tab") {
      if (active >= 0) { pick(items[active]); e.preventDefault(); }
    } else if (e.key === "Escape") {
      close();
      e.preventDefault();
    }
  });

  document.addEventListener("focusout", function (e) {
    if (e.target === area) setTimeout(close, 150);
  });
})();
