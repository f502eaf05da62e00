"""Ticket services: numbering, thread counters, status, assignment and notes (all audited)."""

from __future__ import annotations

from datetime import timedelta

import factories
import pytest
from sqlmodel import select

from helpdesk.models import (
    TICKET_NUMBER_OFFSET,
    AuditEvent,
    Message,
    MessageKind,
    Ticket,
    TicketStatus,
    utcnow,
)
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import NotFound, ServiceError


def _audit(session, action):
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_tickets_get_human_numbers(session):
    first = factories.ticket(session)
    second = factories.ticket(session)
    assert first.number == TICKET_NUMBER_OFFSET + first.id
    assert second.number == first.number + (second.id - first.id)
    assert ticket_service.get_by_number(session, second.number).id == second.id


def test_messages_update_the_ticket_counters(session):
    start = utcnow() - timedelta(hours=2)
    ticket = factories.ticket(session, at=start)
    assert ticket.message_count == 1
    assert ticket.last_message_at == start
    assert ticket.last_incoming_at == start
    later = start + timedelta(hours=1)
    ticket_service.add_message(
        session, ticket=ticket, kind=MessageKind.outgoing, text="Vastaus", created_at=later
    )
    session.commit()
    assert ticket.message_count == 2
    assert ticket.last_message_at == later
    assert ticket.last_agent_reply_at == later
    # An older message arriving late (a delayed mail) does not move activity backwards.
    ticket_service.add_message(
        session, ticket=ticket, kind=MessageKind.incoming, created_at=start - timedelta(days=1)
    )
    session.commit()
    assert ticket.last_message_at == later
    assert [m.created_at for m in ticket_service.thread(session, ticket)] == sorted(
        m.created_at for m in ticket_service.thread(session, ticket)
    )


def test_nul_bytes_are_stripped_from_text(session):
    ticket = factories.ticket(session)
    message = ticket_service.add_message(
        session, ticket=ticket, kind=MessageKind.incoming, text="a\x00b"
    )
    session.commit()
    assert session.get(Message, message.id).text == "ab"


def test_set_status_audits_only_real_changes(session, admin):
    ticket = factories.ticket(session)
    ticket_service.set_status(session, ticket=ticket, status="closed", by=admin)
    ticket_service.set_status(session, ticket=ticket, status=TicketStatus.closed, by=admin)
    assert session.get(Ticket, ticket.id).status == TicketStatus.closed
    [event] = _audit(session, "ticket.status")
    assert (event.agent_id, event.object_type, event.object_id) == (
        admin.id,
        "ticket",
        str(ticket.id),
    )
    with pytest.raises(ServiceError):
        ticket_service.set_status(session, ticket=ticket, status="archived", by=admin)


def test_assign_and_unassign(session, admin):
    ticket = factories.ticket(session)
    other = factories.agent(session)
    ticket_service.assign(session, ticket=ticket, assignee=other, by=admin)
    assert ticket.assignee_id == other.id
    ticket_service.assign(session, ticket=ticket, assignee=None, by=admin)
    assert ticket.assignee_id is None
    assert len(_audit(session, "ticket.assign")) == 2


def test_cannot_assign_to_inactive_agent(session, admin):
    ticket = factories.ticket(session)
    other = factories.agent(session)
    other.active = False
    session.add(other)
    session.commit()
    with pytest.raises(ServiceError):
        ticket_service.assign(session, ticket=ticket, assignee=other, by=admin)
    assert ticket.assignee_id is None


def test_notes_are_internal_and_audited(session, admin):
    ticket = factories.ticket(session)
    note = ticket_service.add_note(session, ticket=ticket, text="  Tarkistettu.  ", by=admin)
    assert (note.kind, note.text, note.author_id, note.from_name) == (
        MessageKind.note,
        "Tarkistettu.",
        admin.id,
        admin.name,
    )
    assert note.to_addresses == [] and note.from_address is None
    [event] = _audit(session, "ticket.note")
    assert event.details == {"message_id": note.id}
    with pytest.raises(ServiceError, match="empty"):
        ticket_service.add_note(session, ticket=ticket, text=" \n ", by=admin)


def test_get_ticket_raises_not_found(session):
    with pytest.raises(NotFound):
        ticket_service.get_ticket(session, 987654)


def test_participants(session):
    ticket = factories.ticket(session, customer="Asiakas@Example.fi")
    ticket_service.add_message(
        session,
        ticket=ticket,
        kind=MessageKind.incoming,
        from_address="toinen@example.fi",
        cc=["kolmas@example.fi"],
    )
    session.commit()
    people = ticket_service.participants(session, ticket)
    assert {"asiakas@example.fi", "toinen@example.fi", "kolmas@example.fi"} <= people
