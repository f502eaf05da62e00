"""Forwarding a ticket's mail, with its attachments, to an outside address.

The forward is one mail from the ticket's mailbox, queued through the outbox like a reply
(the same undo window, exactly once per idempotency key) and shown in the thread as a
``forward`` message: it is not an answer to the customer, so it moves neither the reply
counters nor the reports' first response. Only mail is forwarded: internal notes and calls
are never chosen, and asking for one is refused rather than quietly left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from helpdesk.db import transaction
from helpdesk.i18n import N_
from helpdesk.mail import compose
from helpdesk.models import (
    Agent,
    Mailbox,
    Message,
    MessageKind,
    OutboundKind,
    OutboundMail,
    Ticket,
    utcnow,
)
from helpdesk.services import audit, outgoing, tickets
from helpdesk.services.errors import NotFound, ServiceError
from helpdesk.services.outgoing import AttachmentIn
from helpdesk.services.reply_text import signed
from helpdesk.settings import get_settings

#: Kinds of message a forward may carry: mail in and out. Never notes, calls, forwards.
FORWARDABLE = (MessageKind.incoming, MessageKind.outgoing)
#: The line that opens each forwarded mail in the body (the house language, like replies).
FORWARD_HEADING = "---------- Välitetty viesti ----------"


def forward_subject(ticket: Ticket) -> str:
    """``Fwd: <subject> [#number]``: an answer from the outside threads back to the ticket."""
    return compose.tagged_subject(f"Fwd: {ticket.subject}".strip(), ticket.number)


def forwarded_block(message: Message) -> str:
    """One forwarded mail as text: who, when, to whom, the subject, then its text."""
    zone = ZoneInfo(get_settings().timezone)
    when = (message.sent_date or message.created_at).astimezone(zone)
    sender = message.from_name or ""
    address = f" <{message.from_address}>" if message.from_address else ""
    lines = [
        FORWARD_HEADING,
        f"Lähettäjä: {sender}{address}".rstrip(),
        f"Päivämäärä: {when:%d.%m.%Y %H:%M}",
        f"Aihe: {message.subject}",
    ]
    if message.to_addresses:
        lines.append(f"Vastaanottaja: {', '.join(message.to_addresses)}")
    if message.cc_addresses:
        lines.append(f"Kopio: {', '.join(message.cc_addresses)}")
    return "\n".join(lines) + "\n\n" + (message.text or "").strip() + "\n"


def chosen_mail(
    session: Session, ticket: Ticket, message_ids: Sequence[int] | None
) -> list[Message]:
    """The ticket's mail to forward: the chosen ids, or all of it, in thread order."""
    mail = [m for m in tickets.thread(session, ticket) if m.kind in FORWARDABLE]
    mail = [m for m in mail if m.delivery_status != "cancelled"]
    if not message_ids:
        if not mail:
            raise ServiceError(N_("The ticket has no mail to forward"), field="message_ids")
        return mail
    wanted = set(message_ids)
    by_id = {m.id: m for m in mail}
    if wanted - set(by_id):
        raise ServiceError(
            N_("Only the ticket's own mail can be forwarded, never notes or calls"),
            field="message_ids",
        )
    return [m for m in mail if m.id in wanted]


def forward(
    session: Session,
    *,
    ticket: Ticket,
    agent: Agent,
    to: Sequence[str] | str,
    note: str = "",
    message_ids: Sequence[int] | None = None,
    idempotency_key: str | None = None,
) -> Message:
    """Forward the ticket's mail (``message_ids``, or all of it) with its attachments to
    ``to``, from the ticket's mailbox, with the agent's ``note`` above it (one unit of work,
    audited). The same ``idempotency_key`` returns the first forward and sends nothing more.
    """
    found = outgoing.existing(session, idempotency_key)
    if found is not None and found.message_row_id is not None:
        return _message(session, found)
    recipients = outgoing.addresses(to, field="to")
    if not recipients:
        raise ServiceError(N_("The mail needs a recipient"), field="to")
    mailbox = session.get(Mailbox, ticket.mailbox_id) if ticket.mailbox_id else None
    if mailbox is None:
        raise ServiceError(N_("The ticket has no mailbox to send from"), field="to")
    if ticket.merged_into_id is not None:
        raise ServiceError(N_("The ticket was merged; forward from the ticket it was merged into"))
    chosen = chosen_mail(session, ticket, message_ids)
    files = tickets.attachments_by_message(session, chosen)
    attachments = [
        AttachmentIn(a.filename, a.content_type, sha256=a.sha256)
        for m in chosen
        for a in files.get(m.id or 0, [])
    ]
    blocks = "\n".join(forwarded_block(m) for m in chosen)
    text = (signed(note, agent, mailbox) + "\n" if note.strip() else "") + blocks
    delay = timedelta(seconds=max(0, get_settings().undo_send_seconds))
    try:
        with transaction(session):
            outbound = outgoing.queue_mail(
                session,
                mailbox=mailbox,
                to=recipients,
                subject=forward_subject(ticket),
                text=text,
                attachments=attachments,
                ticket=ticket,
                kind=OutboundKind.forward,
                idempotency_key=idempotency_key,
                agent=agent,
                send_after=utcnow() + delay,
                thread_kind=MessageKind.forward,
            )
            audit.record(
                session,
                action="ticket.forward",
                agent=agent,
                object_type="ticket",
                object_id=ticket.id,
                to=recipients,
                message_ids=[m.id for m in chosen],
                attachments=len(attachments),
                outbound_id=outbound.id,
                forward_id=outbound.message_row_id,
            )
    except IntegrityError as clash:
        first = outgoing.queued_first(session, idempotency_key)
        if first is None:
            raise clash from None
        outbound = first
    return _message(session, outbound)


def _message(session: Session, outbound: OutboundMail) -> Message:
    message = session.get(Message, outbound.message_row_id) if outbound.message_row_id else None
    if message is None:
        raise NotFound("The queued mail has no message")
    return message
