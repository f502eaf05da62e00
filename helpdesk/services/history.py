"""A user's history: their tickets, messages and calls in one timeline, and today's numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import false, func, or_
from sqlmodel import Session, col, select

from helpdesk import service_hours
from helpdesk.models import (
    Call,
    EtunnusUser,
    Message,
    MessageKind,
    Ticket,
    TicketStatus,
    utcnow,
)

TIMELINE_LIMIT = 300


@dataclass
class TimelineEntry:
    """One thing that happened: a ticket opened, or a message or call in one."""

    at: datetime
    ticket: Ticket
    message: Message | None = None
    call: Call | None = None

    @property
    def kind(self) -> str:
        return str(self.message.kind) if self.message else "ticket"


@dataclass
class History:
    tickets: list[Ticket]
    timeline: list[TimelineEntry]
    truncated: bool


def user_history(session: Session, user: EtunnusUser, *, limit: int = TIMELINE_LIMIT) -> History:
    """Every ticket of the user (linked, or holding a call of theirs) and, newest first,
    the tickets' messages and calls as one timeline (the latest ``limit`` entries)."""
    call_tickets = select(Call.ticket_id).where(Call.user_id == user.id)
    tickets = list(
        session.exec(
            select(Ticket)
            .where(or_(col(Ticket.user_id) == user.id, col(Ticket.id).in_(call_tickets)))
            .order_by(col(Ticket.last_message_at).desc(), col(Ticket.id).desc())
        )
    )
    by_id = {t.id: t for t in tickets}
    messages = list(
        session.exec(
            select(Message)
            .where(col(Message.ticket_id).in_(list(by_id)))
            .order_by(col(Message.created_at).desc(), col(Message.id).desc())
            .limit(limit + 1)
        )
    )
    truncated = len(messages) > limit
    messages = messages[:limit]
    call_ids = [m.id for m in messages if m.kind == MessageKind.call]
    calls = {
        c.message_id: c
        for c in session.exec(select(Call).where(col(Call.message_id).in_(call_ids)))
    }
    entries = [
        TimelineEntry(
            at=m.created_at, ticket=by_id[m.ticket_id], message=m, call=calls.get(m.id or 0)
        )
        for m in messages
    ]
    oldest = messages[-1].created_at if truncated and messages else None
    entries += [
        TimelineEntry(at=t.created_at, ticket=t)
        for t in tickets
        if oldest is None or t.created_at >= oldest
    ]
    # A ticket's opening sorts after (below) its first message at the same moment.
    entries.sort(key=lambda e: (e.at, e.message is not None), reverse=True)
    return History(tickets=tickets, timeline=entries, truncated=truncated)


@dataclass
class Today:
    """The dashboard's numbers for today (Helsinki day)."""

    new_mails: int
    open_tickets: int
    pending_tickets: int
    calls_logged: int
    unanswered: list[Ticket]
    service: service_hours.ServiceState


def today(session: Session, now: datetime | None = None) -> Today:
    """Today's new mails, open tickets, calls and the oldest unanswered tickets."""
    moment = now or utcnow()
    calendar = service_hours.calendar_from_settings()
    midnight = datetime.combine(calendar.local(moment).date(), time(0), tzinfo=calendar.zone)

    def count(query: object) -> int:
        return int(session.exec(query).one())  # type: ignore[call-overload]

    new_mails = count(
        select(func.count())
        .select_from(Message)
        .where(Message.kind == MessageKind.incoming, col(Message.created_at) >= midnight)
    )
    by_status = dict(
        session.exec(select(Ticket.status, func.count()).group_by(Ticket.status)).all()
    )
    calls = count(select(func.count()).select_from(Call).where(col(Call.started_at) >= midnight))
    unanswered = list(
        session.exec(
            select(Ticket)
            .where(Ticket.status == TicketStatus.open, col(Ticket.spam) == false())
            .where(col(Ticket.last_incoming_at).is_not(None))
            .where(
                or_(
                    col(Ticket.last_agent_reply_at).is_(None),
                    col(Ticket.last_agent_reply_at) < col(Ticket.last_incoming_at),
                )
            )
            .order_by(col(Ticket.last_incoming_at), col(Ticket.id))
            .limit(5)
        )
    )
    return Today(
        new_mails=new_mails,
        open_tickets=int(by_status.get(TicketStatus.open, 0)),
        pending_tickets=int(by_status.get(TicketStatus.pending, 0)),
        calls_logged=calls,
        unanswered=unanswered,
        service=service_hours.state(moment, calendar),
    )
