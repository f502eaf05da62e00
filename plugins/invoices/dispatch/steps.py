"""One step of a dispatch at a time; each is idempotent and committed before the next.

See the package docstring for the whole path. A step returns an ``Outcome``: go on with
the next step, try again later (with backoff), or fail with the step's name. The runner
(``runner``) claims the dispatch from the core's work queue (``DISPATCHES``) and hands
each step a ``Work``: every write of a step is a unit of work on the claimed row
(``Work.unit``), which refuses to write once another worker has taken the row over, and
every call to Netvisor or Maventa is made between units, never inside one.
"""

from __future__ import annotations

import io
import logging
import uuid
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from helpdesk.plugin_api import (
    Agent,
    AttachmentIn,
    Lease,
    OutboundKind,
    Queue,
    ServiceError,
    blob_store,
    mail_delivery,
    mailbox_by_address,
    queue_mail,
    utcnow,
)
from plugins.invoices.dispatch import texts
from plugins.invoices.dispatch.comments import queue_comment
from plugins.invoices.dispatch.einvoice import finvoice_for
from plugins.invoices.dispatch.notices import queue_notice
from plugins.invoices.dispatch.service import mark_sent, record
from plugins.invoices.maventa import (
    FINVOICE30,
    MaventaClient,
    MaventaError,
    MaventaInvoice,
    MaventaUnavailableError,
)
from plugins.invoices.models import Dispatch, DispatchMode, DispatchState, Invoice, InvoiceStatus
from plugins.invoices.netvisor import NetvisorClient, NetvisorError
from plugins.invoices.settings import invoice_settings

log = logging.getLogger(__name__)

#: Dispatches as a work queue: a claim lasts 10 minutes unless renewed (a step's Netvisor
#: call may take 120 s x 3 tries); transient failures before anything may have gone out
#: wait 30 s, 1 min, 2 min ... up to an hour, 6 attempts in all.
DISPATCHES = Queue(
    Dispatch,
    "dispatch",
    lease=timedelta(minutes=10),
    max_retry=timedelta(hours=1),
    max_attempts=6,
)
POLL_OUTBOX = timedelta(seconds=2)
#: Polling Maventa after an upload: at first every 30 s, growing to once an hour.
POLL_MAVENTA_FIRST = timedelta(seconds=30)
POLL_MAVENTA_MAX = timedelta(hours=1)
#: An upload Maventa has not reported delivered after this long is flagged on the invoice.
DELIVERY_OVERDUE = timedelta(days=2)
DELIVERY_OVERDUE_TEXT = (
    "Maventa ei ole vielä ilmoittanut laskua toimitetuksi"
    " (Maventa has not reported the invoice delivered yet)"
)
#: The time stamped on a print ZIP's members, so the same files make the same bytes.
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
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


@dataclass
class Work:
    """One claimed dispatch as its steps see it."""

    session: Session
    lease: Lease[Dispatch]
    dispatch: Dispatch
    invoice: Invoice
    clients: Clients

    def unit(self) -> AbstractContextManager[Session]:
        """A unit of work on the dispatch; ``LeaseLost`` once another worker has it."""
        return self.lease.unit(self.session, self.dispatch.id or 0)


def _record_failure(session: Session, work: Work, step: str, error: str, *, safe: bool) -> None:
    dispatch, invoice = work.dispatch, work.invoice
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


def fail(work: Work, step: str, error: str, *, safe: bool) -> Outcome:
    """The step failed for good. ``safe``: nothing can have gone out, so the invoice goes
    back to the queue (a new dispatch may start); otherwise only this one can be retried."""
    with work.unit() as session:
        _record_failure(session, work, step, error, safe=safe)
    return STOP


def _retry_or_fail(work: Work, step: str, error: str, *, safe: bool) -> Outcome:
    """A transient failure: try again after the backoff, or fail once attempts run out."""
    dispatch = work.dispatch
    with work.unit() as session:
        dispatch.attempts += 1
        dispatch.error = error[:2000]
        session.add(dispatch)
        delay = DISPATCHES.retry_after(dispatch.attempts)
        if delay is None:
            _record_failure(session, work, step, error, safe=safe)
    return STOP if delay is None else later(delay)


def _ensure_pdf(work: Work) -> Outcome | None:
    dispatch, invoice = work.dispatch, work.invoice
    if dispatch.pdf_sha256:
        return None
    try:
        pdf = work.clients.netvisor().get_sales_invoice_pdf(invoice.netvisor_key)
    except NetvisorError as exc:
        if exc.transient:
            return _retry_or_fail(work, "fetch_pdf", str(exc), safe=True)
        return fail(work, "fetch_pdf", str(exc), safe=True)
    if not pdf:
        return fail(work, "fetch_pdf", "Netvisor has no PDF", safe=True)
    sha256 = blob_store().put(pdf)
    with work.unit() as session:
        dispatch.pdf_sha256 = sha256
        session.add(dispatch)
    return None


