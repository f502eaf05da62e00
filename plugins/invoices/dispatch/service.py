"""What agents and the sync do to a dispatch, and the transitions the steps share.

Agents start one (by the invoice's own method, or another with a reason), confirm a
manual send, retry a failed one from the step that failed, or cancel one that has sent
nothing; the sync reports an invoice that left Netvisor's unsent list. ``mark_sent`` and
``record`` are shared with the worker's steps. See the package docstring for the path.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from helpdesk.plugin_api import (
    N_,
    Agent,
    Conflict,
    ServiceError,
    record_audit,
    retry_failed_mail,
    transaction,
    utcnow,
)
from plugins.invoices.dispatch.gate import Clearance, gate, reason_text
from plugins.invoices.models import (
    INACTIVE_STATES,
    DeliveryMethod,
    Dispatch,
    DispatchMode,
    DispatchState,
    EventKind,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
)
from plugins.invoices.settings import invoice_settings, maventa_settings

METHODS = tuple(m.value for m in DeliveryMethod)
#: The state a failed step resumes from.
RESUME_FROM = {
    "fetch_pdf": DispatchState.queued,
    "send": DispatchState.sending,
    "upload": DispatchState.sending,
    "finalise": DispatchState.sent,
    "notify": DispatchState.finalised,
}


class ActiveDispatch(Conflict):
    """The invoice has an active dispatch already; ``dispatch`` is that one."""

    def __init__(self, dispatch: Dispatch) -> None:
        super().__init__(N_("The invoice is being sent already"), code="dispatch_active")
        self.dispatch = dispatch


def choose_mode(method: str) -> DispatchMode:
    """How a method is carried out with the current settings."""
    maventa = maventa_settings().configured
    if method == DeliveryMethod.email:
        return DispatchMode.email
    if method == DeliveryMethod.post:
        if invoice_settings().post_mode == "maventa" and maventa:
            return DispatchMode.print_maventa
        return DispatchMode.print_netvisor
    return DispatchMode.einvoice_maventa if maventa else DispatchMode.einvoice_download


def recipient_for(invoice: Invoice, method: str) -> str:
    """Where the invoice goes by this method; ServiceError when the details are missing."""
    if method == DeliveryMethod.email:
        address = invoice.email.strip()
        if "@" not in address or " " in address:
            raise ServiceError(N_("The invoice has no valid recipient email address"))
        return address
    if method == DeliveryMethod.einvoice:
        if not (invoice.einvoice_address and invoice.einvoice_operator):
            raise ServiceError(N_("The invoice has no e-invoice address and operator"))
        return f"{invoice.einvoice_address} ({invoice.einvoice_operator})"
    parts = [invoice.customer_name, invoice.customer_address, invoice.customer_postcode]
    if not all(p.strip() for p in parts):
        raise ServiceError(N_("The invoice has no complete postal address"))
    town = f"{invoice.customer_postcode} {invoice.customer_town}".strip()
    return f"{invoice.customer_name}, {invoice.customer_address}, {town}"


def active_dispatch(session: Session, invoice: Invoice) -> Dispatch | None:
    """The invoice's active dispatch, if any."""
    return session.exec(
        select(Dispatch).where(
            Dispatch.invoice_id == invoice.id, col(Dispatch.state).not_in(INACTIVE_STATES)
        )
    ).first()


def latest_dispatch(session: Session, invoice: Invoice) -> Dispatch | None:
    """The invoice's most recent dispatch (active or not)."""
    return session.exec(
        select(Dispatch).where(Dispatch.invoice_id == invoice.id).order_by(col(Dispatch.id).desc())
    ).first()


def dispatches_of(session: Session, invoice: Invoice) -> list[Dispatch]:
    """All of the invoice's dispatches, oldest first."""
    return list(
        session.exec(
            select(Dispatch).where(Dispatch.invoice_id == invoice.id).order_by(col(Dispatch.id))
        )
    )


def record(
    session: Session,
    invoice: Invoice,
    dispatch: Dispatch,
    action: str,
    agent_id: int | None = None,
    **details: Any,
) -> None:
    """One line in the invoice's history and one in the audit log (flushes nothing)."""
    now = utcnow()
    session.add(
        InvoiceEvent(
            invoice_id=invoice.id or 0,
            at=now,
            kind=EventKind.dispatch.value,
            agent_id=agent_id,
            details={
                "action": action,
                "dispatch": dispatch.id,
                "method": dispatch.method,
                "mode": str(dispatch.mode),
                "state": str(dispatch.state),
                **details,
            },
        )
    )
    record_audit(
        session,
        action=f"invoices.dispatch.{action}",
        agent=session.get(Agent, agent_id) if agent_id else None,
        object_type="invoice",
        object_id=invoice.id,
        dispatch=dispatch.id,
        **details,
    )


