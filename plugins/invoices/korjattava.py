"""Korjattava: an invoice that needs the user's corrections before it can go out.

Marking one opens (or reuses) a ticket with the E-tunnus user, links it to the invoice
and sends the questions through the normal reply path, so the user's answer threads back
into that ticket. The invoice leaves the queue for the Korjattavat list and its deadline
pauses. Resolving re-reads the invoice from Netvisor, re-runs the checks and puts it back
in the queue.

The deadline after resolving follows the same-day rule from the moment of resolution, as
if the corrected invoice had just arrived: resolved by 15:00 on a business day, it is due
today; later, the next business day. That is the promise the team already works by, and
"the remaining time" would give odd deadlines (a few minutes, or in the night) when the
user answers days later. The time spent waiting is kept in ``paused_seconds``.

Netvisor gets a comment line when an invoice is marked and when it is resolved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from helpdesk.plugin_api import (
    N_,
    Agent,
    Conflict,
    Message,
    ServiceError,
    Ticket,
    TicketStatus,
    end_read,
    mailbox_by_address,
    record_audit,
    reply,
    reread,
    transaction,
    utcnow,
)
from plugins.invoices.dispatch import texts
from plugins.invoices.dispatch.comments import queue_comment
from plugins.invoices.dispatch.notices import linked_ticket, open_invoice_ticket, user_and_address
from plugins.invoices.dispatch.service import active_dispatch
from plugins.invoices.models import (
    Correction,
    Dispatch,
    EventKind,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
)
from plugins.invoices.netvisor import NetvisorClient, NetvisorError
from plugins.invoices.settings import (
    NetvisorNotConfigured,
    deadline_rules,
    invoice_settings,
    netvisor_client,
)
from plugins.invoices.sync import Refetched, fetch_invoice, refresh_invoice


def open_correction(session: Session, invoice: Invoice) -> Correction | None:
    """The invoice's unresolved Korjattava round, if any."""
    return session.exec(
        select(Correction)
        .where(Correction.invoice_id == invoice.id, col(Correction.resolved_at).is_(None))
        .order_by(col(Correction.id).desc())
    ).first()


def follow_merge(session: Session, *, target: Ticket, sources: Sequence[Ticket]) -> None:
    """Tickets merged into ``target``: the Korjattava rounds and the user notices that
    pointed to a source ticket now point to the target, which holds their mail (a step)."""
    ids = [s.id for s in sources if s.id is not None]
    for model, column in ((Correction, "ticket_id"), (Dispatch, "notice_ticket_id")):
        session.exec(
            update(model)
            .where(col(getattr(model, column)).in_(ids))
            .values({column: target.id})
            .execution_options(synchronize_session="fetch")
        )


def _reasons(invoice: Invoice, checks: Sequence[str], other: str) -> list[dict[str, str]]:
    by_name = {c["name"]: c for c in invoice.checks}
    reasons = [
        {"name": name, "text": str(by_name[name].get("reason", ""))}
        for name in dict.fromkeys(checks)
        if name in by_name
    ]
    if other.strip():
        reasons.append({"name": "other", "text": other.strip()})
    return reasons


def join_reasons(texts: Iterable[str]) -> str:
    """Reasons as one line of sentences: ``Viite puuttuu. Tarkista summa.`` (never
    ``puuttuu.; Tarkista``)."""
    sentences = []
    for text in texts:
        sentence = " ".join(text.split()).rstrip(";,")
        if sentence:
            sentences.append(sentence if sentence[-1] in ".!?" else sentence + ".")
    return " ".join(sentences)


def answered_at(session: Session, corrections: Sequence[Correction]) -> dict[int, datetime]:
    """When the user last wrote in each round's ticket after it was marked (by round id):
    the "the user answered" marker of the Korjattavat list, one query for the page."""
    by_ticket = {c.ticket_id: c for c in corrections if c.ticket_id is not None and c.id}
    if not by_ticket:
        return {}
    rows = session.exec(
        select(Message.ticket_id, func.max(Message.created_at))
        .where(col(Message.ticket_id).in_(list(by_ticket)), Message.kind == "incoming")
        .group_by(col(Message.ticket_id))
    ).all()
    found: dict[int, datetime] = {}
    for ticket_id, last in rows:
        correction = by_ticket[ticket_id]
        if last is not None and last >= correction.marked_at:
            found[correction.id or 0] = last
    return found


def default_message(invoice: Invoice, reasons: list[dict[str, str]]) -> str:
    """The questions to the user, in Finnish, from the reasons."""
    lines = "\n".join(f"- {r['text']}" for r in reasons)
    return (
        f"Hei,\n\nlaskussasi {invoice.number} ({invoice.customer_name}) on asioita, jotka "
        f"pitää korjata ennen kuin voimme lähettää sen eteenpäin:\n\n{lines}\n\n"
        "Korjaathan laskun oma.e-tunnus.fi-palvelussa ja vastaat tähän viestiin, kun "
        "olet korjannut sen."
    )


def _ticket_for(session: Session, invoice: Invoice, subject: str) -> tuple[Ticket, str]:
    user, address = user_and_address(session, invoice)
    ticket = linked_ticket(session, invoice)
    if ticket is None:
        box = invoice_settings().notify_mailbox
        mailbox = mailbox_by_address(session, box)
        if mailbox is None:
            raise ServiceError(f"The mailbox {box} does not exist")
        ticket = open_invoice_ticket(
            session,
            invoice,
            mailbox=mailbox,
            subject=subject,
            user=user,
            address=address,
            status=TicketStatus.pending,
        )
    return ticket, address


