"""Merging tickets into one, and splitting one message out into a ticket of its own.

Both move rows, never copy them: a message keeps its id, its Message-ID and its
attachments, so mail threading (which asks "which ticket holds the message this mail
answers?") follows a moved message by itself. A merged ticket keeps its row and number and
points to where it went (``merged_into_id``); mail that names it only by its ``[#1042]``
subject tag follows that pointer (``resolve_merged``). Neither action can be undone by a
button: the audit log records what moved (message and call ids), which is enough to move
it back by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from helpdesk.db import reread, transaction
from helpdesk.i18n import N_
from helpdesk.models import (
    Agent,
    AuditEvent,
    Call,
    Message,
    MessageKind,
    OutboundMail,
    Ticket,
    TicketLink,
    TicketStatus,
    utcnow,
)
from helpdesk.plugins import hook
from helpdesk.services import audit, tickets
from helpdesk.services.errors import NotFound, ServiceError
from helpdesk.services.inbox import TicketFilter, list_tickets

#: At most this many tickets merge into one at a time (a bulk action's page is 50).
MAX_MERGE_SOURCES = 100
#: Kinds of message that can be split out: mail. Notes and calls belong to their ticket.
SPLITTABLE = (MessageKind.incoming, MessageKind.outgoing)
#: A pointer chain longer than this is a loop made by hand in the database: stop there.
_MAX_CHAIN = 20


def resolve_merged(session: Session, ticket: Ticket) -> Ticket:
    """The ticket that holds ``ticket``'s thread now: itself, or where it was merged."""
    seen = {ticket.id}
    while ticket.merged_into_id is not None and len(seen) < _MAX_CHAIN:
        target = session.get(Ticket, ticket.merged_into_id)
        if target is None or target.id in seen:
            break
        seen.add(target.id)
        ticket = target
    return ticket


def merged_into(session: Session, ticket_ids: Sequence[int]) -> dict[int, int]:
    """For the given ticket ids that were merged: id -> the id that holds their thread now."""
    result: dict[int, int] = {}
    for ticket_id in set(ticket_ids):
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None and ticket.merged_into_id is not None:
            result[ticket_id] = resolve_merged(session, ticket).id or ticket_id
    return result


def _recount(session: Session, ticket: Ticket) -> None:
    """The ticket's counters from the messages it holds now (after rows moved in or out)."""
    count, last = session.exec(
        select(func.count(), func.max(Message.created_at)).where(Message.ticket_id == ticket.id)
    ).one()

    def latest(kind: MessageKind) -> datetime | None:
        value: datetime | None = session.exec(
            select(func.max(Message.created_at)).where(
                Message.ticket_id == ticket.id, Message.kind == kind
            )
        ).one()
        return value

    ticket.message_count = int(count or 0)
    ticket.last_message_at = last or ticket.created_at
    ticket.last_incoming_at = latest(MessageKind.incoming)
    ticket.last_agent_reply_at = latest(MessageKind.outgoing)
    ticket.updated_at = utcnow()
    session.add(ticket)


def _move_links(session: Session, *, target: Ticket, source_ids: Sequence[int]) -> int:
    """Move the sources' links (users, invoices) to the target; a link it has already stays
    once. Returns how many moved."""
    have = {
        (link.kind, link.target): link
        for link in session.exec(select(TicketLink).where(TicketLink.ticket_id == target.id))
    }
    moved = 0
    rows = session.exec(
        select(TicketLink)
        .where(col(TicketLink.ticket_id).in_(list(source_ids)))
        .order_by(col(TicketLink.id))
    )
    for link in list(rows):
        kept = have.get((link.kind, link.target))
        if kept is None:
            link.ticket_id = target.id or 0
            session.add(link)
            have[(link.kind, link.target)] = link
            moved += 1
        else:
            if kept.state != "linked" and link.state == "linked":
                kept.state, kept.source = "linked", link.source
                session.add(kept)
            session.delete(link)
    session.flush()
    return moved


def _lock_in_order(session: Session, ticket_ids: Sequence[int]) -> None:
    """Re-read (on PostgreSQL: lock) the tickets in id order, so that two merges of the
    same tickets in opposite directions wait for each other instead of deadlocking."""
    for ticket_id in sorted(set(ticket_ids)):
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None:
            reread(session, ticket)


