"""Read side of the inbox: filtered, keyset-paginated ticket lists and full-text search."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, column, or_, text
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from helpdesk.db import is_postgres
from helpdesk.models import (
    TICKET_NUMBER_OFFSET,
    Agent,
    EtunnusUser,
    Mailbox,
    Message,
    Ticket,
    TicketStatus,
)

PAGE_SIZE = 50
_WORD = re.compile(r"\w+", re.UNICODE)
_PG_TOKEN = re.compile(r"[\w@.+-]+", re.UNICODE)
_NUMBER = re.compile(r"^#?(\d{1,9})$")


@dataclass
class TicketFilter:
    """What the agent asked to see. ``assignee`` is an agent id, ``"me"`` or ``"none"``."""

    status: str | None = None
    mailbox: str | None = None
    assignee: str | None = None
    user: str | None = None
    q: str | None = None
    me: Agent | None = None

    def as_query(self) -> dict[str, str]:
        values = {
            "status": self.status,
            "mailbox": self.mailbox,
            "assignee": self.assignee,
            "user": self.user,
            "q": self.q,
        }
        return {k: v for k, v in values.items() if v}


@dataclass
class InboxRow:
    ticket: Ticket
    mailbox: Mailbox | None
    assignee: Agent | None
    user: EtunnusUser | None


@dataclass
class InboxPage:
    rows: list[InboxRow]
    next_cursor: str | None
    filters: TicketFilter
    counts: dict[str, int] = field(default_factory=dict)


def encode_cursor(ticket: Ticket) -> str:
    raw = f"{ticket.last_message_at.isoformat()}|{ticket.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, ident = raw.split("|", 1)
        return datetime.fromisoformat(stamp), int(ident)
    except (ValueError, UnicodeDecodeError):
        return None


def fts_query_sqlite(q: str) -> str | None:
    """User words as an FTS5 query: every word must appear, as a word prefix."""
    words = _WORD.findall(q)
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words[:12])


def fts_query_postgres(q: str) -> str | None:
    """User words as a tsquery string: every word (or address) must appear, as a prefix."""
    tokens = [t.strip(".-+") for t in _PG_TOKEN.findall(q)]
    tokens = [t for t in tokens if t]
    if not tokens:
        return None
    return " & ".join("'" + t.replace("'", "''").replace("\\", "") + "':*" for t in tokens[:12])


def _matching_ticket_ids(session: Session, q: str) -> Any:
    """A subquery of ticket ids whose messages match ``q``."""
    if is_postgres(session):
        tsq = fts_query_postgres(q)
        if tsq is None:
            return None
        return (
            text("SELECT ticket_id FROM message WHERE search_vector @@ to_tsquery('simple', :tsq)")
            .bindparams(tsq=tsq)
            .columns(column("ticket_id", Integer))
        )
    ftsq = fts_query_sqlite(q)
    if ftsq is None:
        return None
    return (
        text(
            "SELECT m.ticket_id FROM message_fts JOIN message m ON m.id = message_fts.rowid "
            "WHERE message_fts MATCH :q"
        )
        .bindparams(q=ftsq)
        .columns(column("ticket_id", Integer))
    )


def _apply_filters(session: Session, query: Select[Any], f: TicketFilter) -> Select[Any] | None:
    if f.status in {s.value for s in TicketStatus}:
        query = query.where(col(Ticket.status) == f.status)
    elif f.status == "active":
        query = query.where(col(Ticket.status).in_([TicketStatus.open, TicketStatus.pending]))
    if f.mailbox:
        mailbox = session.exec(select(Mailbox).where(Mailbox.address == f.mailbox.lower())).first()
        if mailbox is None:
            return None
        query = query.where(col(Ticket.mailbox_id) == mailbox.id)
    if f.assignee == "me" and f.me is not None:
        query = query.where(col(Ticket.assignee_id) == f.me.id)
    elif f.assignee == "none":
        query = query.where(col(Ticket.assignee_id).is_(None))
    elif f.assignee and f.assignee.isdigit():
        query = query.where(col(Ticket.assignee_id) == int(f.assignee))
    if f.user:
        user = session.exec(select(EtunnusUser).where(EtunnusUser.etunnus == f.user)).first()
        if user is None:
            return None
        query = query.where(col(Ticket.user_id) == user.id)
    if f.q and f.q.strip():
        q = f.q.strip()
        number = _NUMBER.match(q)
        matches = _matching_ticket_ids(session, q)
        conditions: list[Any] = []
        if matches is not None:
            conditions.append(col(Ticket.id).in_(matches))
        if number and int(number.group(1)) > TICKET_NUMBER_OFFSET:
            conditions.append(col(Ticket.number) == int(number.group(1)))
        if not conditions:
            return None
        query = query.where(or_(*conditions))
    return query


def list_tickets(
    session: Session, f: TicketFilter, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> InboxPage:
    """One page of tickets, newest activity first, continuing after ``cursor``."""
    query = _apply_filters(session, select(Ticket), f)
    if query is None:
        return InboxPage(rows=[], next_cursor=None, filters=f)
    position = decode_cursor(cursor) if cursor else None
    if position is not None:
        stamp, ident = position
        query = query.where(
            or_(
                col(Ticket.last_message_at) < stamp,
                and_(col(Ticket.last_message_at) == stamp, col(Ticket.id) < ident),
            )
        )
    query = query.order_by(col(Ticket.last_message_at).desc(), col(Ticket.id).desc()).limit(
        limit + 1
    )
    tickets = list(session.exec(query))  # type: ignore[call-overload]
    more = len(tickets) > limit
    tickets = tickets[:limit]
    return InboxPage(
        rows=hydrate(session, tickets),
        next_cursor=encode_cursor(tickets[-1]) if more and tickets else None,
        filters=f,
    )


def hydrate(session: Session, tickets: list[Ticket]) -> list[InboxRow]:
    """Attach each ticket's mailbox, assignee and user with one query per kind."""

    def by_id(model: Any, ids: set[int | None]) -> dict[int, Any]:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        return {row.id: row for row in session.exec(select(model).where(col(model.id).in_(wanted)))}

    mailboxes = by_id(Mailbox, {t.mailbox_id for t in tickets})
    agents = by_id(Agent, {t.assignee_id for t in tickets})
    users = by_id(EtunnusUser, {t.user_id for t in tickets})
    return [
        InboxRow(
            ticket=t,
            mailbox=mailboxes.get(t.mailbox_id or 0),
            assignee=agents.get(t.assignee_id or 0),
            user=users.get(t.user_id or 0),
        )
        for t in tickets
    ]


def status_counts(session: Session) -> dict[str, int]:
    """How many tickets are in each status (for the inbox tabs)."""
    from sqlalchemy import func

    rows = session.exec(select(Ticket.status, func.count()).group_by(Ticket.status))
    return {str(status): int(count) for status, count in rows}


def message_count_since(session: Session, since: datetime, kind: str) -> int:
    from sqlalchemy import func

    query = (
        select(func.count())
        .select_from(Message)
        .where(Message.kind == kind, col(Message.created_at) >= since)
    )
    return int(session.exec(query).one())