def _queue_email(work: Work) -> Outcome:
    session, dispatch, invoice = work.session, work.dispatch, work.invoice
    address = invoice_settings().sender_mailbox
    mailbox = mailbox_by_address(session, address)
    if mailbox is None or not mailbox.can_send:
        reason = f"The sender mailbox {address} is missing or has no SMTP settings"
        return fail(work, "send", reason, safe=True)
    subject, body = texts.render_text(session, texts.INVOICE_EMAIL, texts.invoice_values(invoice))
    try:
        # The mail and the dispatch's new state in one unit: both or neither.
        with work.unit():
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
            )
            now = utcnow()
            dispatch.outbound_mail_id = outbound.id
            dispatch.state = DispatchState.sending
            dispatch.sending_at = now
            dispatch.updated_at = now
            session.add(dispatch)
            record(session, invoice, dispatch, "queued_mail", outbound=outbound.id)
    except ServiceError as exc:
        return fail(work, "send", str(exc), safe=True)
    DISPATCHES.crash_point("after-queue-mail")
    return NEXT


def _check_outbox(work: Work) -> Outcome:
    session, dispatch, invoice = work.session, work.dispatch, work.invoice
    delivery = mail_delivery(session, dispatch.outbound_mail_id or 0)
    if delivery is None:
        return fail(work, "send", "The queued mail is gone", safe=True)
    if delivery.status == "sent":
        with work.unit():
            mark_sent(session, dispatch, invoice, by=dispatch.agent_id)
            dispatch.sent_at = delivery.sent_at or dispatch.sent_at
        return NEXT
    if delivery.status in ("failed", "cancelled"):
        error = delivery.error or f"The mail was {delivery.status}"
        return fail(work, "send", error, safe=True)
    return later(POLL_OUTBOX)


def _document(work: Work) -> Outcome | None:
    """The file to upload, built once and kept: the Finvoice XML for an e-invoice; for
    print a ZIP of the Finvoice XML (the buyer's postal address, which print needs, is in
    it) and Netvisor's PDF as the printed image. AX takes an invoice XML or such a ZIP,
    never a PDF alone (maventa/API_NOTES.md)."""
    dispatch = work.dispatch
    printing = dispatch.mode == DispatchMode.print_maventa
    if printing:
        problem = _ensure_pdf(work)
        if problem is not None:
            return problem
    if dispatch.document_sha256:
        return None
    try:
        xml = finvoice_for(work.invoice, message_id=f"etunnus-dispatch-{dispatch.id}")
    except ValueError as exc:
        return fail(work, "build", str(exc), safe=True)
    data = (
        _print_package(work.invoice, xml, blob_store().get(dispatch.pdf_sha256 or ""))
        if printing
        else xml
    )
    sha256 = blob_store().put(data)
    with work.unit() as session:
        dispatch.document_sha256 = sha256
        session.add(dispatch)
    return None


def _print_package(invoice: Invoice, xml: bytes, pdf: bytes) -> bytes:
    """The ZIP a print upload carries: the invoice XML and its image."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (
            (f"lasku-{invoice.number}.xml", xml),
            (f"lasku-{invoice.number}.pdf", pdf),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_TIME), content)
    return buffer.getvalue()


def upload_name(dispatch: Dispatch, invoice: Invoice) -> str:
    """The uploaded file's name (Maventa's ``files[].filename``): unique per dispatch."""
    suffix = "zip" if dispatch.mode == DispatchMode.print_maventa else "xml"
    return f"etunnus-{invoice.number}-dispatch-{dispatch.id}.{suffix}"


def upload_routing(dispatch: Dispatch, invoice: Invoice) -> dict[str, str | list[str]]:
    """The upload's routing fields: one route only, so that a failure comes back to us
    instead of going out another way (an e-invoice printed, a letter e-mailed)."""
    if dispatch.mode == DispatchMode.print_maventa:
        return {"format": FINVOICE30, "disabled_routes": ["email", "einvoice"]}
    return {
        "format": FINVOICE30,
        "recipient_eia": invoice.einvoice_address,
        "recipient_operator": invoice.einvoice_operator,
        "disabled_routes": ["email", "print"],
    }


def _upload_document(
    client: MaventaClient, dispatch: Dispatch, invoice: Invoice, chosen: str
) -> MaventaInvoice:
    """Upload the dispatch's file under the uuid ``chosen``. Refused, it is looked up by that
    uuid: a refusal may be Maventa's answer to a duplicate of an upload that did arrive."""
    printing = dispatch.mode == DispatchMode.print_maventa
    try:
        return client.upload_invoice(
            blob_store().get(dispatch.document_sha256 or ""),
            upload_name(dispatch, invoice),
            content_type="application/zip" if printing else "application/xml",
            uuid=chosen,
            routing=upload_routing(dispatch, invoice),
        )
    except MaventaUnavailableError:
        raise
    except MaventaError:
        found = client.find_sent(chosen)
        if found is None:
            raise
        return found


