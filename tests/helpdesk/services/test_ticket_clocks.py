"""A ticket's stored clocks: set by replies, closings, reopenings and cancels, and by the
backfill from the thread, with the same figures either way."""

from __future__ import annotations

from datetime import timedelta

import factories
import pytest
from report_fixtures import HELSINKI, hki
from sqlmodel import Session, select

from helpdesk.models import Message, MessageKind, OutboundMail, Ticket, utcnow
from helpdesk.service_hours import ServiceCalendar
from helpdesk.services import outgoing, replies, ticket_clocks, tickets
from helpdesk.settings import get_settings

CAL = ServiceCalendar()
STORED = ticket_clocks.STORED


def _stored(session: Session) -> dict[int, tuple[object, ...]]:
    session.expire_all()
    return {t.id or 0: tuple(getattr(t, n) for n in STORED) for t in session.exec(select(Ticket))}


def _reply(session: Session, ticket: Ticket, agent, at) -> Message:  # type: ignore[no-untyped-def]
    message = tickets.add_message(
        session,
        ticket=ticket,
        kind=MessageKind.outgoing,
        text="Vastaus",
        author=agent,
        created_at=at,
    )
    session.commit()
    return message


def test_first_reply_after_the_first_mail_is_the_first_response(session: Session) -> None:
    box, agent = factories.mailbox(session), factories.agent(session)
    # Thursday 5.12.2024 14:00; Friday is Itsenäisyyspäivä, then a weekend.
    ticket = factories.ticket(session, mailbox=box, at=hki(5, 14))
    assert ticket.first_incoming_at == hki(5, 14) and ticket.first_response_at is None

    # Mail from the Sent folder (no author) answers nobody; the agent's Monday reply does.
    tickets.add_message(session, ticket=ticket, kind=MessageKind.outgoing, created_at=hki(5, 15))
    _reply(session, ticket, agent, hki(9, 11))
    _reply(session, ticket, agent, hki(9, 12))
    assert ticket.first_response_at == hki(9, 11)
    assert ticket.first_response_seconds == 2 * 3600  # Thu 14-15, Mon 10-11


def test_a_ticket_we_started_waits_for_the_customers_mail(session: Session) -> None:
    agent = factories.agent(session)
    ticket = tickets.open_ticket(session, subject="Soitto", created_at=hki(3, 11))
    _reply(session, ticket, agent, hki(3, 11))
    assert (ticket.first_incoming_at, ticket.first_response_at) == (None, None)
    tickets.add_message(session, ticket=ticket, kind=MessageKind.incoming, created_at=hki(3, 12))
    _reply(session, ticket, agent, hki(3, 13, 30))
    assert (ticket.first_response_at, ticket.first_response_seconds) == (hki(3, 13, 30), 5400)


def test_closing_sets_the_resolution_and_reopening_clears_it(session: Session) -> None:
    agent = factories.agent(session)
    ticket = factories.ticket(session, mailbox=factories.mailbox(session), at=hki(3, 16))
    before = utcnow()
    tickets.set_status(session, ticket=ticket, status="closed", by=agent)
    assert ticket.resolved_at is not None and before <= ticket.resolved_at <= utcnow()
    assert ticket.resolution_seconds == ticket_clocks.business_seconds(
        hki(3, 16), ticket.resolved_at, CAL
    )
    first_close = ticket.resolved_at

    tickets.set_status(session, ticket=ticket, status="open", by=agent)
    assert (ticket.resolved_at, ticket.resolution_seconds) == (None, None)
    tickets.set_status(session, ticket=ticket, status="closed", by=agent)
    assert ticket.resolved_at is not None and ticket.resolved_at >= first_close  # the last close
    # Pending is not closed either.
    tickets.set_status(session, ticket=ticket, status="pending", by=agent)
    assert ticket.resolved_at is None


