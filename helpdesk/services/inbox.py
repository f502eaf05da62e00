"""Read side of the inbox: filtered, keyset-paginated ticket lists and full-text search."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import and_, false, func, or_, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from helpdesk.db import is_postgres
from helpdesk.models import (
    TICKET_NUMBER_OFFSET,
    Agent,
    EtunnusUser,
    Mailbox,
    Message,
    Tag,
    Ticket,
    TicketStatus,
    utcnow,
)
from helpdesk.models.tickets import TicketClocks
from helpdesk.services import search, tags, ticket_clocks
from helpdesk.values import as_id

PAGE_SIZE = 50
_NUMBER = re.compile(r"^#?(\d{1,9})$")
#: The start of an E-tunnus number (six digits), typed alone or as "100102%".
_USER_NUMBER = re.compile(r"(?<![\w#])(\d{3,6})(?!\w)%?")
#: Seconds the count of closed tickets is reused (see ``status_counts``).
CLOSED_COUNT_SECONDS = 30.0
_closed_counts: dict[str, tuple[float, int]] = {}


@dataclass
class TicketFilter:
    """What the agent asked to see. ``assignee`` is an agent id, ``"me"`` or ``"none"``;
    ``tag`` a tag's name in any case."""

    status: str | None = None
    mailbox: str | None = None
    assignee: str | None = None
    user: str | None = None
    q: str | None = None
    me: Agent | None = None
    tag: str | None = None

    #: The filters a query string (and a saved view) holds, in the order they are shown.
    KEYS = ("status", "mailbox", "assignee", "tag", "user", "q")

    def as_query(self) -> dict[str, str]:
        return {k: v for k in self.KEYS if (v := getattr(self, k))}

    def narrowed(self) -> bool:
        """Whether a filter other than the status is on (the counts then follow it)."""
        return any((self.mailbox, self.assignee, self.user, self.tag, (self.q or "").strip()))

    @classmethod
    def from_query(cls, values: dict[str, str], me: Agent | None) -> TicketFilter:
        """The filters of a saved view (or any mapping of query values); others are ignored."""
        return cls(me=me, **{k: str(values[k]) for k in cls.KEYS if values.get(k)})


@dataclass
class InboxRow:
    ticket: Ticket
    mailbox: Mailbox | None
    assignee: Agent | None
    user: EtunnusUser | None
    clocks: TicketClocks
    tags: list[Tag] = field(default_factory=list)


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
        number = as_id(ident)  # a forged cursor's id may be larger than any column holds
        return (datetime.fromisoformat(stamp), number) if number is not None else None
    except (ValueError, UnicodeDecodeError):
        return None


#: The ticket table again, for subqueries over it (made once: a new alias per call would
#: miss SQLAlchemy's statement cache).
_OTHER = aliased(Ticket)
#: The views that are not a status: snoozed tickets and spam.
SNOOZED, SPAM = "snoozed", "spam"


def _views(status: str | None, now: datetime) -> list[Any]:
    """Spam only in the Spam view; snoozed tickets only in their view and in "All"."""
    if status == SPAM:
        return [col(Ticket.spam) == true()]
    conditions: list[Any] = [col(Ticket.spam) == false()]
    if status == SNOOZED:
        # As a subquery: SQLite, not knowing the page's LIMIT, would otherwise walk every
        # ticket by activity looking for the few asleep instead of reading the index.
        sleeper = _OTHER
        asleep = select(sleeper.id).where(col(sleeper.snoozed_until) > now)
        conditions.append(col(Ticket.id).in_(asleep))
    elif status:
        conditions.append(
            or_(col(Ticket.snoozed_until).is_(None), col(Ticket.snoozed_until) <= now)
        )
    return conditions


def _apply_filters(session: Session, query: Select[Any], f: TicketFilter) -> Select[Any] | None:
    query = query.where(*_views(f.status, utcnow()))
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
    elif (assignee_id := as_id(f.assignee)) is not None:
        query = query.where(col(Ticket.assignee_id) == assignee_id)
    elif f.assignee:
        return None  # an assignee we cannot resolve matches nothing (never "anyone")
    if f.user:
        user = session.exec(select(EtunnusUser).where(EtunnusUser.etunnus == f.user)).first()
        if user is None:
            return None
        query = query.where(col(Ticket.user_id) == user.id)
    if f.tag:
        tag = tags.find(session, f.tag)
        if tag is None:
            return None
        query = query.where(tags.tagged_condition(tag))
    return query


