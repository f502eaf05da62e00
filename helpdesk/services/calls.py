"""Phone calls: logged by an agent into a new phone ticket or one the user has open.

Each call is a ``call`` message in the ticket's thread plus a ``Call`` row with the
number, direction, start and duration. The caller is the user the agent chose, else the
one user who has the number; two users sharing the number are only suggested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.i18n import N_
from helpdesk.i18n import gettext as _
from helpdesk.models import (
    Agent,
    Call,
    CallDirection,
    CallRead,
    Channel,
    EtunnusUser,
    Message,
    MessageKind,
    Ticket,
    TicketStatus,
    utcnow,
)
from helpdesk.services import audit, linking, ticket_clocks
from helpdesk.services import people as people_service
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.services.link_evidence import Evidence

MAX_DURATION_SECONDS = 24 * 3600
#: Clocks differ a little between the agent's machine and the server.
_FUTURE_SLACK = timedelta(minutes=5)
_Row = TypeVar("_Row", EtunnusUser, Agent)
_SECONDS = re.compile(r"^(\d{1,5}) ?s$")
_MINUTES = re.compile(r"^(\d{1,4}) ?(?:min|m)?$")
_MINUTES_SECONDS = re.compile(r"^(\d{1,4})[:.](\d{2})$")


def parse_duration(text: str) -> int:
    """Seconds from what an agent types: ``5`` or ``4 min`` (minutes), ``5:30``, ``90s``."""
    value = " ".join(text.strip().lower().split())
    if not value:
        return 0
    if match := _SECONDS.match(value):
        seconds = int(match.group(1))
    elif match := _MINUTES.match(value):
        seconds = int(match.group(1)) * 60
    elif (match := _MINUTES_SECONDS.match(value)) and int(match.group(2)) < 60:
        seconds = int(match.group(1)) * 60 + int(match.group(2))
    else:
        raise ServiceError(
            _("Duration is minutes, or minutes:seconds: %(value)s") % {"value": text}
        )
    return min(seconds, MAX_DURATION_SECONDS)


def format_duration(seconds: int) -> str:
    """``m:ss`` as people read durations."""
    return f"{seconds // 60}:{seconds % 60:02d}"


def open_tickets_of(session: Session, user: EtunnusUser) -> list[Ticket]:
    """The user's open and pending tickets, latest activity first (offered in the call form)."""
    query = (
        select(Ticket)
        .where(Ticket.user_id == user.id)
        .where(col(Ticket.status).in_([TicketStatus.open, TicketStatus.pending]))
        .order_by(col(Ticket.last_message_at).desc())
        .limit(20)
    )
    return list(session.exec(query))


def start_time(started_at: datetime | None) -> datetime:
    """A call's start in UTC (now when not given); ServiceError about ``started_at`` when it
    has no time zone, leaves the calendar in UTC or lies in the future."""
    if started_at is not None and started_at.tzinfo is None:
        raise ServiceError(N_("The start time needs a time zone"), field="started_at")
    try:
        start = (started_at or utcnow()).astimezone(UTC)
    except OverflowError as exc:  # the first or last hours of year 1 or 9999 in UTC
        raise ServiceError(N_("The start time is not a date and time"), field="started_at") from exc
    if start > utcnow() + _FUTURE_SLACK:
        raise ServiceError(N_("The call cannot start in the future"), field="started_at")
    return start