def _load_sources(session: Session, source_ids: Sequence[int]) -> list[Ticket]:
    """The source tickets (re-read already by ``_lock_in_order``), each not merged yet."""
    sources = []
    for source_id in source_ids:
        source = session.get(Ticket, source_id)
        if source is None:
            raise NotFound(
                N_("No ticket with id %(id)s"), field="source_ids", params={"id": source_id}
            )
        if source.merged_into_id is not None:
            raise ServiceError(
                N_("Ticket #%(number)s has been merged already"),
                field="source_ids",
                params={"number": source.number},
            )
        sources.append(source)
    return sources


def merge_tickets(
    session: Session, *, target_id: int, source_ids: Sequence[int], agent: Agent
) -> Ticket:
    """Merge the source tickets into the target (one unit of work, audited).

    Their messages (with attachments), internal notes, calls, outgoing mail and links
    (users, invoices; plugins move their own rows in ``helpdesk_tickets_merged``) move to
    the target; each source is closed and points to the target. Refuses merging a ticket
    into itself, into a merged ticket, or a ticket that was merged already.
    """
    ids = list(dict.fromkeys(int(i) for i in source_ids))
    if not ids:
        raise ServiceError(N_("Choose the tickets to merge"), field="source_ids")
    if len(ids) > MAX_MERGE_SOURCES:
        raise ServiceError(
            N_("At most %(count)s tickets can be merged at once"),
            field="source_ids",
            params={"count": MAX_MERGE_SOURCES},
        )
    if target_id in ids:
        raise ServiceError(N_("A ticket cannot be merged into itself"), field="target")
    with transaction(session):
        _lock_in_order(session, [target_id, *ids])
        target = session.get(Ticket, target_id)
        if target is None:
            raise NotFound(N_("No such ticket"), field="target")
        if target.merged_into_id is not None:
            final = resolve_merged(session, target)
            raise ServiceError(
                N_("Ticket #%(number)s was merged into #%(target)s: merge into that one"),
                field="target",
                params={"number": target.number, "target": final.number},
            )
        sources = _load_sources(session, ids)
        moved = _move_rows(session, target=target, source_ids=ids)
        links = _move_links(session, target=target, source_ids=ids)
        _adopt_customer(target, sources)
        now = utcnow()
        for source in sources:
            old_status = source.status
            source.merged_into_id = target.id
            source.status = TicketStatus.closed
            source.updated_at = now
            _recount(session, source)
            audit.record(
                session,
                action="ticket.merged",
                agent=agent,
                object_type="ticket",
                object_id=source.id,
                into_id=target.id,
                into_number=target.number,
                old_status=str(old_status),
            )
        # Tickets merged into a source earlier now point straight to the target.
        session.exec(
            update(Ticket)
            .where(col(Ticket.merged_into_id).in_(ids))
            .values(merged_into_id=target.id)
            .execution_options(synchronize_session=False)
        )
        if any("unparsed" in (s.flags or ()) for s in sources) and "unparsed" not in target.flags:
            target.flags = sorted({*target.flags, "unparsed"})
        _recount(session, target)
        audit.record(
            session,
            action="ticket.merge",
            agent=agent,
            object_type="ticket",
            object_id=target.id,
            source_ids=ids,
            source_numbers=[s.number for s in sources],
            links_moved=links,
            **moved,
        )
        hook().helpdesk_tickets_merged(session=session, target=target, sources=sources)
        session.flush()
    return target


def _move_rows(session: Session, *, target: Ticket, source_ids: Sequence[int]) -> dict[str, object]:
    """Messages (attachments hang on them), calls and outbox rows to the target."""
    message_ids = list(
        session.exec(select(Message.id).where(col(Message.ticket_id).in_(list(source_ids))))
    )
    call_ids = list(session.exec(select(Call.id).where(col(Call.ticket_id).in_(list(source_ids)))))
    for model in (Message, Call, OutboundMail):
        session.exec(
            update(model)
            .where(col(model.ticket_id).in_(list(source_ids)))
            .values(ticket_id=target.id)
            .execution_options(synchronize_session=False)
        )
    # Objects loaded before the move still say where they were.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Message | Call | OutboundMail) and obj.ticket_id in source_ids:
            session.expire(obj, ["ticket_id"])
    return {"message_ids": message_ids, "call_ids": call_ids}