def mark_korjattava(
    session: Session,
    *,
    invoice: Invoice,
    agent: Agent,
    checks: Sequence[str] = (),
    other: str = "",
    message: str = "",
) -> Correction:
    """Mark the invoice Korjattava and send the questions to its user from a ticket.

    One unit of work: the ticket, the link, the invoice's new state and the mail together.
    """
    with transaction(session):
        return _mark(session, invoice, agent, checks, other, message)


def _mark(
    session: Session,
    invoice: Invoice,
    agent: Agent,
    checks: Sequence[str],
    other: str,
    message: str,
) -> Correction:
    reread(session, invoice)  # its state decides; another agent may have acted meanwhile
    if invoice.status == InvoiceStatus.korjattava:
        found = open_correction(session, invoice)
        if found is not None:
            return found
    if invoice.status != InvoiceStatus.unsent or active_dispatch(session, invoice) is not None:
        raise Conflict(N_("Only an invoice waiting in the queue can be marked Korjattava"))
    reasons = _reasons(invoice, checks, other)
    if not reasons:
        raise ServiceError(N_("Choose at least one reason or write one"))
    body = message.strip() or default_message(invoice, reasons)
    now = utcnow()
    ticket, address = _ticket_for(session, invoice, f"Laskun {invoice.number} korjaaminen")
    correction = Correction(
        invoice_id=invoice.id or 0,
        ticket_id=ticket.id,
        reasons=reasons,
        message=body,
        agent_id=agent.id,
        marked_at=now,
    )
    session.add(correction)
    invoice.status = InvoiceStatus.korjattava
    invoice.paused_at = now
    session.add(invoice)
    session.flush()
    session.add(
        InvoiceEvent(
            invoice_id=invoice.id or 0,
            at=now,
            kind=EventKind.korjattava.value,
            agent_id=agent.id,
            details={"reasons": reasons, "ticket": ticket.number, "correction": correction.id},
        )
    )
    summary = join_reasons(r["text"] for r in reasons)
    queue_comment(
        session,
        invoice=invoice,
        key=f"korjattava-{correction.id}",
        text=f"Merkitty korjattavaksi {texts.local_time(now)} / {agent.name}: {summary}",
    )
    record_audit(
        session,
        action="invoices.korjattava",
        agent=agent,
        object_type="invoice",
        object_id=invoice.id,
        ticket_id=ticket.id,
        reasons=[r["name"] for r in reasons],
    )
    reply(  # joins this unit of work
        session,
        ticket=ticket,
        agent=agent,
        body=body,
        to=[address],
        confirm=True,
        idempotency_key=f"korjattava-{correction.id}",
    )
    return correction


def resolve(
    session: Session, *, invoice: Invoice, agent: Agent, client: NetvisorClient
) -> Correction:
    """Re-read the invoice from Netvisor, re-run the checks, back to the queue.

    Netvisor is asked first, with no transaction open; then one unit of work writes.
    """
    if invoice.status != InvoiceStatus.korjattava or open_correction(session, invoice) is None:
        raise Conflict(N_("The invoice is not Korjattava"))
    end_read(session)
    try:
        fetched = fetch_invoice(client, invoice)
    except NetvisorError as exc:
        raise ServiceError(f"{exc} — {exc.detail}" if exc.detail else str(exc)) from None
    with transaction(session):
        return _resolved(session, invoice, agent, fetched)


def _resolved(session: Session, invoice: Invoice, agent: Agent, fetched: Refetched) -> Correction:
    # Read again inside the unit: another agent may have resolved it while Netvisor answered.
    correction = open_correction(session, reread(session, invoice))
    if invoice.status != InvoiceStatus.korjattava or correction is None:
        raise Conflict(N_("The invoice is not Korjattava"))
    still_unsent = refresh_invoice(session, invoice, fetched)
    now = utcnow()
    if invoice.paused_at is not None:
        invoice.paused_seconds += int((now - invoice.paused_at).total_seconds())
    invoice.paused_at = None
    if still_unsent:
        invoice.status = InvoiceStatus.unsent
        invoice.deadline_at = deadline_rules().deadline_for(now)
    else:
        invoice.status = InvoiceStatus.left_netvisor
        invoice.left_unsent_at = now
    correction.resolved_at = now
    correction.resolved_by = agent.id
    session.add(invoice)
    session.add(correction)
    session.add(
        InvoiceEvent(
            invoice_id=invoice.id or 0,
            at=now,
            kind=EventKind.resolved.value,
            agent_id=agent.id,
            details={
                "correction": correction.id,
                "deadline": invoice.deadline_at.isoformat(),
                "failed": [c["name"] for c in invoice.failed_checks],
                "netvisor_status": invoice.netvisor_status,
            },
        )
    )
    queue_comment(
        session,
        invoice=invoice,
        key=f"resolved-{correction.id}",
        text=f"Korjattu {texts.local_time(now)} / {agent.name} (E-tunnus helpdesk)",
    )
    record_audit(
        session,
        action="invoices.resolve",
        agent=agent,
        object_type="invoice",
        object_id=invoice.id,
        correction=correction.id,
        status=str(invoice.status),
    )
    return correction


def resolve_invoice(session: Session, *, invoice: Invoice, agent: Agent) -> Correction:
    """:func:`resolve` with a client for the configured Netvisor (pages and the API)."""
    try:
        client = netvisor_client()
    except NetvisorNotConfigured as exc:
        raise ServiceError(str(exc)) from None
    with client:
        return resolve(session, invoice=invoice, agent=agent, client=client)
