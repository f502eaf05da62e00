"""Tickets: creating them, adding to their thread, status, assignment, notes.

The public actions (``set_status``, ``assign``, ``add_note``) are units of work
(``helpdesk.db.transaction``). ``open_ticket`` and ``add_message`` are steps: they add to
the session and run inside the unit of whoever calls them (replies, calls, notes, mail-in).

What a new ticket row and a new message row hold, and what a message does to its
ticket's counters, is said once, by ``ticket_row``, ``message_row`` and
``count_message``: ``open_ticket`` and ``add_message`` build their ORM objects with them,
and mail-in's group writer (``helpdesk.mail.inbound.writer``) inserts the same rows in
bulk, so a rule added here holds for both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session, col, select

from helpdesk import words
from helpdesk.db import in_unit_of_work, reread, transaction
from helpdesk.i18n import N_
from helpdesk.models import (
    TICKET_NUMBER_OFFSET,
    Agent,
    Attachment,
    Channel,
    EtunnusUser,
    Mailbox,
    Message,
    MessageKind,
    Ticket,
    TicketStatus,
    utcnow,
)
from helpdesk.plugins import hook
from helpdesk.services import audit, notifications, ticket_clocks
from helpdesk.services.errors import NotFound, ServiceError


class Counters(Protocol):
    """The columns of a ticket that ``count_message`` keeps (a ``Ticket`` has them)."""

    message_count: int
    updated_at: datetime
    last_message_at: datetime
    last_incoming_at: datetime | None
    last_agent_reply_at: datetime | None
    first_incoming_at: datetime | None
    snoozed_until: datetime | None


def ticket_row(
    *,
    subject: str,
    mailbox_id: int | None = None,
    channel: Channel = Channel.email,
    customer_email: str | None = None,
    customer_name: str | None = None,
    user_id: int | None = None,
    status: TicketStatus = TicketStatus.open,
    created_at: datetime,
) -> dict[str, Any]:
    """Every column of a new ticket but its id (``number`` is set from the id once known)."""
    return {
        "number": None,
        "subject": subject.strip()[:998],
        "status": status,
        "channel": channel,
        "customer_email": customer_email.lower() if customer_email else None,
        "customer_name": customer_name,
        "mailbox_id": mailbox_id,
        "user_id": user_id,
        "assignee_id": None,
        "message_count": 0,
        "flags": [],
        "created_at": created_at,
        "updated_at": created_at,
        "last_message_at": created_at,
        "last_incoming_at": None,
        "last_agent_reply_at": None,
        "first_incoming_at": None,
        "first_response_at": None,
        "first_response_seconds": None,
        "resolved_at": None,
        "resolution_seconds": None,
        "snoozed_until": None,
        "spam": False,
    }


def message_row(
    *,
    ticket_id: int | None,
    kind: MessageKind,
    subject: str,
    text: str = "",
    html: str | None = None,
    author_id: int | None = None,
    from_name: str | None = None,
    from_address: str | None = None,
    to: Sequence[str] = (),
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    raw_sha256: str | None = None,
    mailbox_id: int | None = None,
    flags: Iterable[str] = (),
    sent_date: datetime | None = None,
    created_at: datetime,
) -> dict[str, Any]:
    """Every column of a new message but its id."""
    text = text.replace("\x00", "")
    return {
        "ticket_id": ticket_id,
        "kind": kind,
        "subject": subject,
        "text": text,
        "html": html,
        "author_id": author_id,
        "from_name": from_name,
        "from_address": from_address.lower() if from_address else None,
        "to_addresses": list(to),
        "cc_addresses": list(cc),
        "bcc_addresses": list(bcc),
        "message_id": message_id,
        "in_reply_to": in_reply_to,
        "references": list(references),
        "raw_sha256": raw_sha256,
        "mailbox_id": mailbox_id,
        "flags": sorted(set(flags)),
        "sent_date": sent_date,
        "created_at": created_at,
        "delivery_status": None,
        "delivery_error": None,
        "search_lemmas": words.index_terms((subject, from_name, text)),
        "search_version": words.version(),
    }


def count_message(
    ticket: Counters, *, kind: str, created_at: datetime, counts_as_activity: bool = True
) -> None:
    """What a new message does to its ticket's counters.

    ``counts_as_activity`` False (automatic mail in a thread) leaves the ticket where it
    is in the inbox: neither its last message nor its last incoming time moves. A
    customer's mail wakes a snoozed ticket now: it comes back marked, as if its time had
    come (``helpdesk.services.snooze``).
    """
    ticket.message_count += 1
    ticket.updated_at = utcnow()
    if counts_as_activity and created_at >= ticket.last_message_at:
        ticket.last_message_at = created_at
    if kind == MessageKind.incoming:
        # Automatic mail too: the first-response clock starts at the first mail of all.
        ticket.first_incoming_at = min(created_at, ticket.first_incoming_at or created_at)
    if kind == MessageKind.incoming and counts_as_activity:
        ticket.last_incoming_at = max(created_at, ticket.last_incoming_at or created_at)
        if ticket.snoozed_until is not None and ticket.snoozed_until > ticket.updated_at:
            ticket.snoozed_until = ticket.updated_at
    if kind == MessageKind.outgoing:
        ticket.last_agent_reply_at = created_at


def open_ticket(
    session: Session,
    *,
    subject: str,
    mailbox: Mailbox | None = None,
    channel: Channel = Channel.email,
    customer_email: str | None = None,
    customer_name: str | None = None,
    user: EtunnusUser | None = None,
    status: TicketStatus = TicketStatus.open,
    created_at: datetime | None = None,
) -> Ticket:
    """Add a new ticket to the session and give it its number (a step: flushes only)."""
    row = ticket_row(
        subject=subject,
        mailbox_id=mailbox.id if mailbox else None,
        channel=channel,
        customer_email=customer_email,
        customer_name=customer_name,
        user_id=user.id if user else None,
        status=status,
        created_at=created_at or utcnow(),
    )
    ticket = Ticket(**row)
    session.add(ticket)
    session.flush()
    assert ticket.id is not None
    ticket.number = TICKET_NUMBER_OFFSET + ticket.id
    session.add(ticket)
    return ticket


def add_message(
    session: Session,
    *,
    ticket: Ticket,
    kind: MessageKind,
    text: str = "",
    html: str | None = None,
    subject: str | None = None,
    author: Agent | None = None,
    from_name: str | None = None,
    from_address: str | None = None,
    to: Sequence[str] = (),
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    raw_sha256: str | None = None,
    mailbox: Mailbox | None = None,
    flags: Iterable[str] = (),
    sent_date: datetime | None = None,
    created_at: datetime | None = None,
    counts_as_activity: bool = True,
) -> Message:
    """Add a message to a ticket's thread and update the ticket's counters (a step).

    Inside a unit of work the counters build on the ticket as stored (re-read, and locked
    on PostgreSQL), not on what was loaded before the unit began. Plugins see the message
    through ``helpdesk_message_stored`` in the same transaction.
    """
    if in_unit_of_work(session):
        reread(session, ticket)
    now = created_at or utcnow()
    row = message_row(
        ticket_id=ticket.id or 0,
        kind=kind,
        subject=subject if subject is not None else ticket.subject,
        text=text,
        html=html,
        author_id=author.id if author else None,
        from_name=from_name if from_name is not None else (author.name if author else None),
        from_address=from_address,
        to=to,
        cc=cc,
        bcc=bcc,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        raw_sha256=raw_sha256,
        mailbox_id=mailbox.id if mailbox else ticket.mailbox_id,
        flags=flags,
        sent_date=sent_date,
        created_at=now,
    )
    message = Message(**row)
    session.add(message)
    count_message(ticket, kind=kind, created_at=now, counts_as_activity=counts_as_activity)
    if kind == MessageKind.outgoing and author is not None:
        ticket_clocks.note_reply(ticket, at=now)
    session.add(ticket)
    session.flush()
    hook().helpdesk_message_stored(session=session, ticket=ticket, message=message)
    return message


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(N_("No such ticket"))
    return ticket


def get_by_number(session: Session, number: int) -> Ticket | None:
    return session.exec(select(Ticket).where(Ticket.number == number)).first()


def thread(session: Session, ticket: Ticket) -> list[Message]:
    """The ticket's messages in the order they happened."""
    return list(
        session.exec(
            select(Message)
            .where(Message.ticket_id == ticket.id)
            .order_by(col(Message.created_at), col(Message.id))
        )
    )


