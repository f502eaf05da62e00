"""The outbox worker: queued mail -> SMTP, retries with backoff, Sent copy, exactly once.

The outbox is a work queue (``helpdesk.workqueue``, ``OUTBOX`` below). One row goes
through these units of work, each its own short transaction, with the network calls
between them:

1. **claim**: ``queued`` -> ``sending`` with ``claimed_by`` and a lease (``FOR UPDATE SKIP
   LOCKED`` on PostgreSQL, a conditional ``UPDATE ... WHERE claimed_by IS NULL`` on
   SQLite), so two workers never hold the same row; the lease is renewed while the
   worker goes through its batch;
2. **accepted**: the moment the SMTP server answers DATA with 2xx, one tiny ``UPDATE``
   sets ``smtp_accepted_at`` and commits, before anything else happens;
3. **sent**: status ``sent``, the claim given back, and the thread's message updated;
4. **copy**: the bytes appended to the mailbox's Sent folder, ``sent_copy_at`` set.

A row left in ``sending`` by a worker that died (its lease ran out, or its process is
gone from this host) is never resent blindly. With ``smtp_accepted_at`` set it is only
finished (step 3). Without it, the worker died before or during the SMTP conversation, or
in the residual window between the server's 2xx to DATA and our commit of step 2
(milliseconds: one UPDATE on one row). Such a row is marked ``reconcile`` and queued
again; before it is sent, the Sent folder is searched for its Message-ID (servers such as
Gmail and Exchange file submitted mail there themselves): found means sent. Not found (or
no IMAP account to look in) means it is sent again. Only a crash inside that residual
window can then deliver a second copy, and that copy carries the same Message-ID, which
mail clients and our own mail-in fold into one. A connection lost during DATA is treated
the same way.

A worker whose lease ran out while it sent (renewing failed for a whole lease) still
records the server's acceptance, a fact the row's new holder needs: a row with
``smtp_accepted_at`` is finished, never sent again. Every other write of the old holder
is refused (``LeaseLost``).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from helpdesk import db
from helpdesk.blobs import BlobStore
from helpdesk.db import session_scope, transaction
from helpdesk.mail.imap.session import ImapError
from helpdesk.mail.outbound import sent_folder
from helpdesk.mail.outbound.smtp import SmtpError, SmtpPermanentError, SmtpTemporaryError, send_raw
from helpdesk.models import DeliveryStatus, Mailbox, Message, OutboundMail, utcnow
from helpdesk.services import audit
from helpdesk.services.oauth import grants
from helpdesk.services.oauth.tokens import NeedsReconnect, TokenUnavailable
from helpdesk.settings import get_settings
from helpdesk.workqueue import Lease, LeaseLost, Queue

log = logging.getLogger(__name__)

#: The outbox as a work queue: a claim lasts 10 minutes unless renewed (SMTP times out
#: after 60 s); retries wait 30 s, 1 min, 2 min ... up to 4 hours, 12 attempts in all
#: (about a day and a half).
OUTBOX = Queue(
    OutboundMail,
    "outbox",
    lease=timedelta(minutes=10),
    max_retry=timedelta(hours=4),
    max_attempts=12,
)
#: Sent copies that failed are tried again for this long after sending.
COPY_RETRY_WINDOW = timedelta(days=2)
#: How often the worker sends due mail.
FLUSH_SECONDS = 2.0


@dataclass
class FlushSummary:
    """What one ``flush_due`` did; printed as JSON by ``helpdesk outbox flush``."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    recovered: int = 0
    reconciled: int = 0
    copies: int = 0
    #: Mail put back to wait for its mailbox's OAuth reconnect.
    waiting: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _store() -> BlobStore:
    return BlobStore(get_settings().blob_dir)


def _update(session: Session, row: OutboundMail, **values: Any) -> None:
    """Inside a unit: update the row and mirror its status and error on the thread message."""
    session.exec(
        update(OutboundMail)
        .where(col(OutboundMail.id) == row.id)
        .values(updated_at=utcnow(), **values)
    )
    mirror: dict[str, Any] = {}
    if "status" in values:
        mirror["delivery_status"] = values["status"]
    if "last_error" in values:
        mirror["delivery_error"] = values["last_error"]
    if mirror and row.message_row_id is not None:
        session.exec(update(Message).where(col(Message.id) == row.message_row_id).values(**mirror))
    session.refresh(row)


