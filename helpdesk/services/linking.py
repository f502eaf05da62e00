"""Linking tickets to E-tunnus users (and, through plugins, to invoices).

Evidence (``link_evidence``) comes from the sender's address, from e-tunnus, invoice and
reference numbers in the subject and text (``helpdesk.numbers``) and from plugin linkers
(``helpdesk_link_text``). One user behind all of it: the ticket is linked to them. Two or
more: each is only suggested and ``ticket.user_id`` stays as it was; an agent decides.
Links an agent removed are kept as ``dismissed`` so they are never made again.

``link_new_messages`` (mail-in, for a whole group of new messages), ``link_ticket`` and
``apply`` are steps inside the caller's unit of work; the other public functions are
units of work of their own (``helpdesk.db.transaction``; inside another unit they join it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from helpdesk.db import reread, transaction
from helpdesk.hookspecs import FoundLink
from helpdesk.i18n import N_
from helpdesk.models import (
    Agent,
    Call,
    EtunnusUser,
    Message,
    MessageKind,
    Ticket,
    TicketLink,
    utcnow,
)
from helpdesk.services import audit
from helpdesk.services import people as people_service
from helpdesk.services.errors import NotFound
from helpdesk.services.link_evidence import (
    USER,
    Evidence,
    NewMessage,
    gather,
    message_evidence,
)

log = logging.getLogger(__name__)

LINKED, SUGGESTED, DISMISSED = "linked", "suggested", "dismissed"
AUTO, MANUAL = "auto", "manual"


@dataclass
class LinkResult:
    """What ``link_ticket`` decided."""

    linked: EtunnusUser | None = None
    suggested: list[EtunnusUser] = field(default_factory=list)
    other_links: list[TicketLink] = field(default_factory=list)


def _links(session: Session, ticket: Ticket) -> dict[tuple[str, str], TicketLink]:
    rows = session.exec(select(TicketLink).where(TicketLink.ticket_id == ticket.id))
    return {(row.kind, row.target): row for row in rows}


def _thread_messages(session: Session, ticket: Ticket) -> list[Message]:
    query = (
        select(Message)
        .where(Message.ticket_id == ticket.id)
        .where(col(Message.kind).in_([MessageKind.incoming, MessageKind.call]))
        .order_by(col(Message.created_at), col(Message.id))
    )
    return list(session.exec(query))


def _add_found(row: TicketLink, items: Iterable[Evidence]) -> None:
    found: list[dict[str, str]] = list(row.details.get("found", []))
    for item in items:
        entry = {"how": item.how, "text": item.text}
        if entry not in found:
            found.append(entry)
    # A new dict, so that SQLAlchemy sees the JSON column change.
    row.details = {**row.details, "found": found}
    if not row.found_text and found:
        row.found_text = found[0]["text"][:200]


def _user_row(
    session: Session,
    links: dict[tuple[str, str], TicketLink],
    ticket: Ticket,
    user: EtunnusUser,
    state: str,
    source: str = AUTO,
) -> TicketLink:
    row = links.get((USER, user.etunnus))
    if row is None:
        row = TicketLink(
            ticket_id=ticket.id or 0,
            kind=USER,
            target=user.etunnus,
            label=user.name[:200],
            state=state,
            source=source,
        )
        links[(USER, user.etunnus)] = row
    session.add(row)
    return row


def _link_one(
    session: Session,
    message: NewMessage,
    users: dict[str, list[EtunnusUser]],
    tickets: dict[int, Ticket],
) -> LinkResult:
    """Link the message's ticket from the message; ``users`` by address, ``tickets`` loaded."""
    evidence, plugin_links = message_evidence(session, message, users)
    ticket = tickets.get(message.ticket_id)
    user_id = ticket.user_id if ticket is not None else message.ticket_user_id
    if not evidence and not plugin_links and user_id is None:
        return LinkResult()  # ``apply`` would change nothing: spare loading the ticket
    if ticket is None:
        ticket = session.get(Ticket, message.ticket_id)
        assert ticket is not None
        tickets[message.ticket_id] = ticket
    return apply(session, ticket, evidence, plugin_links)


def link_new_messages(session: Session, messages: Sequence[NewMessage]) -> None:
    """Link each message's ticket from that message, in order (flushes only).

    Mail-in calls it once for a group of just-stored mails. The common case, a mail that
    mentions no known address, number or plugin object, costs no query beyond one address
    lookup for the whole group. Linking only annotates: a failure is logged and never
    blocks the mailbox, and it rolls back only that message's linking (the whole pass runs
    in one savepoint; when that fails the pass is repeated with a savepoint per message).
    """
    if not messages:
        return
    addresses = [m.address for m in messages if m.address]
    users = people_service.find_by_emails(session, addresses)
    tickets: dict[int, Ticket] = {}
    try:
        with session.begin_nested():
            for message in messages:
                _link_one(session, message, users, tickets)
        return
    except Exception:
        log.info("linking a group failed; linking its messages one by one", exc_info=True)
    tickets.clear()
    for message in messages:
        try:
            with session.begin_nested():
                _link_one(session, message, users, tickets)
        except Exception:  # linking only annotates; it must never block the mailbox
            log.exception("linking ticket %s failed", message.ticket_id)
            tickets.pop(message.ticket_id, None)


