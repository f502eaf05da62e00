"""Telling the E-tunnus user that their invoice went out ("Laskusi … on lähetetty …").

Where the notice lives: always in a ticket, so it shows on the user's page and an answer
threads back to the team. If the invoice is linked to a ticket (the user asked about it,
or it was Korjattava), the notice goes into the newest such ticket as an outgoing
message; otherwise a new ticket is opened for the user in the notify mailbox, linked to
the invoice and closed at once (nothing to do unless the user answers, which reopens it).
The mail goes through the outbox with the key ``invoice-notice-<dispatch id>``: once.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from helpdesk.plugin_api import (
    EtunnusUser,
    Mailbox,
    OutboundKind,
    OutboundMail,
    ServiceError,
    Ticket,
    TicketLink,
    TicketStatus,
    emails_of,
    mailbox_by_address,
    open_ticket,
    queue_mail,
    ticket_subject,
    transaction,
)
from plugins.invoices.dispatch import texts
from plugins.invoices.models import Dispatch, Invoice
from plugins.invoices.settings import invoice_settings


def invoice_link(session: Session, ticket: Ticket, invoice: Invoice) -> TicketLink:
    """Link the ticket to the invoice (a step: flushes only); an existing link is kept."""
    target = str(invoice.id)
    row = session.exec(
        select(TicketLink).where(
            TicketLink.ticket_id == ticket.id,
            TicketLink.kind == "invoice",
            TicketLink.target == target,
        )
    ).first()
    if row is None:
        row = TicketLink(
            ticket_id=ticket.id or 0,
            kind="invoice",
            target=target,
            label=f"Lasku {invoice.number}",
            found_text=invoice.number,
            source="manual",
            details={"url": f"/invoices/{invoice.id}", "etunnus": invoice.etunnus},
        )
    row.state = "linked"
    session.add(row)
    session.flush()
    return row


def linked_ticket(session: Session, invoice: Invoice) -> Ticket | None:
    """The newest ticket linked to the invoice, if any."""
    return session.exec(
        select(Ticket)
        .join(TicketLink, col(TicketLink.ticket_id) == col(Ticket.id))
        .where(
            TicketLink.kind == "invoice",
            TicketLink.target == str(invoice.id),
            TicketLink.state == "linked",
        )
        .order_by(col(Ticket.last_message_at).desc(), col(Ticket.id).desc())
    ).first()


def open_invoice_ticket(
    session: Session,
    invoice: Invoice,
    *,
    mailbox: Mailbox,
    subject: str,
    user: EtunnusUser,
    address: str,
    status: TicketStatus,
) -> Ticket:
    """A new ticket with the invoice's user, linked to the invoice (a step: flushes only)."""
    ticket = open_ticket(
        session,
        subject=subject,
        mailbox=mailbox,
        customer_email=address,
        customer_name=user.name,
        user=user,
        status=status,
    )
    invoice_link(session, ticket, invoice)
    return ticket


def user_and_address(session: Session, invoice: Invoice) -> tuple[EtunnusUser, str]:
    """The invoice's E-tunnus user and their first address; ServiceError without them."""
    user = session.get(EtunnusUser, invoice.user_id) if invoice.user_id else None
    if user is None:
        raise ServiceError("The invoice's E-tunnus user is unknown")
    addresses = emails_of(session, user)
    if not addresses:
        raise ServiceError(f"The E-tunnus user {user.etunnus} has no email address")
    return user, addresses[0]


def queue_notice(session: Session, *, dispatch: Dispatch, invoice: Invoice) -> OutboundMail:
    """Queue the notice (a unit of work).

    Inside the dispatch step's unit it joins it, so the notice and the dispatch's new
    state commit together.
    """
    user, address = user_and_address(session, invoice)
    box_address = invoice_settings().notify_mailbox
    mailbox = mailbox_by_address(session, box_address)
    if mailbox is None:
        raise ServiceError(f"The notice mailbox {box_address} does not exist")
    values = texts.invoice_values(invoice) | {
        "nimi": user.name.split(" ")[0] if user.name else "",
        "tapa": texts.how_sent(dispatch.method, _plain_recipient(dispatch)),
        "aika": texts.local_time(dispatch.sent_at or dispatch.created_at),
    }
    subject, body = texts.render_text(session, texts.USER_NOTICE, values)
    with transaction(session):
        ticket = linked_ticket(session, invoice)
        if ticket is None:
            ticket = open_invoice_ticket(
                session,
                invoice,
                mailbox=mailbox,
                subject=subject,
                user=user,
                address=address,
                status=TicketStatus.closed,
            )
        outbound = queue_mail(
            session,
            mailbox=mailbox,
            to=[address],
            subject=ticket_subject(subject, ticket),
            text=body.rstrip() + "\n",
            ticket=ticket,
            kind=OutboundKind.notice,
            idempotency_key=f"invoice-notice-{dispatch.id}",
            to_names={address: user.name},
        )
        dispatch.notice_mail_id = outbound.id
        dispatch.notice_ticket_id = ticket.id
        session.add(dispatch)
    return outbound


def _plain_recipient(dispatch: Dispatch) -> str:
    # The e-invoice recipient is stored as "address (operator)"; the notice names the address.
    return (
        dispatch.recipient.split(" (")[0] if dispatch.method == "einvoice" else dispatch.recipient
    )