def _adopt_customer(target: Ticket, sources: Sequence[Ticket]) -> None:
    """A target without a customer or user takes the first source's."""
    for source in sources:
        if target.user_id is None and source.user_id is not None:
            target.user_id = source.user_id
        if not target.customer_email and source.customer_email:
            target.customer_email = source.customer_email
            target.customer_name = source.customer_name


def split_message(session: Session, *, message_id: int, agent: Agent) -> Ticket:
    """Take one mail of a ticket out into a new ticket (with its attachments), audited on
    both tickets. Later mail answering it threads to the new ticket (it holds the message)."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(N_("No such message"), field="message_id")
    if message.kind not in SPLITTABLE:
        raise ServiceError(
            N_("Only mail can be split into a ticket of its own"), field="message_id"
        )
    if message.delivery_status in ("queued", "sending"):
        raise ServiceError(
            N_("The mail is still on its way out; split it once it has been sent"),
            field="message_id",
        )
    with transaction(session):
        reread(session, message)
        ticket = tickets.get_ticket(session, message.ticket_id)
        reread(session, ticket)
        count = session.exec(
            select(func.count()).select_from(Message).where(Message.ticket_id == ticket.id)
        ).one()
        if count < 2:
            raise ServiceError(
                N_("The ticket has only this message; there is nothing to split"),
                field="message_id",
            )
        incoming = message.kind == MessageKind.incoming
        new = tickets.open_ticket(
            session,
            subject=message.subject or ticket.subject,
            customer_email=message.from_address if incoming else ticket.customer_email,
            customer_name=message.from_name if incoming else ticket.customer_name,
            channel=ticket.channel,
            created_at=message.created_at,
        )
        new.mailbox_id = message.mailbox_id or ticket.mailbox_id
        if not incoming or (message.from_address or "") == (ticket.customer_email or ""):
            new.user_id = ticket.user_id
        message.ticket_id = new.id or 0
        session.add(message)
        session.exec(
            update(OutboundMail)
            .where(col(OutboundMail.message_row_id) == message.id)
            .values(ticket_id=new.id)
            .execution_options(synchronize_session=False)
        )
        session.flush()
        _recount(session, ticket)
        _recount(session, new)
        audit.record(
            session,
            action="ticket.split",
            agent=agent,
            object_type="ticket",
            object_id=ticket.id,
            message_id=message.id,
            new_id=new.id,
            new_number=new.number,
        )
        audit.record(
            session,
            action="ticket.split_from",
            agent=agent,
            object_type="ticket",
            object_id=new.id,
            message_id=message.id,
            from_id=ticket.id,
            from_number=ticket.number,
        )
    return new


#: Audit actions that tell a ticket's merge, split and forward history.
HISTORY_ACTIONS = (
    "ticket.merge",
    "ticket.merged",
    "ticket.split",
    "ticket.split_from",
    "ticket.forward",
)


def history(session: Session, ticket: Ticket) -> list[AuditEvent]:
    """The ticket's merges, splits and forwards, oldest first (from the audit log)."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == "ticket",
                AuditEvent.object_id == str(ticket.id),
                col(AuditEvent.action).in_(HISTORY_ACTIONS),
            )
            .order_by(col(AuditEvent.at), col(AuditEvent.id))
        )
    )


def candidates(session: Session, ticket: Ticket, query: str, *, limit: int = 10) -> list[Ticket]:
    """Tickets ``ticket`` could be merged into: by number (``1042``, ``#1042``), else the
    inbox search; never itself and never a merged ticket."""
    text = query.strip().lstrip("#").strip()
    if not text:
        return []
    found: list[Ticket] = []
    if text.isdigit() and len(text) <= 9:
        by_number = tickets.get_by_number(session, int(text))
        if by_number is not None:
            found.append(by_number)
    found += [row.ticket for row in list_tickets(session, TicketFilter(q=text), limit=limit).rows]
    unique = {t.id: t for t in found if t.id != ticket.id and t.merged_into_id is None}
    return list(unique.values())[:limit]


def find_target(session: Session, value: str) -> Ticket:
    """The ticket a merge form names: its number, with or without ``#``."""
    text = value.strip().lstrip("#").strip()
    target = (
        tickets.get_by_number(session, int(text)) if text.isdigit() and len(text) <= 9 else None
    )
    if target is None:
        raise NotFound(N_("No ticket #%(number)s"), field="target", params={"number": text or "?"})
    return target
