"""One step of a dispatch at a time; each is idempotent and committed before the next.

See the package docstring for the whole path. A step returns an ``Outcome``: go on with
the next step, try again later (with backoff), or fail with the step's name. The runner
(``runner``) holds the claim while a step runs.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from helpdesk.plugin_api import (
    Agent,
    AttachmentIn,
    BlobStore,
    OutboundKind,
    OutboundMail,
    ServiceError,
    get_settings,
    mailbox_by_address,
    queue_mail,
    utcnow,
)
from plugins.invoices.dispatch import texts
from plugins.invoices.dispatch.comments import queue_comment
from plugins.invoices.dispatch.einvoice import finvoice_for
from plugins.invoices.dispatch.notices import queue_notice
from plugins.invoices.dispatch.service import mark_sent, record
from plugins.invoices.maventa.client import MaventaClient
from plugins.invoices.maventa.errors import MaventaError, MaventaUnavailableError
from plugins.invoices.models import Dispatch, DispatchMode, DispatchState, Invoice, InvoiceStatus
from plugins.invoices.netvisor import NetvisorClient, NetvisorError
from plugins.invoices.settings import invoice_settings

log = logging.getLogger(__name__)

#: Test-only crash points (HELPDESK_ENVIRONMENT=test): kill the worker between two steps.
CRASH_ENV = "HELPDESK_DISPATCH_TEST_CRASH"
#: Transient failures before anything may have gone out are retried this many times.
MAX_ATTEMPTS = 6
POLL_OUTBOX = timedelta(seconds=2)
MODE_WORDS = {
    DispatchMode.email: "sähköpostilla",
    DispatchMode.print_netvisor: "postitse (Netvisorin tulostuspalvelu)",
    DispatchMode.print_maventa: "postitse (Maventan tulostuspalvelu)",
    DispatchMode.einvoice_maventa: "verkkolaskuna (Maventa)",
    DispatchMode.einvoice_download: "verkkolaskuna (Finvoice-tiedosto)",
}


@dataclass(frozen=True)
class Outcome:
    """What the runner does next: ``next`` step, ``later`` after ``delay``, or ``stop``."""

    kind: str
    delay: timedelta = timedelta(0)


NEXT = Outcome("next")
STOP = Outcome("stop")


def later(delay: timedelta) -> Outcome:
    return Outcome("later", delay)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class Clients:
    """Netvisor and Maventa clients made on first use and closed after the run."""

    netvisor_factory: Callable[[], NetvisorClient]
    maventa_factory: Callable[[], MaventaClient]
    _netvisor: NetvisorClient | None = None
    _maventa: MaventaClient | None = None

    def netvisor(self) -> NetvisorClient:
        if self._netvisor is None:
            self._netvisor = self.netvisor_factory()
        return self._netvisor

    def maventa(self) -> MaventaClient:
        if self._maventa is None:
            self._maventa = self.maventa_factory()
        return self._maventa

    def close(self) -> None:
        for client in (self._netvisor, self._maventa):
            if client is not None:
                client.close()


def _crash(point: str) -> None:
    if os.environ.get(CRASH_ENV) == point and get_settings().environment == "test":
        os.kill(os.getpid(), signal.SIGKILL)


def _store() -> BlobStore:
    return BlobStore(get_settings().blob_dir)


def fail(
    session: Session, dispatch: Dispatch, invoice: Invoice, step: str, error: str, *, safe: bool
) -> Outcome:
    """The step failed for good. ``safe``: nothing can have gone out, so the invoice goes
    back to the queue (a new dispatch may start); otherwise only this one can be retried."""
    now = utcnow()
    dispatch.state = DispatchState.failed
    dispatch.failed_step = step
    dispatch.error = error[:2000]
    dispatch.failed_at = now
    dispatch.updated_at = now
    if safe and dispatch.sent_at is None:
        invoice.status = InvoiceStatus.unsent
    session.add(dispatch)
    session.add(invoice)
    record(session, invoice, dispatch, "failed", step=step, error=error[:500])
    session.commit()
    return STOP


def _retry_or_fail(
    session: Session, dispatch: Dispatch, invoice: Invoice, step: str, error: str, *, safe: bool
) -> Outcome:
    dispatch.attempts += 1
    dispatch.error = error[:2000]
    if dispatch.attempts >= MAX_ATTEMPTS:
        return fail(session, dispatch, invoice, step, error, safe=safe)
    session.add(dispatch)
    session.commit()
    return later(backoff(dispatch.attempts))


def _ensure_pdf(
    session: Session, dispatch: Dispatch, invoice: Invoice, clients: Clients
) -> Outcome | None:
    if dispatch.pdf_sha256:
        return None
    session.commit()  # no transaction open during the call
    try:
        pdf = clients.netvisor().get_sales_invoice_pdf(invoice.netvisor_key)
    except NetvisorError as exc:
        if exc.transient:
            return _retry_or_fail(session, dispatch, invoice, "fetch_pdf", str(exc), safe=True)
        return fail(session, dispatch, invoice, "fetch_pdf", str(exc), safe=True)
    if not pdf:
        return fail(session, dispatch, invoice, "fetch_pdf", "Netvisor has no PDF", safe=True)
    dispatch.pdf_sha256 = _store().put(pdf)
    session.add(dispatch)
    session.commit()
    return None


def _queue_email(session: Session, dispatch: Dispatch, invoice: Invoice) -> Outcome:
    address = invoice_settings().sender_mailbox
    mailbox = mailbox_by_address(session, address)
    if mailbox is None or not mailbox.can_send:
        reason = f"The sender mailbox {address} is missing or has no SMTP settings"
        return fail(session, dispatch, invoice, "send", reason, safe=True)
    subject, body = texts.render_text(session, texts.INVOICE_EMAIL, texts.invoice_values(invoice))
    try:
        outbound = queue_mail(
            session,
            mailbox=mailbox,
            to=[dispatch.recipient],
            subject=subject,
            text=body.rstrip() + "\n",
            attachments=[
                AttachmentIn(
                    filename=f"lasku-{invoice.number}.pdf",
                    content_type="application/pdf",
                    sha256=dispatch.pdf_sha256,
                )
            ],
            kind=OutboundKind.invoice,
            idempotency_key=f"invoice-dispatch-{dispatch.id}",
            commit=False,
        )
    except ServiceError as exc:
        session.rollback()
        return fail(session, dispatch, invoice, "send", str(exc), safe=True)
    now = utcnow()
    dispatch.outbound_mail_id = outbound.id
    dispatch.state = DispatchState.sending
    dispatch.sending_at = now
    dispatch.updated_at = now
    session.add(dispatch)
    record(session, invoice, dispatch, "queued_mail", outbound=outbound.id)
    session.commit()  # the mail and the new state in one commit
    _crash("after-queue-mail")
    return NEXT


def _check_outbox(session: Session, dispatch: Dispatch, invoice: Invoice) -> Outcome:
    outbound = session.get(OutboundMail, dispatch.outbound_mail_id or 0)
    if outbound is None:
        return fail(session, dispatch, invoice, "send", "The queued mail is gone", safe=True)
    session.refresh(outbound)
    if outbound.status == "sent":
        mark_sent(session, dispatch, invoice, by=dispatch.agent_id)
        dispatch.sent_at = outbound.sent_at or dispatch.sent_at
        session.commit()
        return NEXT
    if outbound.status in ("failed", "cancelled"):
        error = outbound.last_error or f"The mail was {outbound.status}"
        return fail(session, dispatch, invoice, "send", error, safe=True)
    return later(POLL_OUTBOX)


def _document(
    session: Session, dispatch: Dispatch, invoice: Invoice, clients: Clients
) -> Outcome | None:
    """The file to upload: the PDF for print, the Finvoice XML for e-invoice."""
    if dispatch.mode == DispatchMode.print_maventa:
        return _ensure_pdf(session, dispatch, invoice, clients)
    if dispatch.document_sha256:
        return None
    try:
        xml = finvoice_for(invoice, message_id=f"etunnus-dispatch-{dispatch.id}")
    except ValueError as exc:
        return fail(session, dispatch, invoice, "build", str(exc), safe=True)
    dispatch.document_sha256 = _store().put(xml)
    session.add(dispatch)
    session.commit()
    return None


def upload_name(dispatch: Dispatch, invoice: Invoice) -> str:
    """The uploaded file's name: unique per dispatch, so a retry can find an earlier upload."""
    suffix = "pdf" if dispatch.mode == DispatchMode.print_maventa else "xml"
    return f"etunnus-{invoice.number}-dispatch-{dispatch.id}.{suffix}"