def _search_condition(
    session: Session, q: str, from_message_id: int | None = None, in_order: bool | None = None
) -> Any:
    """Tickets whose messages match the words of ``q``, or whose number it is (#1042), or
    linked to the E-tunnus user whose number its numbers begin (the rest of its words in
    one message): "100102" finds the user's tickets whose text never names the number."""
    number = _NUMBER.match(q)
    conditions: list[Any] = []
    matches = search.text_match(session, q, from_message_id=from_message_id, in_order=in_order)
    if matches is not None:
        conditions.append(matches)
    if number and int(number.group(1)) > TICKET_NUMBER_OFFSET:
        conditions.append(col(Ticket.number) == int(number.group(1)))
    numbers = _USER_NUMBER.findall(q)
    if numbers:
        users = select(EtunnusUser.id).where(
            *(col(EtunnusUser.etunnus).startswith(n, autoescape=True) for n in numbers)
        )
        linked: Any = col(Ticket.user_id).in_(users)
        rest = _USER_NUMBER.sub(" ", q).strip()
        if rest:
            others = search.text_match(
                session, rest, from_message_id=from_message_id, in_order=in_order
            )
            linked = and_(linked, others) if others is not None else None
        if linked is not None:
            conditions.append(linked)
    return or_(*conditions) if conditions else None


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
    order: list[Any] = [col(Ticket.last_message_at).desc(), col(Ticket.id).desc()]
    q = (f.q or "").strip()
    tickets: list[Ticket] | None = None
    in_order: bool | None = None
    if q and not is_postgres(session):
        tickets, seen = search.first_in_window(
            session, query, partial(_search_condition, session, q), order, limit + 1
        )
        # Hits near the top mean a common word: walk on in order without counting them.
        in_order = True if seen >= search.DENSE else None
    if tickets is None:
        if q:
            condition = _search_condition(session, q, in_order=in_order)
            if condition is None:
                return InboxPage(rows=[], next_cursor=None, filters=f)
            query = query.where(condition)
        tickets = list(session.execute(query.order_by(*order).limit(limit + 1)).scalars())
    more = len(tickets) > limit
    tickets = tickets[:limit]
    return InboxPage(
        rows=hydrate(session, tickets),
        next_cursor=encode_cursor(tickets[-1]) if more and tickets else None,
        filters=f,
    )


def hydrate(session: Session, tickets: list[Ticket]) -> list[InboxRow]:
    """Attach each ticket's mailbox, assignee and user with one query per kind, and its
    clocks from its own columns (no query)."""

    def by_id(model: Any, ids: set[int | None]) -> dict[int, Any]:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        return {row.id: row for row in session.exec(select(model).where(col(model.id).in_(wanted)))}

    mailboxes = by_id(Mailbox, {t.mailbox_id for t in tickets})
    agents = by_id(Agent, {t.assignee_id for t in tickets})
    users = by_id(EtunnusUser, {t.user_id for t in tickets})
    clocks = ticket_clocks.clocks_of(tickets, utcnow())
    labels = tags.tags_by_ticket(session, (t.id for t in tickets))
    return [
        InboxRow(
            ticket=t,
            mailbox=mailboxes.get(t.mailbox_id or 0),
            assignee=agents.get(t.assignee_id or 0),
            user=users.get(t.user_id or 0),
            clocks=clocks[t.id or 0],
            tags=labels.get(t.id or 0, []),
        )
        for t in tickets
    ]


#: Filtered counts stop at this many per status (shown as "1000+"): a search for a common
#: word never counts every message it matches.
COUNT_CAP = 1000
#: With a search on, the status counts stop sooner ("100+"): past a hundred a count tells an
#: agent only to narrow the search, and each hit counted is a full-text look-up.
SEARCH_COUNT_CAP = 100


def count_cap(f: TicketFilter) -> int:
    """Where the status counts of ``f`` stop (a count above it is shown as "cap+")."""
    return SEARCH_COUNT_CAP if (f.q or "").strip() else COUNT_CAP


