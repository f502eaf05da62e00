"""Logging phone calls: known and unknown callers, new tickets and appended ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories
import pytest
from sqlmodel import select

from helpdesk.models import (
    AuditEvent,
    Call,
    Channel,
    Message,
    MessageKind,
    TicketLink,
    TicketStatus,
    utcnow,
)
from helpdesk.services import calls, linking
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError


@pytest.mark.parametrize(
    ("typed", "seconds"),
    [
        ("", 0),
        ("5", 300),
        ("5:30", 330),
        ("0:45", 45),
        ("90s", 90),
        ("4 min", 240),
        ("12.05", 725),
        ("1 m", 60),
    ],
)
def test_durations_as_agents_type_them(typed: str, seconds: int) -> None:
    assert calls.parse_duration(typed) == seconds


@pytest.mark.parametrize("typed", ["viisi", "5:75", "-3", "1:2:3", "5:3"])
def test_bad_durations(typed: str) -> None:
    with pytest.raises(ServiceError):
        calls.parse_duration(typed)


def test_known_caller_by_phone_gets_a_new_phone_ticket(session) -> None:
    agent = factories.agent(session)
    matti = factories.user(
        session,
        "100102",
        name="Matti Virtanen",
        emails=("matti@example.fi",),
        phones=("+358401234567",),
    )
    started = utcnow() - timedelta(minutes=10)
    call = calls.log_call(
        session,
        by=agent,
        phone="040 123 4567",
        started_at=started,
        duration_seconds=330,
        topic="Laskun eräpäivä",
        notes="Kysyi eräpäivän siirrosta. Neuvottu.",
    )
    ticket = ticket_service.get_ticket(session, call.ticket_id)
    assert ticket.channel == Channel.phone
    assert ticket.user_id == matti.id
    assert ticket.subject == "Laskun eräpäivä"
    assert ticket.customer_email == "matti@example.fi"
    assert (call.user_id, call.phone, call.duration_seconds) == (matti.id, "+358401234567", 330)
    assert call.started_at == started
    [message] = ticket_service.thread(session, ticket)
    assert message.kind == MessageKind.call and message.id == call.message_id
    assert message.text == "Kysyi eräpäivän siirrosta. Neuvottu."
    assert message.author_id == agent.id
    link = session.exec(select(TicketLink).where(TicketLink.ticket_id == ticket.id)).one()
    assert (link.target, link.state) == ("100102", "linked")
    assert (
        session.exec(select(AuditEvent).where(AuditEvent.action == "call.log")).one().agent_id
        == agent.id
    )


def test_call_appended_to_the_users_open_ticket(session) -> None:
    agent = factories.agent(session)
    aino = factories.user(session, "100233", name="Aino Korhonen")
    ticket = factories.ticket(session, user=aino, subject="Laskun hyvitys")
    closed = factories.ticket(session, user=aino, subject="Vanha asia")
    ticket_service.set_status(session, ticket=closed, status="closed", by=agent)
    assert [t.id for t in calls.open_tickets_of(session, aino)] == [ticket.id]
    call = calls.log_call(
        session,
        by=agent,
        user=aino,
        ticket=ticket,
        direction="outgoing",
        topic="Soitin takaisin",
        notes="Hyvitys tehty.",
        close=True,
    )
    assert call.ticket_id == ticket.id
    assert call.direction == "outgoing"
    assert ticket.message_count == 2
    assert ticket.status == TicketStatus.closed
    kinds = [m.kind for m in ticket_service.thread(session, ticket)]
    assert kinds == [MessageKind.incoming, MessageKind.call]


def test_unknown_caller_is_saved_and_linked_later(session) -> None:
    agent = factories.agent(session)
    call = calls.log_call(session, by=agent, phone="+46 8 123 456 78", notes="Soitti Ruotsista")
    ticket = ticket_service.get_ticket(session, call.ticket_id)
    assert ticket.user_id is None and call.user_id is None
    assert call.phone == "+46812345678"
    assert "+46 8 123 456 78" in ticket.subject
    user = factories.user(session, "100512", name="Pekka Hämäläinen")
    linking.link_user(session, ticket=ticket, user=user, by=agent)
    session.refresh(call)
    assert call.user_id == user.id  # the call now shows on the user's page
    hidden = calls.log_call(session, by=agent, phone="salainen numero")
    assert hidden.phone == "salainen numero" and hidden.user_id is None


def test_shared_number_is_only_suggested(session) -> None:
    agent = factories.agent(session)
    factories.user(session, "100345", phones=("+35891234567",))
    factories.user(session, "100478", phones=("+35891234567",))
    call = calls.log_call(session, by=agent, phone="09 123 4567")
    ticket = ticket_service.get_ticket(session, call.ticket_id)
    assert ticket.user_id is None and call.user_id is None
    rows = session.exec(select(TicketLink).where(TicketLink.ticket_id == ticket.id)).all()
    assert {(r.target, r.state) for r in rows} == {("100345", "suggested"), ("100478", "suggested")}


def test_bad_calls_are_refused(session) -> None:
    agent = factories.agent(session)
    with pytest.raises(ServiceError):
        calls.log_call(session, by=agent, direction="sideways")
    with pytest.raises(ServiceError):
        calls.log_call(session, by=agent, started_at=datetime(2026, 3, 27, 10, 0))
    with pytest.raises(ServiceError):
        calls.log_call(session, by=agent, started_at=datetime.now(UTC) + timedelta(hours=2))
    with pytest.raises(ServiceError):
        calls.log_call(session, by=agent, duration_seconds=-1)
    assert session.exec(select(Call)).all() == []
    assert session.exec(select(Message)).all() == []


def test_recent_calls_newest_first(session) -> None:
    agent = factories.agent(session)
    user = factories.user(session)
    first = calls.log_call(session, by=agent, user=user, started_at=utcnow() - timedelta(hours=2))
    second = calls.log_call(
        session, by=agent, phone="0401111111", started_at=utcnow() - timedelta(hours=1)
    )
    assert [r.call.id for r in calls.recent(session)] == [second.id, first.id]
    assert [r.call.id for r in calls.recent(session, user=user)] == [first.id]


def test_call_to_a_user_without_a_number_uses_theirs(session) -> None:
    agent = factories.agent(session)
    user = factories.user(session, phones=("+358501112233",))
    call = calls.log_call(session, by=agent, user=user, direction="outgoing")
    assert call.phone == "+358501112233"


def test_call_without_topic_gets_a_finnish_subject(session) -> None:
    """The subject is written in the UI language, never left in English."""
    agent = factories.agent(session)
    call = calls.log_call(session, by=agent, phone="050 111 2222")
    ticket = ticket_service.get_ticket(session, call.ticket_id)
    assert ticket.subject == "Puhelu 050 1112222"