def _settle(session: Session, lease: Lease[OutboundMail], row: OutboundMail, **values: Any) -> None:
    """One unit: give the claimed row back in its new state (raises ``LeaseLost``)."""
    with lease.unit(session, row.id or 0):
        lease.release(session, row.id or 0)
        _update(session, row, **values)


def recover_stale(session: Session, now: datetime, summary: FlushSummary) -> None:
    """Rows a dead worker left in ``sending``: finish them or queue them for reconciling."""
    for row in OUTBOX.stale(session, now, col(OutboundMail.status) == DeliveryStatus.sending):
        dead = row.claimed_by
        if row.smtp_accepted_at is not None:
            values: dict[str, Any] = {
                "status": DeliveryStatus.sent,
                "sent_at": row.smtp_accepted_at,
            }
        else:
            values = {"status": DeliveryStatus.queued, "reconcile": True, "next_attempt_at": now}
        with transaction(session):
            if not OUTBOX.take_over(session, row):
                continue
            _update(session, row, **values)
            audit.record(
                session,
                action="outbox.recovered",
                object_type="outbound_mail",
                object_id=row.id,
                claimed_by=dead,
                accepted=row.smtp_accepted_at is not None,
            )
        summary.recovered += 1


def _mirror_sending(session: Session, claimed: list[int]) -> None:
    session.exec(
        update(Message)
        .where(
            col(Message.id).in_(
                select(OutboundMail.message_row_id).where(col(OutboundMail.id).in_(claimed))
            )
        )
        .values(delivery_status=DeliveryStatus.sending)
    )


def claim(
    session: Session, *, worker_id: str | None, now: datetime, limit: int
) -> Lease[OutboundMail]:
    """Take up to ``limit`` due rows for this worker (committed before any sending)."""
    return OUTBOX.claim(
        session,
        col(OutboundMail.status) == DeliveryStatus.queued,
        col(OutboundMail.send_after) <= now,
        col(OutboundMail.next_attempt_at) <= now,
        # A mailbox whose OAuth grant needs a reconnect keeps its mail until then.
        col(OutboundMail.mailbox_id).not_in(grants.paused_mailboxes()),
        now=now,
        limit=limit,
        holder=worker_id,
        values={
            "status": DeliveryStatus.sending,
            "attempts": OutboundMail.attempts + 1,
            "updated_at": now,
        },
        on_claimed=_mirror_sending,
    )


def _mark_accepted(session: Session, row: OutboundMail) -> None:
    """Step 2: the smallest possible commit right after the server took the mail.

    Not bound to the lease: that the server has the mail is true whoever holds the row
    now, and a holder that took it over must not send it again.
    """
    with transaction(session):
        session.exec(
            update(OutboundMail)
            .where(col(OutboundMail.id) == row.id, col(OutboundMail.smtp_accepted_at).is_(None))
            .values(smtp_accepted_at=utcnow())
        )
    OUTBOX.crash_point("after-accept")


def _finish(
    session: Session,
    lease: Lease[OutboundMail],
    row: OutboundMail,
    partial_error: str | None = None,
) -> None:
    """Step 3: status sent, the thread shows it."""
    _settle(
        session,
        lease,
        row,
        status=DeliveryStatus.sent,
        sent_at=func.coalesce(OutboundMail.smtp_accepted_at, utcnow()),
        last_error=partial_error,
        reconcile=False,
    )