def _lock_invoice(session: Session, invoice: Invoice) -> None:
    """Inside a unit of work: serialise changes to one invoice's dispatches with a write as
    the unit's first statement (PostgreSQL's row lock; SQLite's unit holds the write lock
    already), then read the invoice afresh."""
    session.exec(update(Invoice).where(col(Invoice.id) == invoice.id).values(status=Invoice.status))
    session.refresh(invoice)


def _by_key(session: Session, key: str | None) -> Dispatch | None:
    if not key:
        return None
    return session.exec(select(Dispatch).where(Dispatch.idempotency_key == key)).first()


def start_dispatch(
    session: Session,
    *,
    invoice: Invoice,
    agent: Agent,
    method: str | None = None,
    method_reason: str | None = None,
    override_reason: str | None = None,
    idempotency_key: str | None = None,
) -> Dispatch:
    """Start sending the invoice by its delivery method (or another one, with a reason).

    Every start passes ``gate.gate``: a Korjattava invoice never goes, and one with a
    failing check (recomputed now) only with ``override_reason``, kept in its history
    (``ChecksFailed`` otherwise). ``method_reason`` explains another method than the
    invoice's own. The same ``idempotency_key`` returns the same dispatch; without one, a
    second start while one is active raises ``ActiveDispatch``. Commits.
    """
    found = _by_key(session, idempotency_key)
    if found is None:
        with transaction(session):
            _lock_invoice(session, invoice)
            found = _by_key(session, idempotency_key) or _new_dispatch(
                session,
                invoice=invoice,
                agent=agent,
                method=method,
                method_reason=method_reason,
                override_reason=override_reason,
                idempotency_key=idempotency_key,
            )
    if found.invoice_id != invoice.id:
        raise Conflict(N_("The Idempotency-Key was used for another invoice"))
    return found


