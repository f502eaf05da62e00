"""The ticket sidebar's snooze, spam and block forms, the admin's blocks, the customer history."""

from __future__ import annotations

from datetime import timedelta

import factories
import lxml.html
from sqlmodel import select
from webclient import login

from helpdesk import service_hours
from helpdesk.models import Call, SenderBlock, utcnow
from helpdesk.services import snooze
from helpdesk.services.customer_history import LIMIT


def _inbox_ids(client, **params) -> list[int]:
    doc = lxml.html.fromstring(client.get("/tickets", params=params).text)
    return [int(tr.get("data-ticket")) for tr in doc.xpath("//tr[@data-ticket]")]


def test_quick_pick_snoozes_and_the_inbox_shows_it_in_its_own_view(session, logged_in):
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    page = logged_in.get(f"/tickets/{ticket.id}")
    assert 'data-testid="snooze-tomorrow"' in page.text
    answer = logged_in.form(
        f"/tickets/{ticket.id}/snooze", {"pick": "tomorrow"}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/tickets"
    session.refresh(ticket)
    assert snooze.is_snoozed(ticket)
    assert ticket.id not in _inbox_ids(logged_in)
    assert _inbox_ids(logged_in, status="snoozed") == [ticket.id]
    assert 'data-testid="view-snoozed"' in logged_in.get("/tickets").text
    # Filtered, the counts name the snoozed tickets of the filter, and the link keeps it.
    counts = lxml.html.fragment_fromstring(
        logged_in.get("/tickets/counts", params={"q": "laskusta"}).text, create_parent="p"
    )
    [link] = counts.xpath("//a[@data-testid='view-snoozed']")
    assert link.text_content() == "Torkulla: 1"
    assert link.get("href") == "/tickets?status=snoozed&q=laskusta"
    assert _inbox_ids(logged_in, status="snoozed", q="laskusta") == [ticket.id]
    nothing = logged_in.get("/tickets/counts", params={"q": "olematon"}).text
    assert 'data-testid="view-snoozed"' not in nothing

    # Back (its time passed): in the list again, marked, until an agent wakes/clears it.
    ticket.snoozed_until = utcnow() - timedelta(minutes=1)
    session.add(ticket)
    session.commit()
    page = logged_in.get("/tickets")
    assert ticket.id in _inbox_ids(logged_in) and 'data-testid="back-from-snooze"' in page.text
    logged_in.form(f"/tickets/{ticket.id}/unsnooze", {})
    assert 'data-testid="back-from-snooze"' not in logged_in.get("/tickets").text


def test_picker_time_and_bad_values(session, logged_in):
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    later = (utcnow() + timedelta(days=2)).astimezone(service_hours.calendar_from_settings().zone)
    value = later.strftime("%Y-%m-%dT%H:%M")
    assert logged_in.form(f"/tickets/{ticket.id}/snooze", {"until": value}).status_code == 200
    session.refresh(ticket)
    assert ticket.snoozed_until is not None
    assert ticket.snoozed_until.replace(second=0, microsecond=0) == later.replace(
        second=0, microsecond=0
    )
    for bad in ({"until": "2001-01-01T10:00"}, {"until": "eilen"}, {"pick": "someday"}):
        assert logged_in.form(f"/tickets/{ticket.id}/snooze", bad).status_code == 400


def test_block_from_the_ticket_then_admin_removes_it(session, logged_in):
    ticket = factories.ticket(
        session, mailbox=factories.mailbox(session), customer="kauppa@roska.example"
    )
    answer = logged_in.form(
        f"/tickets/{ticket.id}/block", {"scope": "domain"}, follow_redirects=False
    )
    assert answer.status_code == 303
    session.refresh(ticket)
    assert ticket.spam and ticket.id not in _inbox_ids(logged_in)
    assert _inbox_ids(logged_in, status="spam") == [ticket.id]
    block = session.exec(select(SenderBlock)).one()
    assert block.value == "roska.example"
    assert "roska.example" in logged_in.get(f"/tickets/{ticket.id}").text

    listing = logged_in.get("/admin/blocks")
    assert listing.status_code == 200 and "roska.example" in listing.text
    logged_in.form(f"/admin/blocks/{block.id}/delete", {})
    assert session.exec(select(SenderBlock)).all() == []
    logged_in.form(f"/tickets/{ticket.id}/spam", {"spam": "0"})
    session.refresh(ticket)
    assert not ticket.spam and ticket.id in _inbox_ids(logged_in)


def test_block_list_is_for_admins(session, client):
    agent = factories.agent(session, name="Tavallinen")
    login(client, agent)
    assert client.get("/admin/blocks").status_code == 403


def test_customer_history_is_bounded_and_links_to_all(session, logged_in, admin):
    box = factories.mailbox(session)
    user = factories.user(session, "100102", name="Liisa")
    now = utcnow()
    earlier = [
        factories.ticket(
            session, mailbox=box, user=user, subject=f"Aiempi {i}", at=now - timedelta(days=i + 1)
        )
        for i in range(LIMIT + 1)
    ]
    current = factories.ticket(session, mailbox=box, user=user, subject="Nykyinen")
    session.add(
        Call(
            message_id=factories.message(session, earlier[0]).id or 0,
            ticket_id=earlier[0].id or 0,
            user_id=user.id,
            topic="Puhelu laskusta",
        )
    )
    session.commit()
    doc = lxml.html.fromstring(logged_in.get(f"/tickets/{current.id}").text)
    [panel] = doc.xpath("//section[@data-testid='customer-history']")
    text = panel.text_content()
    assert "Aiempi 0" in text and f"Aiempi {LIMIT}" not in text and "Nykyinen" not in text
    assert "Puhelu laskusta" in text
    assert panel.xpath(".//a[@data-testid='history-all']/@href") == ["/users/100102"]