def link_ticket(session: Session, ticket: Ticket, message: Message | None = None) -> LinkResult:
    """Link the ticket from one new message (or, without one, from its whole thread).

    A step inside the caller's unit of work (flushes only). Never overrides an agent's
    choice: a linked user stays linked, dismissed links are not made again.
    """
    if message is not None:
        new = NewMessage.of(ticket, message)
        users = people_service.find_by_emails(session, [new.address] if new.address else [])
        return _link_one(session, new, users, {new.ticket_id: ticket})
    evidence, plugin_links = gather(session, ticket, _thread_messages(session, ticket))
    return apply(session, ticket, evidence, plugin_links)


def apply(
    session: Session,
    ticket: Ticket,
    evidence: list[Evidence],
    plugin_links: Iterable[FoundLink] = (),
) -> LinkResult:
    """Link or suggest users from evidence, add the plugins' links (flushes only)."""
    plugin_links = list(plugin_links)
    if not evidence and not plugin_links and ticket.user_id is None:
        # Nothing found and nobody linked: nothing below would change (the common case
        # for mail-in, where this runs for every mail), so spare the queries.
        session.flush()
        return LinkResult()
    links = _links(session, ticket)
    result = LinkResult()
    numbers = {e.etunnus for e in evidence}
    users = {
        u.etunnus: u
        for u in session.exec(select(EtunnusUser).where(col(EtunnusUser.etunnus).in_(numbers)))
    }
    by_user: dict[str, list[Evidence]] = {}
    for item in evidence:
        if item.etunnus in users:
            by_user.setdefault(item.etunnus, []).append(item)
    dismissed = {t for (k, t), row in links.items() if k == USER and row.state == DISMISSED}
    current = session.get(EtunnusUser, ticket.user_id) if ticket.user_id else None
    pending = {t for (k, t), row in links.items() if k == USER and row.state == SUGGESTED}
    candidates = (set(by_user) - dismissed) | pending
    for etunnus, items in by_user.items():
        if etunnus in dismissed:
            continue
        user = users[etunnus]
        if current is not None:
            state = LINKED if user.id == current.id else SUGGESTED
        else:
            state = LINKED if len(candidates) == 1 else SUGGESTED
        row = _user_row(session, links, ticket, user, state)
        if row.state == SUGGESTED and state == LINKED:
            row.state = LINKED  # the other suggestions went away or were dismissed
        _add_found(row, items)
        if row.state == LINKED:
            result.linked = user
            if ticket.user_id is None:
                ticket.user_id = user.id
                ticket.updated_at = utcnow()
                session.add(ticket)
        else:
            result.suggested.append(user)
    for found in plugin_links:
        existing = links.get((found.kind, found.target[:64]))
        if existing is not None and existing.state == DISMISSED:
            continue
        if existing is not None:
            row = existing
        else:
            row = TicketLink(
                ticket_id=ticket.id or 0,
                kind=found.kind[:32],
                target=found.target[:64],
                label=found.label[:200],
                found_text=found.found_text[:200],
                details={"url": found.url, "etunnus": found.etunnus},
            )
            links[(row.kind, row.target)] = row
            session.add(row)
        result.other_links.append(row)
    if current is not None and result.linked is None and (USER, current.etunnus) not in links:
        # A ticket linked before links were recorded (demo data, calls): show it as linked.
        _user_row(session, links, ticket, current, LINKED, MANUAL)
        result.linked = current
    session.flush()
    return result


def has_links(session: Session, ticket: Ticket) -> bool:
    """True once the ticket has been linked, suggested or dismissed anything."""
    found = session.exec(select(TicketLink.id).where(TicketLink.ticket_id == ticket.id)).first()
    return found is not None


def link_on_view(session: Session, ticket: Ticket) -> bool:
    """Link a ticket that has no links yet, when an agent opens it; True if any were made.

    The page asks for it in a request of its own (a POST after the page loaded: GET
    requests never write). It reads first and opens a unit of work only when there is
    something to link, so a ticket with nothing to find costs no write.
    """
    if has_links(session, ticket):
        return False
    evidence, plugin_links = gather(session, ticket, _thread_messages(session, ticket))
    if not evidence and not plugin_links and ticket.user_id is None:
        return False
    with transaction(session):
        reread(session, ticket)
        if has_links(session, ticket):
            return False  # another request linked it meanwhile
        result = link_ticket(session, ticket)
    return bool(result.linked or result.suggested or result.other_links)


