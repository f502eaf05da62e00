"""Snooze: out of the open lists until its time, back by itself (marked), woken by the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import factories
import pytest

from helpdesk.models import MessageKind, utcnow
from helpdesk.services import inbox, snooze
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.services.inbox import TicketFilter

HELSINKI = ZoneInfo("Europe/Helsinki")


def _listed(session, status="active") -> list[int]:
    page = inbox.list_tickets(session, TicketFilter(status=status))
    return [r.ticket.id for r in page.rows]


def test_snoozed_ticket_leaves_the_open_list_and_comes_back_marked(session, admin):
    box = factories.mailbox(session)
    ticket = factories.ticket(session, mailbox=box)
    other = factories.ticket(session, mailbox=box, subject="Toinen")
    snooze.snooze(session, ticket=ticket, until=utcnow() + timedelta(hours=2), by=admin)

    assert _listed(session) == [other.id]
    assert _listed(session, "snoozed") == [ticket.id]
    assert _listed(session, "") == [other.id, ticket.id]  # "All" still has it
    counts = inbox.status_counts(session)
    assert counts["open"] == 1 and counts["snoozed"] == 1

    # Its time passes: nothing runs, yet every read sees it back, marked.
    ticket.snoozed_until = utcnow() - timedelta(seconds=1)
    session.add(ticket)
    session.commit()
    assert set(_listed(session)) == {ticket.id, other.id}
    assert _listed(session, "snoozed") == []
    assert snooze.is_back(ticket) and not snooze.is_snoozed(ticket)

    # An agent acts (a note): the mark goes.
    ticket_service.add_note(session, ticket=ticket, text="Soitin asiakkaalle", by=admin)
    session.refresh(ticket)
    assert ticket.snoozed_until is None


@pytest.mark.parametrize("act", ["status", "assign"])
def test_agent_actions_clear_the_mark_but_do_not_wake_a_sleeping_ticket(session, admin, act):
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    later = utcnow() + timedelta(hours=1)
    snooze.snooze(session, ticket=ticket, until=later, by=admin)

    def do() -> None:
        if act == "status":
            ticket_service.set_status(session, ticket=ticket, status="pending", by=admin)
        else:
            ticket_service.assign(session, ticket=ticket, assignee=admin, by=admin)

    do()
    session.refresh(ticket)
    assert ticket.snoozed_until == later  # still asleep
    ticket.snoozed_until = utcnow() - timedelta(minutes=1)
    session.add(ticket)
    session.commit()
    ticket_service.assign(session, ticket=ticket, assignee=None, by=admin)
    session.refresh(ticket)
    assert ticket.snoozed_until is None


def test_a_customer_reply_wakes_the_ticket_at_once(session, admin):
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    snooze.snooze(session, ticket=ticket, until=utcnow() + timedelta(days=3), by=admin)
    factories.message(session, ticket, text="Vielä yksi kysymys", kind=MessageKind.incoming)
    session.refresh(ticket)
    assert snooze.is_back(ticket)  # back, marked
    assert ticket.id in _listed(session)


def test_an_internal_note_does_not_wake_it(session, admin):
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    until = utcnow() + timedelta(days=1)
    snooze.snooze(session, ticket=ticket, until=until, by=admin)
    ticket_service.add_note(session, ticket=ticket, text="Odotetaan", by=admin)
    session.refresh(ticket)
    assert ticket.snoozed_until == until


def test_closing_ends_the_snooze(session, admin):
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    snooze.snooze(session, ticket=ticket, until=utcnow() + timedelta(days=1), by=admin)
    ticket_service.set_status(session, ticket=ticket, status="closed", by=admin)
    session.refresh(ticket)
    assert ticket.snoozed_until is None


@pytest.mark.parametrize("delta", [timedelta(seconds=-1), timedelta(days=400)])
def test_refuses_past_and_far_times(session, admin, delta):
    ticket = factories.ticket(session, mailbox=factories.mailbox(session))
    with pytest.raises(ServiceError) as caught:
        snooze.snooze(session, ticket=ticket, until=utcnow() + delta, by=admin)
    assert caught.value.field == "until"
    session.refresh(ticket)
    assert ticket.snoozed_until is None


def test_quick_picks_are_helsinki_mornings():
    # Friday 2026-12-04 14:00 in Helsinki (12:00 UTC).
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    picks = {p.key: p.until for p in snooze.quick_picks(now)}
    assert picks["later"] == now + timedelta(hours=3)
    assert picks["tomorrow"].astimezone(HELSINKI) == datetime(2026, 12, 5, 8, 0, tzinfo=HELSINKI)
    assert picks["monday"].astimezone(HELSINKI) == datetime(2026, 12, 7, 8, 0, tzinfo=HELSINKI)
    # On a Monday "next Monday" is a week ahead, across the spring DST change too.
    monday = datetime(2027, 3, 22, 9, 0, tzinfo=UTC)
    assert snooze.quick_picks(monday)[2].until.astimezone(HELSINKI) == datetime(
        2027, 3, 29, 8, 0, tzinfo=HELSINKI
    )
    assert snooze.quick_picks(monday)[2].until.utcoffset() == timedelta(0)


def test_picker_value_is_helsinki_wall_time():
    assert snooze.local_input("2026-12-24T08:30") == datetime(2026, 12, 24, 6, 30, tzinfo=UTC)
    with pytest.raises(ServiceError):
        snooze.local_input("huomenna")
