"""Replies and other outgoing mail: stored and queued in one transaction (the outbox).

``reply`` answers a ticket, ``start_conversation`` opens a ticket by writing first, and
``queue_mail`` is the public way for plugins to send any mail (an invoice PDF from
``laskut@``, a notice to a user) through the same outbox, exactly once per idempotency key.
The worker (``helpdesk.mail.outbound.outbox``) does the sending.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.i18n import N_
from helpdesk.mail import compose
from helpdesk.models import (
    Agent,
    EtunnusUser,
    Mailbox,
    Message,
    MessageKind,
    OutboundKind,
    OutboundMail,
    Ticket,
    TicketStatus,
    UserEmail,
    utcnow,
)
from helpdesk.services import audit, outgoing, tickets
from helpdesk.services.errors import Conflict, NotFound, ServiceError
from helpdesk.services.outgoing import (
    AttachmentIn,
    cancel,
    for_messages,
    get_outbound,
    queue_mail,
    retry,
    sync_message,
)
from helpdesk.services.reply_text import signed, unsigned
from helpdesk.settings import get_settings

__all__ = [
    "AttachmentIn",
    "NewerMessageExists",
    "cancel",
    "for_messages",
    "get_outbound",
    "queue_mail",
    "reply",
    "retry",
    "signed",
    "start_conversation",
    "sync_message",
    "unsigned",
]


class NewerMessageExists(Conflict):
    """The traffic cop: someone wrote in the ticket after the agent loaded it."""

    def __init__(self, newest: Message) -> None:
        super().__init__("A newer reply or note exists", code="newer_message")
        self.newest = newest


def latest_human_message(session: Session, ticket: Ticket) -> Message | None:
    """The newest message that is not an automatic one (auto-replies don't count)."""
    for message in reversed(tickets.thread(session, ticket)):
        automatic = {"auto_reply", "automatic"} & set(message.flags)
        if not automatic and message.delivery_status != "cancelled":
            return message
    return None


def written_since(
    session: Session, ticket: Ticket, last_seen_id: int, agent: Agent
) -> Message | None:
    """The newest message someone else wrote after the one the agent last saw, if any."""
    for message in reversed(tickets.thread(session, ticket)):
        if (message.id or 0) <= last_seen_id:
            continue
        automatic = {"auto_reply", "automatic"} & set(message.flags)
        cancelled = message.delivery_status == "cancelled"
        if message.author_id != agent.id and not automatic and not cancelled:
            return message
    return None


def _thread_parent(session: Session, ticket: Ticket) -> tuple[Message | None, list[str]]:
    """The message we answer (the last incoming mail, else our last mail) and References."""
    thread = [m for m in tickets.thread(session, ticket) if m.message_id]
    incoming = [m for m in thread if m.kind == MessageKind.incoming]
    mail = [m for m in thread if m.kind in (MessageKind.incoming, MessageKind.outgoing)]
    candidates = incoming or mail
    parent = candidates[-1] if candidates else None
    if parent is None or parent.message_id is None:
        return None, []
    chain = [*parent.references, parent.message_id] if parent.references else []
    if not chain:
        chain = [m.message_id for m in mail if m.message_id and m.created_at <= parent.created_at]
    return parent, compose.cap_references(chain)


def quote(message: Message) -> str:
    """The message quoted below a reply, headed by when and who wrote it."""
    who = message.from_name or message.from_address or ""
    zone = ZoneInfo(get_settings().timezone)
    when = message.created_at.astimezone(zone).strftime("%d.%m.%Y %H:%M")
    lines = "\n".join("> " + line for line in (message.text or "").strip().splitlines())
    return f"{when} {who} <{message.from_address or ''}>:\n{lines}"


def _undo_delay() -> timedelta:
    return timedelta(seconds=max(0, get_settings().undo_send_seconds))


def reply(
    session: Session,
    *,
    ticket: Ticket,
    agent: Agent,
    body: str,
    to: Sequence[str] | str | None = None,
    cc: Sequence[str] | str | None = None,
    bcc: Sequence[str] | str | None = None,
    attachments: Sequence[AttachmentIn] = (),
    include_quote: bool = False,
    saved_reply_id: int | None = None,
    expected_last_message_id: int | None = None,
    confirm: bool = False,
    idempotency_key: str | None = None,
) -> Message:
    """Answer the customer from the ticket: store the message and queue it (one unit of work).

    Refuses with ``NewerMessageExists`` when someone else wrote in the ticket after
    ``expected_last_message_id`` (the agent's view is stale) unless ``confirm``.
    Sets the ticket's status per ``HELPDESK_REPLY_SETS_STATUS``.
    """
    found = outgoing.existing(session, idempotency_key)
    if found is not None and found.message_row_id is not None:
        return _message(session, found)
    if not body.strip():
        raise ServiceError(N_("The reply is empty"), field="body")
    if ticket.merged_into_id is not None:
        # Its thread lives in the target now; an answer here would start a second one.
        raise ServiceError(
            N_("The ticket was merged; answer in the ticket it was merged into"), field="body"
        )
    mailbox = session.get(Mailbox, ticket.mailbox_id) if ticket.mailbox_id else None
    if mailbox is None:
        raise ServiceError("The ticket has no mailbox to answer from")
    if expected_last_message_id is not None and not confirm:
        newer = written_since(session, ticket, expected_last_message_id, agent)
        if newer is not None:
            raise NewerMessageExists(newer)
    recipients = outgoing.addresses(to or [ticket.customer_email or ""], field="to")
    if not recipients:
        raise ServiceError(N_("The mail needs a recipient"), field="to")
    copies = outgoing.addresses(cc, field="cc")
    blind = outgoing.addresses(bcc, field="bcc")
    parent, references = _thread_parent(session, ticket)
    text = signed(body, agent, mailbox)
    if include_quote and parent is not None and parent.kind == MessageKind.incoming:
        text = f"{text}\n{quote(parent)}\n"
    names = {ticket.customer_email: ticket.customer_name} if ticket.customer_email else {}
    try:
        with transaction(session):
            outbound = queue_mail(
                session,
                mailbox=mailbox,
                to=recipients,
                cc=copies,
                bcc=blind,
                # "Re:" only answers a mail: the ticket's first mail (a Korjattava
                # question, a phone ticket's follow-up) carries the subject as it is.
                subject=(
                    compose.reply_subject(ticket.subject, ticket.number)
                    if parent is not None
                    else compose.tagged_subject(ticket.subject, ticket.number)
                ),
                text=text,
                attachments=attachments,
                ticket=ticket,
                kind=OutboundKind.reply,
                idempotency_key=idempotency_key,
                agent=agent,
                in_reply_to=parent.message_id if parent else None,
                references=references,
                send_after=utcnow() + _undo_delay(),
                to_names={k: v for k, v in names.items() if k and v},
            )
            _after_reply(session, ticket, agent, outbound, saved_reply_id)
    except IntegrityError as clash:
        outbound = _queued_first(session, idempotency_key, clash)
    return _message(session, outbound)


def _after_reply(
    session: Session,
    ticket: Ticket,
    agent: Agent,
    outbound: OutboundMail,
    saved_reply_id: int | None,
) -> None:
    new_status = TicketStatus(get_settings().reply_sets_status)
    if ticket.status != new_status:
        audit.record(
            session,
            action="ticket.status",
            agent=agent,
            object_type="ticket",
            object_id=ticket.id,
            old=str(ticket.status),
            new=str(new_status),
            reason="reply",
        )
        ticket.status = new_status
        session.add(ticket)
    audit.record(
        session,
        action="ticket.reply",
        agent=agent,
        object_type="ticket",
        object_id=ticket.id,
        message_id=outbound.message_row_id,
        outbound_id=outbound.id,
        saved_reply_id=saved_reply_id,
    )


def _queued_first(session: Session, key: str | None, clash: IntegrityError) -> OutboundMail:
    """The mail another request with ``key`` queued first; else ``clash`` was something else."""
    found = outgoing.queued_first(session, key)
    if found is None:
        raise clash
    return found


def _message(session: Session, outbound: OutboundMail) -> Message:
    message = session.get(Message, outbound.message_row_id) if outbound.message_row_id else None
    if message is None:
        raise NotFound("The queued mail has no message")
    return message


def find_recipient(session: Session, to: str) -> tuple[str, str | None, EtunnusUser | None]:
    """An address, or a 6-digit e-tunnus resolved to that user's first address."""
    value = to.strip()
    if value.isdigit() and len(value) == 6:
        user = session.exec(select(EtunnusUser).where(EtunnusUser.etunnus == value)).first()
        if user is None:
            raise NotFound(N_("No E-tunnus user %(number)s"), field="to", params={"number": value})
        email = session.exec(
            select(UserEmail.email).where(UserEmail.user_id == user.id).order_by(col(UserEmail.id))
        ).first()
        if email is None:
            raise ServiceError(
                N_("The E-tunnus user %(number)s has no email address"),
                field="to",
                params={"number": value},
            )
        return email, user.name, user
    address = outgoing.addresses([value], field="to")
    if not address:
        raise ServiceError(N_("The mail needs a recipient"), field="to")
    user_id = session.exec(select(UserEmail.user_id).where(UserEmail.email == address[0])).all()
    user = session.get(EtunnusUser, user_id[0]) if len(set(user_id)) == 1 else None
    return address[0], user.name if user else None, user


def start_conversation(
    session: Session,
    *,
    mailbox: Mailbox,
    agent: Agent,
    to: str,
    subject: str,
    body: str,
    cc: Sequence[str] | str | None = None,
    bcc: Sequence[str] | str | None = None,
    attachments: Sequence[AttachmentIn] = (),
    idempotency_key: str | None = None,
) -> Ticket:
    """A new ticket that starts with our mail to a customer or an E-tunnus user."""
    found = outgoing.existing(session, idempotency_key)
    if found is not None and found.ticket_id is not None:
        return tickets.get_ticket(session, found.ticket_id)
    if not subject.strip():
        raise ServiceError(N_("The subject is empty"), field="subject")
    if not body.strip():
        raise ServiceError(N_("The message is empty"), field="body")
    address, name, user = find_recipient(session, to)
    copies = outgoing.addresses(cc, field="cc")
    blind = outgoing.addresses(bcc, field="bcc")
    try:
        with transaction(session):
            ticket = tickets.open_ticket(
                session,
                subject=subject,
                mailbox=mailbox,
                customer_email=address,
                customer_name=name,
                user=user,
                status=TicketStatus(get_settings().reply_sets_status),
            )
            outbound = queue_mail(
                session,
                mailbox=mailbox,
                to=[address],
                cc=copies,
                bcc=blind,
                subject=compose.tagged_subject(subject, ticket.number),
                text=signed(body, agent, mailbox),
                attachments=attachments,
                ticket=ticket,
                kind=OutboundKind.new,
                idempotency_key=idempotency_key,
                agent=agent,
                send_after=utcnow() + _undo_delay(),
                to_names={address: name} if name else None,
            )
            audit.record(
                session,
                action="ticket.start",
                agent=agent,
                object_type="ticket",
                object_id=ticket.id,
                outbound_id=outbound.id,
            )
    except IntegrityError as clash:
        outbound = _queued_first(session, idempotency_key, clash)
    return tickets.get_ticket(session, _message(session, outbound).ticket_id)