def _earlier_upload(
    client: MaventaClient, dispatch: Dispatch, invoice: Invoice
) -> MaventaInvoice | None:
    """What an earlier attempt may have uploaded before its answer was lost, if anything."""
    if dispatch.upload_started_at is None:
        return None
    if dispatch.maventa_uuid is None:
        return _find_by_name(client, dispatch, invoice)
    return client.find_sent(dispatch.maventa_uuid, filename=upload_name(dispatch, invoice))


def _find_by_name(
    client: MaventaClient, dispatch: Dispatch, invoice: Invoice
) -> MaventaInvoice | None:
    """An upload begun before dispatches had uuids (migration inv0005), by its file name
    (``files[].filename``; a letter was a bare PDF then) among the SENT invoices since."""
    started = dispatch.upload_started_at or utcnow()
    name = upload_name(dispatch, invoice)
    names = {name, name.rsplit(".", 1)[0] + ".pdf"}
    since = (started - timedelta(minutes=5)).isoformat()
    for found in client.iter_invoices("SENT", created_at_start=since):
        if names & set(found.filenames):
            return found
    return None


def _new_uuid(work: Work) -> str:
    """The upload's uuid, committed (with the upload's start) before the upload goes."""
    chosen = str(uuid.uuid4())
    with work.unit() as session:
        work.dispatch.maventa_uuid = chosen
        work.dispatch.upload_started_at = utcnow()
        session.add(work.dispatch)
    return chosen


def _upload(work: Work) -> Outcome:
    """Upload once. The uuid is committed before the upload; after a lost answer (a crash,
    a timeout) the upload is looked up by it among the SENT invoices, and uploaded again
    with the same uuid only when Maventa has none, which Maventa would refuse as a
    duplicate anyway: so an invoice never goes out twice."""
    dispatch, invoice = work.dispatch, work.invoice
    try:
        client = work.clients.maventa()
        found = _earlier_upload(client, dispatch, invoice)
        if found is None:
            chosen = dispatch.maventa_uuid or _new_uuid(work)
            found = _upload_document(client, dispatch, invoice, chosen)
            DISPATCHES.crash_point("after-upload")
    except MaventaUnavailableError as exc:
        # Unknown whether it arrived: never let a new dispatch start; look before retrying.
        return _retry_or_fail(work, "upload", str(exc), safe=False)
    except MaventaError as exc:
        # Refused, and Maventa has no invoice by our uuid: nothing went out.
        return fail(work, "upload", str(exc), safe=True)
    with work.unit() as session:
        dispatch.maventa_invoice_id = found.id
        dispatch.attempts = 0
        dispatch.error = None
        dispatch.updated_at = utcnow()
        session.add(dispatch)
        record(session, invoice, dispatch, "uploaded", maventa=found.id)
    return NEXT


def delivery_poll_delay(dispatch: Dispatch, now: datetime) -> timedelta:
    """How long to wait before asking Maventa again: a quarter of the time since the upload,
    between 30 seconds and an hour (print is handed over overnight, so it may take a day)."""
    since = dispatch.upload_started_at or dispatch.sending_at or now
    return min(max((now - since) / 4, POLL_MAVENTA_FIRST), POLL_MAVENTA_MAX)


def delivery_failed_text(reason: str) -> str:
    """The failure as the queue shows it: Finnish and English, Maventa's own words after."""
    return (
        f"Maventa ei toimittanut laskua perille (Maventa could not deliver the invoice): {reason}"
    )