def attachments_by_message(
    session: Session, messages: Sequence[Message]
) -> dict[int, list[Attachment]]:
    ids = [m.id for m in messages if m.id is not None]
    result: dict[int, list[Attachment]] = {i: [] for i in ids}
    if ids:
        for att in session.exec(
            select(Attachment)
            .where(col(Attachment.message_id).in_(ids))
            .order_by(col(Attachment.id))
        ):
            result[att.message_id].append(att)
    return result


def participants(session: Session, ticket: Ticket) -> set[str]:
    """Every address that has written to or been written to in the ticket."""
    people: set[str] = {ticket.customer_email} if ticket.customer_email else set()
    for message in session.exec(select(Message).where(Message.ticket_id == ticket.id)):
        people |= message.participants
    return people


def agent_acted(ticket: Ticket, now: datetime | None = None) -> None:
    """An agent did something with the ticket: it is no longer "back from snooze" (a step).

    A ticket still asleep stays asleep; only the mark of one whose time has come goes."""
    if ticket.snoozed_until is not None and ticket.snoozed_until <= (now or utcnow()):
        ticket.snoozed_until = None


def set_status(
    session: Session, *, ticket: Ticket, status: TicketStatus | str, by: Agent | None
) -> Ticket:
    """Change the ticket's status (audited)."""
    try:
        new = TicketStatus(status)
    except ValueError as exc:
        raise ServiceError(f"Unknown status {status!r}") from exc
    with transaction(session):
        reread(session, ticket)
        agent_acted(ticket)
        if new == TicketStatus.closed:
            ticket.snoozed_until = None  # a closed ticket has nothing to come back for
        session.add(ticket)
        if ticket.status != new:
            old = ticket.status
            ticket.status = new
            ticket.updated_at = utcnow()
            event = audit.record(
                session,
                action="ticket.status",
                agent=by,
                object_type="ticket",
                object_id=ticket.id,
                old=str(old),
                new=str(new),
            )
            # The audit event's moment: the backfill finds the same closing there.
            ticket_clocks.note_status(ticket, old=old, new=new, at=event.at)
            session.add(ticket)
            notifications.on_status(session, ticket=ticket, actor=by)
    return ticket