def _make_user(session: Session, ticket: Ticket, user: EtunnusUser) -> TicketLink:
    """Make user the ticket's user, dismissing any other.

    Calls in the ticket from an unknown number get the user too, so that they show on the
    user's page.
    """
    links = _links(session, ticket)
    for (kind, target), other in links.items():
        if kind == USER and target != user.etunnus and other.state != DISMISSED:
            other.state = DISMISSED
            session.add(other)
    row = _user_row(session, links, ticket, user, LINKED, MANUAL)
    row.state, row.source = LINKED, MANUAL
    ticket.user_id = user.id
    ticket.updated_at = utcnow()
    session.add(ticket)
    for call in session.exec(
        select(Call).where(Call.ticket_id == ticket.id, col(Call.user_id).is_(None))
    ):
        call.user_id = user.id
        session.add(call)
    session.flush()
    return row


def link_user(session: Session, *, ticket: Ticket, user: EtunnusUser, by: Agent) -> TicketLink:
    """Link the ticket to user by hand (or accept a suggestion); audited.

    The previously linked user and the other suggestions are dismissed: the agent decided.
    """
    with transaction(session):
        old = reread(session, ticket).user_id
        row = _make_user(session, ticket, user)
        audit.record(
            session,
            action="ticket.link_user",
            agent=by,
            object_type="ticket",
            object_id=ticket.id,
            old=old,
            new=user.id,
            etunnus=user.etunnus,
        )
    return row


def unlink_user(session: Session, *, ticket: Ticket, by: Agent) -> None:
    """Remove the ticket's user; the link is remembered as dismissed (audited)."""
    with transaction(session):
        reread(session, ticket)
        user = session.get(EtunnusUser, ticket.user_id) if ticket.user_id else None
        for (kind, _target), row in _links(session, ticket).items():
            if kind == USER and row.state == LINKED:
                row.state = DISMISSED
                session.add(row)
        ticket.user_id = None
        ticket.updated_at = utcnow()
        session.add(ticket)
        audit.record(
            session,
            action="ticket.unlink_user",
            agent=by,
            object_type="ticket",
            object_id=ticket.id,
            etunnus=user.etunnus if user else None,
        )


def get_link(session: Session, ticket: Ticket, link_id: int) -> TicketLink:
    """One of the ticket's links, or NotFound."""
    row = session.get(TicketLink, link_id)
    if row is None or row.ticket_id != ticket.id:
        raise NotFound(N_("No such link"))
    return row


def accept(session: Session, *, ticket: Ticket, link_id: int, by: Agent) -> TicketLink:
    """Accept a suggested user (the same as linking them by hand)."""
    row = get_link(session, ticket, link_id)
    if row.kind != USER:
        with transaction(session):
            row.state = LINKED
            session.add(row)
        return row
    return link_user(
        session, ticket=ticket, user=people_service.get_user(session, row.target), by=by
    )


def dismiss(session: Session, *, ticket: Ticket, link_id: int, by: Agent) -> None:
    """Dismiss a suggestion or a found link (audited); a linked user is unlinked."""
    row = get_link(session, ticket, link_id)
    if row.kind == USER and row.state == LINKED:
        unlink_user(session, ticket=ticket, by=by)
        return
    with transaction(session):
        row.state = DISMISSED
        session.add(row)
        audit.record(
            session,
            action="ticket.dismiss_link",
            agent=by,
            object_type="ticket",
            object_id=ticket.id,
            kind=row.kind,
            target=row.target,
        )


@dataclass
class Chip:
    """A found reference shown in the sidebar; it opens the user or the plugin's page."""

    label: str
    url: str
    kind: str


@dataclass
class Panel:
    """What the ticket sidebar shows about links."""

    user: EtunnusUser | None
    suggestions: list[tuple[TicketLink, EtunnusUser]]
    chips: list[Chip]


def panel(session: Session, ticket: Ticket) -> Panel:
    """The linked user, the suggestions and the chips of a ticket."""
    links = list(_links(session, ticket).values())
    user = session.get(EtunnusUser, ticket.user_id) if ticket.user_id else None
    suggested = {r.target: r for r in links if r.kind == USER and r.state == SUGGESTED}
    users = {
        u.etunnus: u
        for u in session.exec(select(EtunnusUser).where(col(EtunnusUser.etunnus).in_(suggested)))
    }
    chips: list[Chip] = []
    for row in sorted(links, key=lambda r: r.id or 0):
        if row.state != LINKED:
            continue
        if row.kind == USER:
            chips += [
                Chip(label=f["text"], url=f"/users/{row.target}", kind=f["how"])
                for f in row.details.get("found", [])
                if f["how"] != "email"
            ]
        else:
            url = row.details.get("url") or (
                f"/users/{row.details['etunnus']}" if row.details.get("etunnus") else "#"
            )
            chips.append(
                Chip(label=row.label or row.found_text or row.target, url=url, kind=row.kind)
            )
    return Panel(
        user=user,
        suggestions=[(suggested[t], users[t]) for t in sorted(suggested) if t in users],
        chips=chips,
    )