def _reschedule(
    session: Session,
    lease: Lease[OutboundMail],
    row: OutboundMail,
    exc: SmtpError,
    summary: FlushSummary,
) -> None:
    now = utcnow()
    settings_problem = exc.stage in ("connect", "tls", "auth")
    permanent = isinstance(exc, SmtpPermanentError) and not settings_problem
    delay = None if permanent else OUTBOX.retry_after(row.attempts)
    values: dict[str, Any] = {"last_error": str(exc)}
    if delay is None:
        values["status"] = DeliveryStatus.failed
    else:
        values["status"] = DeliveryStatus.queued
        values["next_attempt_at"] = now + delay
        # A connection lost during DATA leaves the server's answer unknown.
        values["reconcile"] = row.reconcile or (exc.stage == "data" and exc.code is None)
    with lease.unit(session, row.id or 0):
        lease.release(session, row.id or 0)
        _update(session, row, **values)
        if settings_problem:
            # The admin's mailbox page shows this; the same problem stops every mail.
            session.exec(
                update(Mailbox)
                .where(col(Mailbox.id) == row.mailbox_id)
                .values(last_error=f"SMTP: {exc}", last_error_at=now)
            )
        audit.record(
            session,
            action="outbox.failed" if delay is None else "outbox.retry_later",
            object_type="outbound_mail",
            object_id=row.id,
            error=str(exc),
            attempts=row.attempts,
        )
    if settings_problem:
        log.warning("outbox: mailbox %s cannot send: %s", row.envelope_from, exc)
    if delay is None:
        summary.failed += 1
    else:
        summary.retrying += 1


def _fail(
    session: Session,
    lease: Lease[OutboundMail],
    row: OutboundMail,
    reason: str,
    summary: FlushSummary,
) -> None:
    _settle(session, lease, row, status=DeliveryStatus.failed, last_error=reason)
    summary.failed += 1


def _copied(session: Session, row_id: int | None) -> None:
    """Step 4 done (the row is no longer claimed: it is sent)."""
    with transaction(session):
        session.exec(
            update(OutboundMail)
            .where(col(OutboundMail.id) == row_id)
            .values(sent_copy_at=utcnow(), updated_at=utcnow())
        )


def send_one(
    session: Session, lease: Lease[OutboundMail], row_id: int, summary: FlushSummary
) -> None:
    """Send one claimed row: reconcile if needed, SMTP, then the Sent copy."""
    # Read in a unit of its own, which also renews the row's lease: nothing stays open
    # during the network calls below.
    with lease.unit(session, row_id):
        row = session.get(OutboundMail, row_id)
        if row is not None:
            session.refresh(row)
        mailbox = session.get(Mailbox, row.mailbox_id) if row else None
    if row is None or mailbox is None:
        return
    if row.smtp_accepted_at is not None:
        # A holder that lost the row had the mail accepted after all (see the docstring).
        _finish(session, lease, row)
        summary.sent += 1
        return
    try:
        _send_claimed(session, lease, row, mailbox, summary)
    except NeedsReconnect as exc:
        _wait_for_reconnect(session, lease, row, exc, summary)
    except TokenUnavailable as exc:
        _reschedule(session, lease, row, SmtpTemporaryError(str(exc), stage="auth"), summary)


def _send_claimed(
    session: Session,
    lease: Lease[OutboundMail],
    row: OutboundMail,
    mailbox: Mailbox,
    summary: FlushSummary,
) -> None:
    if row.reconcile:
        try:
            found = sent_folder.was_sent(mailbox, row.message_id)
        except ImapError as exc:
            # Cannot look: try again later rather than risk a second copy.
            _settle(
                session,
                lease,
                row,
                status=DeliveryStatus.queued,
                next_attempt_at=utcnow() + OUTBOX.backoff(row.attempts),
                last_error=f"Checking the Sent folder failed: {exc}",
            )
            summary.retrying += 1
            return
        if found:
            _finish(session, lease, row)
            _copied(session, row.id)
            summary.reconciled += 1
            summary.sent += 1
            return
    try:
        settings = sent_folder.smtp_settings(mailbox)
        raw = _store().get(row.raw_sha256)
    except (ValueError, OSError) as exc:
        _fail(session, lease, row, str(exc), summary)
        return
    try:
        result = send_raw(
            settings, envelope_from=row.envelope_from, recipients=row.recipients, raw=raw
        )
    except (SmtpTemporaryError, SmtpPermanentError) as exc:
        _reschedule(session, lease, row, exc, summary)
        return
    _mark_accepted(session, row)
    refused = "; ".join(f"{a}: {c} {t}" for a, (c, t) in result.refused.items())
    _finish(session, lease, row, f"Not delivered to {refused}" if refused else None)
    summary.sent += 1
    copy_sent(session, row, mailbox, raw, summary)