def test_a_cancelled_first_reply_gives_the_clock_back(
    session: Session, data_dir: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, agent = factories.mailbox(session), factories.agent(session)
    ticket = factories.ticket(session, mailbox=box, at=utcnow() - timedelta(days=3))
    first = replies.reply(session, ticket=ticket, agent=agent, body="Ensimmäinen")
    assert ticket.first_response_at == first.created_at
    second = replies.reply(session, ticket=ticket, agent=agent, body="Toinen")

    outbound = session.exec(
        select(OutboundMail).where(OutboundMail.message_row_id == first.id)
    ).one()
    outgoing.cancel(session, outbound=outbound, agent=agent)
    session.refresh(ticket)
    assert ticket.first_response_at == second.created_at
    assert ticket.first_response_seconds == ticket_clocks.business_seconds(
        ticket.first_incoming_at,
        second.created_at,  # type: ignore[arg-type]
    )
    outbound = session.exec(
        select(OutboundMail).where(OutboundMail.message_row_id == second.id)
    ).one()
    outgoing.cancel(session, outbound=outbound, agent=agent)
    session.refresh(ticket)
    assert (ticket.first_response_at, ticket.first_response_seconds) == (None, None)


def test_the_backfill_finds_what_the_writes_stored(session: Session, data_dir: object) -> None:
    box, agent = factories.mailbox(session), factories.agent(session)
    a = factories.ticket(session, mailbox=box, at=hki(5, 14))
    _reply(session, a, agent, hki(9, 11))
    tickets.set_status(session, ticket=a, status="closed", by=agent)
    b = factories.ticket(session, mailbox=box, at=hki(2, 9))
    tickets.set_status(session, ticket=b, status="closed", by=agent)
    tickets.set_status(session, ticket=b, status="open", by=agent)
    c = factories.ticket(session, mailbox=box, at=utcnow() - timedelta(hours=30))
    replies.reply(session, ticket=c, agent=agent, body="Vastaus")
    written = _stored(session)
    assert written[a.id or 0][2] == 7200 and written[b.id or 0][3] is None

    session.exec(  # type: ignore[call-overload]
        Ticket.__table__.update().values(  # type: ignore[attr-defined]
            {name: None for name in STORED}
        )
    )
    assert ticket_clocks.backfill(session.connection(), CAL) == 3
    session.commit()
    assert _stored(session) == written
    # Run again (a migration retried): nothing differs, nothing is written.
    assert ticket_clocks.backfill(session.connection(), CAL) == 0


def test_the_inbox_clocks_run_while_waiting_and_stop_when_done(session: Session) -> None:
    agent = factories.agent(session)
    box = factories.mailbox(session)
    waiting = factories.ticket(session, mailbox=box, at=hki(5, 14))
    answered = factories.ticket(session, mailbox=box, at=hki(5, 14))
    _reply(session, answered, agent, hki(9, 11))
    phone = tickets.open_ticket(session, subject="Puhelu", created_at=hki(9, 10))
    session.commit()
    now = hki(9, 12, 30)
    tickets.set_status(session, ticket=answered, status="closed", by=agent)
    answered.resolved_at, answered.resolution_seconds = hki(9, 12), 3 * 3600
    found = ticket_clocks.clocks_of([waiting, answered, phone], now, CAL)

    w, a, p = found[waiting.id or 0], found[answered.id or 0], found[phone.id or 0]
    assert (w.first_response_seconds, w.first_response_running) == (int(3.5 * 3600), True)
    assert (w.resolution_seconds, w.resolution_running) == (int(3.5 * 3600), True)
    assert (a.first_response_seconds, a.first_response_running) == (7200, False)
    assert (a.resolution_seconds, a.resolution_running) == (3 * 3600, False)
    assert (p.first_response_seconds, p.first_response_running) == (None, False)
    assert (p.resolution_seconds, p.resolution_running) == (int(2.5 * 3600), True)
    assert HELSINKI and get_settings()