def status_counts(session: Session, f: TicketFilter | None = None) -> dict[str, int]:
    """How many tickets are in each status, among those the filters other than the status
    select (the mailbox, assignee, user and search the agent has on).

    Unfiltered, open and pending are counted exactly on every call (index-only range
    counts), and closed tickets, most of the table and growing forever, are counted once per
    ``CLOSED_COUNT_SECONDS`` per database. Filtered, each status is counted up to
    ``count_cap(f)`` (a value above the cap means "more than that").
    """
    if f is not None and f.narrowed():
        return _filtered_counts(session, f)
    active = [TicketStatus.open, TicketStatus.pending]
    moment = utcnow()

    # Every open and pending ticket counted from the index alone, less the few asleep or in
    # Spam (read through their own partial indexes): checking each row for those two would
    # read every open ticket's row.
    def by_status(*conditions: Any) -> dict[str, int]:
        query = select(Ticket.status, func.count()).where(col(Ticket.status).in_(active))
        rows = session.exec(query.where(*conditions).group_by(Ticket.status))
        return {str(status): int(count) for status, count in rows}

    counts = by_status()
    junk = _OTHER
    in_spam = col(Ticket.id).in_(select(junk.id).where(col(junk.spam) == true()))
    hidden = [by_status(in_spam), by_status(*_views(SNOOZED, moment))]
    for status in list(counts):
        counts[status] -= sum(h.get(status, 0) for h in hidden)
        if counts[status] <= 0:
            del counts[status]
    for view in (SNOOZED, SPAM):
        query = select(func.count()).select_from(Ticket).where(*_views(view, moment))
        if found := int(session.exec(query).one()):
            counts[view] = found
    key = str(session.get_bind().engine.url)
    now = time.monotonic()
    cached = _closed_counts.get(key)
    if cached is None or now - cached[0] > CLOSED_COUNT_SECONDS:
        closed = (
            select(func.count()).select_from(Ticket).where(Ticket.status == TicketStatus.closed)
        )
        total = int(session.exec(closed).one())  # from the index alone
        cached = (now, total - int(session.exec(closed.where(in_spam)).one()))
        _closed_counts[key] = cached
    if cached[1]:
        counts[TicketStatus.closed.value] = cached[1]
    return counts


def _matching(session: Session, f: TicketFilter, search: Any = None) -> Select[Any] | None:
    """The ids of the tickets ``f`` selects, its search included; None if none can match.
    ``search``: the condition of ``f``'s search, when the caller has made it already."""
    base = _apply_filters(session, select(Ticket.id), f)
    q = (f.q or "").strip()
    if q and search is None:
        search = _search_condition(session, q)
    if base is None or (q and search is None):
        return None
    return base.where(search) if search is not None else base


def count_matching(session: Session, f: TicketFilter) -> int:
    """How many tickets ``f`` selects, up to ``COUNT_CAP + 1`` (a saved view's count)."""
    base = _matching(session, f)
    if base is None:
        return 0
    capped = base.limit(COUNT_CAP + 1).subquery()
    return int(session.exec(select(func.count()).select_from(capped)).one())


def _filtered_counts(session: Session, f: TicketFilter) -> dict[str, int]:
    # The search is made once (on SQLite that counts its hits to choose how to match) and
    # serves every status and view; each status then only adds its own condition.
    q = (f.q or "").strip()
    search = _search_condition(session, q) if q else None
    base = _matching(session, replace(f, status="any"), search)
    if base is None:
        return {}
    counts: dict[str, int] = {}
    cap = count_cap(f)

    def capped_count(query: Select[Any]) -> int:
        capped = query.limit(cap + 1).subquery()
        return int(session.exec(select(func.count()).select_from(capped)).one())

    for status in TicketStatus:
        if found := capped_count(base.where(col(Ticket.status) == status)):
            counts[status.value] = found
    # The snoozed and spam tickets the same filters select (few: their own indexes).
    for view in (SNOOZED, SPAM):
        within = _matching(session, replace(f, status=view), search)
        if within is not None and (found := capped_count(within)):
            counts[view] = found
    return counts


def message_count_since(session: Session, since: datetime, kind: str) -> int:
    query = (
        select(func.count())
        .select_from(Message)
        .where(Message.kind == kind, col(Message.created_at) >= since)
    )
    return int(session.exec(query).one())