def _wait_for_reconnect(
    session: Session,
    lease: Lease[OutboundMail],
    row: OutboundMail,
    exc: NeedsReconnect,
    summary: FlushSummary,
) -> None:
    """Back to the queue, the attempt not counted: it goes when the mailbox is reconnected."""
    with lease.unit(session, row.id or 0):
        lease.release(session, row.id or 0)
        _update(
            session,
            row,
            status=DeliveryStatus.queued,
            attempts=OutboundMail.attempts - 1,
            next_attempt_at=utcnow(),
            last_error=f"Waiting for the mailbox to be connected again: {exc.reason}",
        )
    summary.waiting += 1


def copy_sent(
    session: Session, row: OutboundMail, mailbox: Mailbox, raw: bytes, summary: FlushSummary
) -> None:
    """Step 4: keep the mail in the mailbox's Sent folder (retried on later flushes)."""
    try:
        kept = sent_folder.keep_copy(mailbox, row.message_id, raw)
    except (ImapError, NeedsReconnect, TokenUnavailable) as exc:
        log.warning("outbox: Sent copy of %s failed: %s", row.message_id, exc)
        summary.errors.append(f"sent copy {row.id}: {exc}")
        return
    if kept:
        _copied(session, row.id)
        summary.copies += 1


def _missing_copies(now: datetime) -> list[tuple[OutboundMail, Mailbox]]:
    """Sent mail whose Sent copy failed, with its mailbox, read in a session of its own.

    The session is closed before the IMAP calls, so no transaction stays open during them
    and an idle outbox never takes SQLite's write lock for this look.
    """
    with contextlib.closing(db.new_session()) as reader:
        rows = reader.exec(
            select(OutboundMail)
            .where(
                OutboundMail.status == DeliveryStatus.sent,
                col(OutboundMail.sent_copy_at).is_(None),
                col(OutboundMail.sent_at) >= now - COPY_RETRY_WINDOW,
                col(OutboundMail.mailbox_id).not_in(grants.paused_mailboxes()),
            )
            .order_by(col(OutboundMail.id))
            .limit(20)
        ).all()
        found = [(row, reader.get(Mailbox, row.mailbox_id)) for row in rows]
    return [(row, mailbox) for row, mailbox in found if mailbox is not None]


def _copy_missing(session: Session, now: datetime, summary: FlushSummary) -> None:
    for row, mailbox in _missing_copies(now):
        if sent_folder.imap_settings(mailbox) is None:
            continue
        copy_sent(session, row, mailbox, _store().get(row.raw_sha256), summary)


def flush_due(
    *,
    worker_id: str | None = None,
    now: datetime | None = None,
    limit: int = 50,
    session: Session | None = None,
) -> FlushSummary:
    """Send every due mail once (recovering what dead workers left); safe with N workers."""
    if session is None:
        with session_scope() as own:
            return flush_due(worker_id=worker_id, now=now, limit=limit, session=own)
    summary = FlushSummary()
    moment = now or utcnow()
    try:
        # Before anything else: no transaction of ``session`` is open during these IMAP calls.
        _copy_missing(session, moment, summary)
    except Exception as exc:
        log.exception("outbox: Sent copies failed")
        session.rollback()
        summary.errors.append(f"sent copies: {exc}")
    recover_stale(session, moment, summary)
    lease = claim(session, worker_id=worker_id, now=moment, limit=limit)
    summary.claimed = len(lease.ids)
    with lease.kept():
        for row_id in lease.ids:
            try:
                if not lease.holds(row_id):
                    raise LeaseLost(f"outbox {row_id}: taken over by another worker")
                send_one(session, lease, row_id, summary)
            except LeaseLost as exc:  # the new holder finishes it
                summary.errors.append(str(exc))
            except Exception as exc:  # one bad row must not stop the others
                log.exception("outbox: sending %s failed", row_id)
                session.rollback()
                summary.errors.append(f"{row_id}: {exc}")
    return summary


def run_job(session: Session) -> FlushSummary:
    """The worker's periodic task (``helpdesk.jobs``)."""
    return flush_due(session=session)