def _find_upload(client: MaventaClient, name: str) -> str | None:
    for found in client.list_invoices():
        files = found.raw.get("files") or []
        if any(isinstance(f, dict) and f.get("file") == name for f in files):
            return found.id
    return None


def _upload(session: Session, dispatch: Dispatch, invoice: Invoice, clients: Clients) -> Outcome:
    name = upload_name(dispatch, invoice)
    session.commit()
    try:
        client = clients.maventa()
        if dispatch.maventa_invoice_id is None and dispatch.upload_started_at is not None:
            # An earlier attempt may have reached Maventa before we could store its id.
            dispatch.maventa_invoice_id = _find_upload(client, name)
        if dispatch.maventa_invoice_id is None:
            dispatch.upload_started_at = utcnow()
            session.add(dispatch)
            session.commit()
            if dispatch.mode == DispatchMode.print_maventa:
                data, content_type = _store().get(dispatch.pdf_sha256 or ""), "application/pdf"
                routing: dict[str, str | list[str]] = {"disabled_routes": ["email", "einvoice"]}
            else:
                data, content_type = _store().get(dispatch.document_sha256 or ""), "text/xml"
                routing = {
                    "format": "finvoice",
                    "recipient_eia": invoice.einvoice_address,
                    "recipient_operator": invoice.einvoice_operator,
                }
            routing["sender_comment"] = f"E-tunnus helpdesk, dispatch {dispatch.id}"
            uploaded = client.upload_invoice(data, name, content_type=content_type, routing=routing)
            _crash("after-upload")
            dispatch.maventa_invoice_id = uploaded.id
    except MaventaUnavailableError as exc:
        # Unknown whether it arrived: never let a new dispatch start; look before retrying.
        return _retry_or_fail(session, dispatch, invoice, "upload", str(exc), safe=False)
    except MaventaError as exc:
        safe = dispatch.maventa_invoice_id is None
        return fail(session, dispatch, invoice, "upload", str(exc), safe=safe)
    session.add(dispatch)
    session.commit()  # the Maventa id first, then "sent"
    mark_sent(session, dispatch, invoice, by=dispatch.agent_id)
    session.commit()
    return NEXT