def assign(session: Session, *, ticket: Ticket, assignee: Agent | None, by: Agent | None) -> Ticket:
    """Give the ticket to an agent, or to nobody (audited)."""
    new_id = assignee.id if assignee else None
    if assignee is not None and not assignee.active:
        raise ServiceError(N_("That agent is not active"))
    with transaction(session):
        reread(session, ticket)
        agent_acted(ticket)
        session.add(ticket)
        if ticket.assignee_id != new_id:
            old = ticket.assignee_id
            ticket.assignee_id = new_id
            ticket.updated_at = utcnow()
            session.add(ticket)
            audit.record(
                session,
                action="ticket.assign",
                agent=by,
                object_type="ticket",
                object_id=ticket.id,
                old=old,
                new=new_id,
            )
            notifications.on_assign(session, ticket=ticket, old_assignee_id=old, actor=by)
    return ticket


def add_note(session: Session, *, ticket: Ticket, text: str, by: Agent) -> Message:
    """An internal note in the thread; never sent to anyone."""
    text = text.strip()
    if not text:
        raise ServiceError(N_("The note is empty"))
    with transaction(session):
        note = add_message(
            session,
            ticket=ticket,
            kind=MessageKind.note,
            text=text,
            author=by,
            subject=ticket.subject,
        )
        agent_acted(ticket)  # after add_message, which re-reads the ticket
        session.add(ticket)
        audit.record(
            session,
            action="ticket.note",
            agent=by,
            object_type="ticket",
            object_id=ticket.id,
            message_id=note.id,
        )
        notifications.on_note(session, ticket=ticket, note=note, actor=by)
    return note