def _await_delivery(work: Work) -> Outcome:
    """Ask Maventa how the upload fares; the invoice counts as sent only once the operator
    or the print service took it (DELIVERED), and a failure goes back to the queue with
    Maventa's reason. Never uploads anything: the answer is waited for, however long."""
    dispatch, invoice = work.dispatch, work.invoice
    maventa_id = dispatch.maventa_invoice_id or ""
    try:
        client = work.clients.maventa()
        found = client.get_invoice(maventa_id)
        actions = client.get_actions(maventa_id) if found.delivery() != "pending" else []
    except MaventaError as exc:
        with work.unit() as session:
            dispatch.error = f"Maventa: {exc}"[:2000]
            dispatch.updated_at = utcnow()
            session.add(dispatch)
        return later(delivery_poll_delay(dispatch, utcnow()))
    state = found.delivery(actions)
    if state == "pending":
        now = utcnow()
        overdue = now - (dispatch.upload_started_at or now) > DELIVERY_OVERDUE
        shown = DELIVERY_OVERDUE_TEXT if overdue else None
        if dispatch.error != shown:  # an earlier poll's error is over; overdue is shown
            with work.unit() as session:
                dispatch.error = shown
                dispatch.updated_at = now
                session.add(dispatch)
        return later(delivery_poll_delay(dispatch, now))
    if state == "failed":
        reason = found.failure_reason(actions)
        return fail(work, "delivery", delivery_failed_text(reason), safe=True)
    with work.unit() as session:
        mark_sent(session, dispatch, invoice, by=dispatch.agent_id)
        record(session, invoice, dispatch, "delivered", maventa=maventa_id)
    return NEXT


def comment_text(session: Session, dispatch: Dispatch) -> str:
    """``Lähetetty sähköpostilla x 26.11.2026 klo 14.05 / Anna (E-tunnus helpdesk)``."""
    who = session.get(Agent, dispatch.sent_by or dispatch.agent_id or 0)
    words = MODE_WORDS.get(dispatch.mode, dispatch.method)
    target = f" {dispatch.recipient}" if dispatch.method != "post" else ""
    when = texts.local_time(dispatch.sent_at or utcnow())
    name = who.name if who else "worker"
    return f"Lähetetty {words}{target} {when} / {name} (E-tunnus helpdesk)"


def _finalise(work: Work) -> Outcome:
    dispatch, invoice = work.dispatch, work.invoice
    # Netvisor's own print service already moved the invoice on; setting "open" again
    # would change nothing, so only the comment is added then.
    already = dispatch.mode == DispatchMode.print_netvisor and invoice.netvisor_status != "unsent"
    if not already:
        try:
            work.clients.netvisor().update_sales_invoice_status([invoice.netvisor_key], "open")
        except NetvisorError as exc:
            # Retried later, for as long as it takes: what was sent is never sent again.
            with work.unit() as session:
                dispatch.finalise_attempts += 1
                dispatch.error = f"{exc} — {exc.detail}" if exc.detail else str(exc)
                dispatch.updated_at = utcnow()
                session.add(dispatch)
                record(session, invoice, dispatch, "finalise_failed", error=str(exc)[:500])
            return later(DISPATCHES.backoff(dispatch.finalise_attempts))
    with work.unit() as session:
        if not already:
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
    return NEXT


def _notify(work: Work) -> Outcome:
    dispatch, invoice = work.dispatch, work.invoice
    try:
        with work.unit() as session:
            outbound = queue_notice(session, dispatch=dispatch, invoice=invoice)
            now = utcnow()
            dispatch.state = DispatchState.user_notified
            dispatch.notified_at = now
            dispatch.updated_at = now
            session.add(dispatch)
            record(session, invoice, dispatch, "user_notified", outbound=outbound.id)
    except ServiceError as exc:
        return fail(work, "notify", str(exc), safe=False)
    return STOP


def _start_sending(work: Work) -> Outcome:
    """Print or e-invoice through Maventa: the file first, then the upload step."""
    problem = _document(work)
    if problem is not None:
        return problem
    with work.unit() as session:
        work.dispatch.state = DispatchState.sending
        work.dispatch.sending_at = utcnow()
        session.add(work.dispatch)
    return NEXT


def run_step(work: Work) -> Outcome:
    """Run the dispatch's next step."""
    state, mode = work.dispatch.state, work.dispatch.mode
    if state == DispatchState.queued:
        if mode == DispatchMode.email:
            return _ensure_pdf(work) or _queue_email(work)
        if mode in (DispatchMode.print_maventa, DispatchMode.einvoice_maventa):
            return _start_sending(work)
        return STOP  # manual modes wait for the agent
    if state == DispatchState.sending:
        if mode == DispatchMode.email:
            return _check_outbox(work)
        if work.dispatch.maventa_invoice_id is None:
            return _upload(work)
        return _await_delivery(work)
    if state == DispatchState.sent:
        return _finalise(work)
    if state == DispatchState.finalised:
        return _notify(work)
    return STOP