def comment_text(session: Session, dispatch: Dispatch) -> str:
    """``Lähetetty sähköpostilla x 26.11.2026 klo 14.05 / Anna (E-tunnus helpdesk)``."""
    who = session.get(Agent, dispatch.sent_by or dispatch.agent_id or 0)
    words = MODE_WORDS.get(dispatch.mode, dispatch.method)
    target = f" {dispatch.recipient}" if dispatch.method != "post" else ""
    when = texts.local_time(dispatch.sent_at or utcnow())
    name = who.name if who else "worker"
    return f"Lähetetty {words}{target} {when} / {name} (E-tunnus helpdesk)"


def _finalise(session: Session, dispatch: Dispatch, invoice: Invoice, clients: Clients) -> Outcome:
    # Netvisor's own print service already moved the invoice on; setting "open" again
    # would change nothing, so only the comment is added then.
    already = dispatch.mode == DispatchMode.print_netvisor and invoice.netvisor_status != "unsent"
    session.commit()
    if not already:
        try:
            clients.netvisor().update_sales_invoice_status([invoice.netvisor_key], "open")
        except NetvisorError as exc:
            # Retried later, for as long as it takes: what was sent is never sent again.
            dispatch.finalise_attempts += 1
            dispatch.error = f"{exc} — {exc.detail}" if exc.detail else str(exc)
            dispatch.updated_at = utcnow()
            session.add(dispatch)
            record(session, invoice, dispatch, "finalise_failed", error=str(exc)[:500])
            session.commit()
            return later(backoff(dispatch.finalise_attempts))
        invoice.netvisor_status = "open"
    now = utcnow()
    dispatch.state = DispatchState.finalised
    dispatch.finalised_at = now
    dispatch.updated_at = now
    dispatch.error = None
    invoice.status = InvoiceStatus.finalised
    session.add(dispatch)
    session.add(invoice)
    queue_comment(
        session,
        invoice=invoice,
        key=f"dispatch-{dispatch.id}",
        text=comment_text(session, dispatch),
    )
    record(session, invoice, dispatch, "finalised", netvisor_status=invoice.netvisor_status)
    session.commit()
    return NEXT


def _notify(session: Session, dispatch: Dispatch, invoice: Invoice) -> Outcome:
    try:
        outbound = queue_notice(session, dispatch=dispatch, invoice=invoice)
    except ServiceError as exc:
        session.rollback()
        return fail(session, dispatch, invoice, "notify", str(exc), safe=False)
    now = utcnow()
    dispatch.state = DispatchState.user_notified
    dispatch.notified_at = now
    dispatch.updated_at = now
    session.add(dispatch)
    record(session, invoice, dispatch, "user_notified", outbound=outbound.id)
    session.commit()
    return STOP


def run_step(session: Session, dispatch: Dispatch, invoice: Invoice, clients: Clients) -> Outcome:
    """Run the dispatch's next step."""
    state, mode = dispatch.state, dispatch.mode
    if state == DispatchState.queued:
        if mode == DispatchMode.email:
            return _ensure_pdf(session, dispatch, invoice, clients) or _queue_email(
                session, dispatch, invoice
            )
        if mode in (DispatchMode.print_maventa, DispatchMode.einvoice_maventa):
            problem = _document(session, dispatch, invoice, clients)
            if problem is not None:
                return problem
            dispatch.state = DispatchState.sending
            dispatch.sending_at = utcnow()
            session.add(dispatch)
            session.commit()
            return NEXT
        return STOP  # manual modes wait for the agent
    if state == DispatchState.sending:
        if mode == DispatchMode.email:
            return _check_outbox(session, dispatch, invoice)
        return _upload(session, dispatch, invoice, clients)
    if state == DispatchState.sent:
        return _finalise(session, dispatch, invoice, clients)
    if state == DispatchState.finalised:
        return _notify(session, dispatch, invoice)
    return STOP