def log_call(
    session: Session,
    *,
    by: Agent,
    phone: str | None = None,
    direction: CallDirection | str = CallDirection.incoming,
    started_at: datetime | None = None,
    duration_seconds: int = 0,
    topic: str = "",
    notes: str = "",
    user: EtunnusUser | None = None,
    ticket: Ticket | None = None,
    close: bool = False,
) -> Call:
    """Log a call into ticket, or into a new phone ticket; audited.

    ``started_at`` must be aware (stored in UTC); it defaults to now.
    """
    try:
        way = CallDirection(direction)
    except ValueError as exc:
        raise ServiceError(_("Unknown direction %(value)s") % {"value": direction}) from exc
    if not 0 <= duration_seconds <= MAX_DURATION_SECONDS:
        raise ServiceError(N_("The duration must be between 0 and 24 hours"))
    start = start_time(started_at)
    raw_phone = (phone or "").strip()
    number = people_service.parse_phone(raw_phone) if raw_phone else None
    stored_phone = number or (raw_phone[:32] or None)
    topic = " ".join(topic.split())[:300]
    matches: list[EtunnusUser] = []
    if user is None and number:
        matches = people_service.find_by_phone(session, number)
        if len(matches) == 1:
            user = matches[0]
    if stored_phone is None and user is not None:
        # Calling a user back: the number is the one on their record.
        known = people_service.phones_of(session, user)
        number = stored_phone = known[0] if known else None
    shown_phone = people_service.format_phone(number) if number else raw_phone
    with transaction(session):
        if ticket is None:
            emails = people_service.emails_of(session, user) if user else []
            # Outside the f-string, so that message extraction sees it.
            label = _("Phone call")
            ticket = ticket_service.open_ticket(
                session,
                subject=topic or f"{label} {shown_phone or ''}".strip(),
                channel=Channel.phone,
                customer_name=user.name if user else shown_phone or None,
                customer_email=emails[0] if emails else None,
                created_at=min(start, utcnow()),
            )
        message = ticket_service.add_message(
            session,
            ticket=ticket,
            kind=MessageKind.call,
            text=notes.strip(),
            subject=topic or ticket.subject,
            author=by,
            from_name=user.name if user else shown_phone or None,
            created_at=start,
        )
        if user is not None and ticket.user_id is None:
            linking.link_user(session, ticket=ticket, user=user, by=by)
        elif len(matches) > 1 and ticket.user_id is None:
            linking.apply(
                session, ticket, [Evidence(u.etunnus, "phone", shown_phone) for u in matches]
            )
        call = Call(
            message_id=message.id or 0,
            ticket_id=ticket.id or 0,
            user_id=user.id if user else None,
            agent_id=by.id,
            phone=stored_phone,
            direction=way,
            started_at=start,
            duration_seconds=duration_seconds,
            topic=topic,
        )
        session.add(call)
        closes = close and ticket.status != TicketStatus.closed
        old_status = ticket.status
        if closes:
            ticket.status = TicketStatus.closed
            session.add(ticket)
        session.flush()
        event = audit.record(
            session,
            action="call.log",
            agent=by,
            object_type="ticket",
            object_id=ticket.id,
            call_id=call.id,
            etunnus=user.etunnus if user else None,
            closed=closes or None,  # the call closed the ticket (its clock stops)
        )
        if closes:
            ticket_clocks.note_status(ticket, old=old_status, new=TicketStatus.closed, at=event.at)
    return call


@dataclass
class CallRow:
    """A call with what the lists show beside it."""

    call: Call
    ticket: Ticket
    user: EtunnusUser | None
    agent: Agent | None
    message: Message


def recent(session: Session, *, limit: int = 100, user: EtunnusUser | None = None) -> list[CallRow]:
    """The latest calls (of one user, when given), newest first."""
    query = (
        select(Call, Ticket, Message)
        .join(Ticket, col(Ticket.id) == col(Call.ticket_id))
        .join(Message, col(Message.id) == col(Call.message_id))
        .order_by(col(Call.started_at).desc(), col(Call.id).desc())
        .limit(limit)
    )
    if user is not None:
        query = query.where(Call.user_id == user.id)
    rows = list(session.exec(query))
    users = _by_id(session, EtunnusUser, {c.user_id for c, _, _ in rows})
    agents = _by_id(session, Agent, {c.agent_id for c, _, _ in rows})
    return [
        CallRow(
            call=c,
            ticket=t,
            message=m,
            user=users.get(c.user_id or 0),
            agent=agents.get(c.agent_id or 0),
        )
        for c, t, m in rows
    ]


def _by_id(session: Session, model: type[_Row], ids: set[int | None]) -> dict[int, _Row]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows: Any = session.exec(select(model).where(col(model.id).in_(wanted)))
    return {row.id: row for row in rows}


def calls_by_message(session: Session, messages: list[Message]) -> dict[int, Call]:
    """The Call rows behind the ``call`` messages of a thread."""
    ids = [m.id for m in messages if m.kind == MessageKind.call and m.id is not None]
    if not ids:
        return {}
    return {
        c.message_id: c for c in session.exec(select(Call).where(col(Call.message_id).in_(ids)))
    }


def call_read(session: Session, call: Call) -> CallRead:
    """The API shape of a call."""
    ticket = session.get(Ticket, call.ticket_id)
    message = session.get(Message, call.message_id)
    user = session.get(EtunnusUser, call.user_id) if call.user_id else None
    agent = session.get(Agent, call.agent_id) if call.agent_id else None
    return CallRead(
        id=call.id or 0,
        ticket_id=call.ticket_id,
        ticket_number=ticket.number if ticket else None,
        message_id=call.message_id,
        user=user.etunnus if user else None,
        agent=agent.email if agent else None,
        phone=call.phone,
        direction=str(call.direction),
        started_at=call.started_at,
        duration_seconds=call.duration_seconds,
        topic=call.topic,
        notes=message.text if message else "",
    )