def _new_dispatch(
    session: Session,
    *,
    invoice: Invoice,
    agent: Agent,
    method: str | None,
    method_reason: str | None,
    override_reason: str | None,
    idempotency_key: str | None,
) -> Dispatch:
    """Inside ``start_dispatch``'s unit, with the invoice locked: the new dispatch."""
    active = active_dispatch(session, invoice)
    if active is not None:
        raise ActiveDispatch(active)
    clearance = gate(session, invoice, override_reason=override_reason)
    own = str(invoice.delivery_method) if invoice.delivery_method else None
    chosen = method or own
    if chosen not in METHODS:
        raise ServiceError(N_("The delivery method is unknown: choose one and give a reason"))
    reason = reason_text(method_reason)
    overridden = chosen != own
    if overridden and not reason:
        raise ServiceError(N_("Give a reason for sending by another method"))
    mode = choose_mode(chosen)
    now = utcnow()
    dispatch = Dispatch(
        invoice_id=invoice.id or 0,
        method=chosen,
        mode=mode,
        state=DispatchState.waiting if mode.manual else DispatchState.queued,
        override_reason=reason if overridden else None,
        agent_id=agent.id,
        idempotency_key=idempotency_key,
        recipient=recipient_for(invoice, chosen)[:400],
        created_at=now,
        next_attempt_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(dispatch)
            session.flush()
    except IntegrityError:
        # Someone else started one in the meantime (same key, or the one-active index).
        found = _by_key(session, idempotency_key)
        if found is not None:
            return found
        session.refresh(invoice)
        winner = active_dispatch(session, invoice)
        if winner is not None:
            raise ActiveDispatch(winner) from None
        raise
    invoice.status = InvoiceStatus.dispatching
    session.add(invoice)
    record(session, invoice, dispatch, "start", agent.id, override_reason=dispatch.override_reason)
    if clearance.overridden:
        _record_checks_override(session, invoice, dispatch, agent, clearance)
    return dispatch


def _record_checks_override(
    session: Session, invoice: Invoice, dispatch: Dispatch, agent: Agent, clearance: Clearance
) -> None:
    """The invoice's history says who sent it past which failing checks, when and why."""
    failed = [{"name": c.name, "reason": c.reason} for c in clearance.failed]
    session.add(
        InvoiceEvent(
            invoice_id=invoice.id or 0,
            at=dispatch.created_at,
            kind=EventKind.checks_overridden.value,
            agent_id=agent.id,
            details={
                "dispatch": dispatch.id,
                "reason": clearance.override_reason,
                "failed": failed,
            },
        )
    )
    record_audit(
        session,
        action="invoices.dispatch.checks_overridden",
        agent=agent,
        object_type="invoice",
        object_id=invoice.id,
        dispatch=dispatch.id,
        reason=clearance.override_reason,
        failed=[c.name for c in clearance.failed],
    )


def confirm_sent(session: Session, *, dispatch: Dispatch, agent: Agent | None) -> Dispatch:
    """A manual send is done (in Netvisor, or the Finvoice file sent); the worker finalises."""
    if dispatch.state == DispatchState.sent or dispatch.sent_at is not None:
        return dispatch
    if dispatch.state != DispatchState.waiting:
        raise Conflict(N_("This dispatch is not waiting for a confirmation"))
    invoice = session.get(Invoice, dispatch.invoice_id)
    assert invoice is not None
    with transaction(session):
        mark_sent(session, dispatch, invoice, by=agent.id if agent else dispatch.agent_id)
    return dispatch


def mark_sent(session: Session, dispatch: Dispatch, invoice: Invoice, *, by: int | None) -> None:
    """Record the invoice as sent (flushes nothing; the caller commits)."""
    now = utcnow()
    dispatch.state = DispatchState.sent
    dispatch.sent_at = dispatch.sent_at or now
    dispatch.sent_by = by
    dispatch.next_attempt_at = now
    dispatch.updated_at = now
    dispatch.error = None
    invoice.status = InvoiceStatus.sent
    invoice.left_unsent_at = invoice.left_unsent_at or dispatch.sent_at
    session.add(dispatch)
    session.add(invoice)
    record(session, invoice, dispatch, "sent", by, recipient=dispatch.recipient)


def on_left_unsent(session: Session, invoice: Invoice, netvisor_status: str) -> bool:
    """The sync saw an invoice with an active dispatch leave Netvisor's unsent list.

    A post dispatch waiting for the agent to use Netvisor's print service is thereby sent
    (by the agent who started it). Returns True when the sync should leave the invoice to
    its dispatch. Flushes nothing.
    """
    dispatch = active_dispatch(session, invoice)
    if dispatch is None:
        return False
    invoice.netvisor_status = netvisor_status
    if dispatch.state == DispatchState.waiting and dispatch.mode == DispatchMode.print_netvisor:
        mark_sent(session, dispatch, invoice, by=dispatch.agent_id)
    session.add(invoice)
    return True


def retry_dispatch(session: Session, *, dispatch: Dispatch, agent: Agent) -> Dispatch:
    """Resume a failed dispatch from the step that failed, or run a waiting step now.

    A dispatch that failed before anything went out has put its invoice back in the queue:
    resuming it passes the gate like a new start, without an override (``ChecksFailed``
    then; the agent starts a new dispatch with a reason instead).
    """
    invoice = session.get(Invoice, dispatch.invoice_id)
    assert invoice is not None
    with transaction(session):
        _lock_invoice(session, invoice)
        session.refresh(dispatch)
        now = utcnow()
        if dispatch.active:
            dispatch.next_attempt_at = now
            dispatch.updated_at = now
            session.add(dispatch)
            record(session, invoice, dispatch, "retry_now", agent.id)
            return dispatch
        if dispatch.state != DispatchState.failed or dispatch.failed_step not in RESUME_FROM:
            raise Conflict(N_("Only a failed dispatch can be retried"))
        if invoice.status in (InvoiceStatus.unsent, InvoiceStatus.korjattava):
            # Nothing went out and the invoice is back in the queue, where it may have
            # changed or become Korjattava since: it goes again only through the gate.
            gate(session, invoice, override_reason=None)
        step = dispatch.failed_step
        if step == "send" and dispatch.outbound_mail_id is not None:
            retry_failed_mail(session, outbound_id=dispatch.outbound_mail_id, agent=agent)
        dispatch.state = RESUME_FROM[step]
        dispatch.failed_at = None
        dispatch.next_attempt_at = now
        dispatch.updated_at = now
        dispatch.attempts = 0
        if dispatch.state in (DispatchState.queued, DispatchState.sending):
            invoice.status = InvoiceStatus.dispatching
        try:
            with session.begin_nested():
                session.add(dispatch)
                session.add(invoice)
                session.flush()
        except IntegrityError:
            winner = active_dispatch(session, invoice)
            if winner is not None:
                raise ActiveDispatch(winner) from None
            raise
        record(session, invoice, dispatch, "retry", agent.id, step=step)
    return dispatch


def cancel_dispatch(session: Session, *, dispatch: Dispatch, agent: Agent) -> Dispatch:
    """Give up a dispatch that has sent nothing (waiting or queued); back to the queue."""
    invoice = session.get(Invoice, dispatch.invoice_id)
    assert invoice is not None
    with transaction(session):
        session.refresh(dispatch)
        # A queued dispatch the worker holds may be queueing the mail right now.
        busy = dispatch.state == DispatchState.queued and dispatch.claimed_by is not None
        if dispatch.state not in (DispatchState.waiting, DispatchState.queued) or busy:
            raise Conflict(N_("Only a dispatch that has sent nothing can be cancelled"))
        dispatch.state = DispatchState.cancelled
        dispatch.updated_at = utcnow()
        invoice.status = InvoiceStatus.unsent
        session.add(dispatch)
        session.add(invoice)
        record(session, invoice, dispatch, "cancel", agent.id)
    return dispatch
