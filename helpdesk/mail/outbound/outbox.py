"""The outbox worker: queued mail -> SMTP, retries with backoff, Sent copy, exactly once.

One row goes through these commits, each its own transaction:

1. **claim**: ``queued`` -> ``sending`` with ``claimed_by``/``claimed_at`` (``FOR UPDATE
   SKIP LOCKED`` on PostgreSQL, a conditional ``UPDATE ... WHERE status='queued'`` on
   SQLite), so two workers never hold the same row;
2. **accepted**: the moment the SMTP server answers DATA with 2xx, one tiny ``UPDATE``
   sets ``smtp_accepted_at`` and commits, before anything else happens;
3. **sent**: status ``sent`` and the thread's message updated;
4. **copy**: the bytes appended to the mailbox's Sent folder, ``sent_copy_at`` set.

A row left in ``sending`` by a worker that died is never resent blindly. With
``smtp_accepted_at`` set it is only finished (steps 3-4). Without it, the worker died
before or during the SMTP conversation, or in the residual window between the server's
2xx to DATA and our commit of step 2 (milliseconds: one UPDATE on one row). Such a row
is marked ``reconcile`` and queued again; before it is sent, the Sent folder is searched
for its Message-ID (servers such as Gmail and Exchange file submitted mail there
themselves): found means sent. Not found (or no IMAP account to look in) means it is
sent again. Only a crash inside that residual window can then deliver a second copy, and
that copy carries the same Message-ID, which mail clients and our own mail-in fold into
one. A connection lost during DATA is treated the same way.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from helpdesk.blobs import BlobStore
from helpdesk.db import session_scope
from helpdesk.locks import claim_due, holder_gone
from helpdesk.mail.imap.session import ImapError
from helpdesk.mail.outbound import sent_folder
from helpdesk.mail.outbound.smtp import SmtpError, SmtpPermanentError, SmtpTemporaryError, send_raw
from helpdesk.models import DeliveryStatus, Mailbox, Message, OutboundMail, utcnow
from helpdesk.services import audit
from helpdesk.settings import get_settings

log = logging.getLogger(__name__)

#: A claim older than this belongs to a worker that died (SMTP times out after 60 s).
STALE_CLAIM = timedelta(minutes=10)
#: Give up after this many attempts (about a day and a half of backoff).
MAX_ATTEMPTS = 12
#: Sent copies that failed are tried again for this long after sending.
COPY_RETRY_WINDOW = timedelta(days=2)
#: How often the worker sends due mail.
FLUSH_SECONDS = 2.0
#: Test-only crash point (HELPDESK_ENVIRONMENT=test): kill the worker right after step 2.
CRASH_ENV = "HELPDESK_OUTBOX_TEST_CRASH"


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
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at 4 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 4 * 3600))


def _store() -> BlobStore:
    return BlobStore(get_settings().blob_dir)


def _write(session: Session, row: OutboundMail, *, only_if: Any = None, **values: Any) -> bool:
    """One write-first transaction: update the row (and its thread message), commit.

    The session's read transaction is ended first: SQLite cannot turn a read snapshot
    into a write lock once another worker has committed ("database is locked" at once,
    without waiting), while a transaction that starts by writing waits its turn.
    ``only_if`` adds a condition (compare-and-set); returns whether the row changed.
    """
    session.commit()
    query = update(OutboundMail).where(col(OutboundMail.id) == row.id)
    if only_if is not None:
        query = query.where(only_if)
    changed = session.exec(query.values(updated_at=utcnow(), **values)).rowcount == 1
    if (
        changed
        and row.message_row_id is not None
        and ("status" in values or "last_error" in values)
    ):
        mirror: dict[str, Any] = {}
        if "status" in values:
            mirror["delivery_status"] = values["status"]
        if "last_error" in values:
            mirror["delivery_error"] = values["last_error"]
        session.exec(update(Message).where(col(Message.id) == row.message_row_id).values(**mirror))
    session.commit()
    session.refresh(row)
    session.commit()
    return changed


def recover_stale(session: Session, now: datetime, summary: FlushSummary) -> None:
    """Rows a dead worker left in ``sending``: finish them or queue them for reconciling."""
    rows = session.exec(
        select(OutboundMail).where(OutboundMail.status == DeliveryStatus.sending)
    ).all()
    for row in rows:
        stale = row.claimed_at is None or now - row.claimed_at > STALE_CLAIM
        if not (stale or holder_gone(row.claimed_by, per_call_names=True)):
            continue
        dead = row.claimed_by
        values: dict[str, Any] = {"claimed_by": None}
        if row.smtp_accepted_at is not None:
            values |= {"status": DeliveryStatus.sent, "sent_at": row.smtp_accepted_at}
        else:
            values |= {"status": DeliveryStatus.queued, "reconcile": True, "next_attempt_at": now}
        same_claim = (col(OutboundMail.status) == DeliveryStatus.sending) & (
            col(OutboundMail.claimed_by) == dead
        )
        if _write(session, row, only_if=same_claim, **values):
            audit.record(
                session,
                action="outbox.recovered",
                object_type="outbound_mail",
                object_id=row.id,
                claimed_by=dead,
                accepted=row.smtp_accepted_at is not None,
            )
            session.commit()
            summary.recovered += 1


def claim(session: Session, *, worker_id: str, now: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` due rows for this worker (committed before any sending)."""
    due = (
        select(OutboundMail.id)
        .where(
            OutboundMail.status == DeliveryStatus.queued,
            col(OutboundMail.send_after) <= now,
            col(OutboundMail.next_attempt_at) <= now,
        )
        .order_by(col(OutboundMail.id))
        .limit(limit)
    )
    # On SQLite the UPDATE's WHERE is the lock; from here on write first (see _write).
    claimed = claim_due(
        session,
        due,
        lambda row_id: (
            update(OutboundMail)
            .where(
                col(OutboundMail.id) == row_id, col(OutboundMail.status) == DeliveryStatus.queued
            )
            .values(
                status=DeliveryStatus.sending,
                claimed_by=worker_id,
                claimed_at=now,
                attempts=OutboundMail.attempts + 1,
                updated_at=now,
            )
        ),
    )
    if claimed:
        session.exec(
            update(Message)
            .where(
                col(Message.id).in_(
                    select(OutboundMail.message_row_id).where(col(OutboundMail.id).in_(claimed))
                )
            )
            .values(delivery_status=DeliveryStatus.sending)
        )
    session.commit()
    return claimed


def _mark_accepted(session: Session, row: OutboundMail) -> None:
    """Step 2: the smallest possible commit right after the server took the mail."""
    session.commit()
    session.exec(
        update(OutboundMail).where(col(OutboundMail.id) == row.id).values(smtp_accepted_at=utcnow())
    )
    session.commit()
    if os.environ.get(CRASH_ENV) == "after-accept" and get_settings().environment == "test":
        os.kill(os.getpid(), signal.SIGKILL)


def _finish(session: Session, row: OutboundMail, partial_error: str | None = None) -> None:
    """Step 3: status sent, the thread shows it."""
    _write(
        session,
        row,
        status=DeliveryStatus.sent,
        sent_at=func.coalesce(OutboundMail.smtp_accepted_at, utcnow()),
        last_error=partial_error,
        reconcile=False,
        claimed_by=None,
    )


def _reschedule(session: Session, row: OutboundMail, exc: SmtpError, summary: FlushSummary) -> None:
    now = utcnow()
    settings_problem = exc.stage in ("connect", "tls", "auth")
    permanent = isinstance(exc, SmtpPermanentError) and not settings_problem
    values: dict[str, Any] = {"claimed_by": None, "last_error": str(exc)}
    if permanent or row.attempts >= MAX_ATTEMPTS:
        values["status"] = DeliveryStatus.failed
        summary.failed += 1
    else:
        values["status"] = DeliveryStatus.queued
        values["next_attempt_at"] = now + backoff(row.attempts)
        # A connection lost during DATA leaves the server's answer unknown.
        values["reconcile"] = row.reconcile or (exc.stage == "data" and exc.code is None)
        summary.retrying += 1
    _write(session, row, **values)
    if settings_problem:
        session.commit()
        session.exec(
            update(Mailbox)
            .where(col(Mailbox.id) == row.mailbox_id)
            .values(last_error=f"SMTP: {exc}", last_error_at=now)
        )
        # The admin's mailbox page shows this; the same problem stops every mail.
        log.warning("outbox: mailbox %s cannot send: %s", row.envelope_from, exc)
    audit.record(
        session,
        action="outbox.failed" if row.status == DeliveryStatus.failed else "outbox.retry_later",
        object_type="outbound_mail",
        object_id=row.id,
        error=str(exc),
        attempts=row.attempts,
    )
    session.commit()


def _fail(session: Session, row: OutboundMail, reason: str, summary: FlushSummary) -> None:
    _write(session, row, status=DeliveryStatus.failed, last_error=reason, claimed_by=None)
    summary.failed += 1


def send_one(session: Session, row_id: int, summary: FlushSummary) -> None:
    """Send one claimed row: reconcile if needed, SMTP, then the Sent copy."""
    row = session.get(OutboundMail, row_id)
    mailbox = session.get(Mailbox, row.mailbox_id) if row else None
    # No transaction stays open during network I/O.
    session.commit()
    if row is None or mailbox is None:
        return
    session.refresh(row)
    session.commit()
    if row.reconcile:
        try:
            found = sent_folder.was_sent(mailbox, row.message_id)
        except ImapError as exc:
            # Cannot look: try again later rather than risk a second copy.
            _write(
                session,
                row,
                status=DeliveryStatus.queued,
                claimed_by=None,
                next_attempt_at=utcnow() + backoff(row.attempts),
                last_error=f"Checking the Sent folder failed: {exc}",
            )
            summary.retrying += 1
            return
        if found:
            summary.reconciled += 1
            _finish(session, row)
            _write(session, row, sent_copy_at=utcnow())
            summary.sent += 1
            return
    try:
        settings = sent_folder.smtp_settings(mailbox)
        raw = _store().get(row.raw_sha256)
    except (ValueError, OSError) as exc:
        _fail(session, row, str(exc), summary)
        return
    try:
        result = send_raw(
            settings, envelope_from=row.envelope_from, recipients=row.recipients, raw=raw
        )
    except (SmtpTemporaryError, SmtpPermanentError) as exc:
        _reschedule(session, row, exc, summary)
        return
    _mark_accepted(session, row)
    refused = "; ".join(f"{a}: {c} {t}" for a, (c, t) in result.refused.items())
    _finish(session, row, f"Not delivered to {refused}" if refused else None)
    summary.sent += 1
    copy_sent(session, row, mailbox, raw, summary)


def copy_sent(
    session: Session, row: OutboundMail, mailbox: Mailbox, raw: bytes, summary: FlushSummary
) -> None:
    """Step 4: keep the mail in the mailbox's Sent folder (retried on later flushes)."""
    try:
        kept = sent_folder.keep_copy(mailbox, row.message_id, raw)
    except ImapError as exc:
        log.warning("outbox: Sent copy of %s failed: %s", row.message_id, exc)
        summary.errors.append(f"sent copy {row.id}: {exc}")
        return
    if kept:
        _write(session, row, sent_copy_at=utcnow())
        summary.copies += 1


def _missing_copies(session: Session, now: datetime, summary: FlushSummary) -> None:
    rows = session.exec(
        select(OutboundMail)
        .where(
            OutboundMail.status == DeliveryStatus.sent,
            col(OutboundMail.sent_copy_at).is_(None),
            col(OutboundMail.sent_at) >= now - COPY_RETRY_WINDOW,
        )
        .order_by(col(OutboundMail.id))
        .limit(20)
    ).all()
    session.commit()
    for row in rows:
        mailbox = session.get(Mailbox, row.mailbox_id)
        session.commit()
        if mailbox is None or sent_folder.imap_settings(mailbox) is None:
            continue
        copy_sent(session, row, mailbox, _store().get(row.raw_sha256), summary)


def worker_name() -> str:
    """This process's name in ``claimed_by``: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


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
    worker = worker_id or worker_name()
    moment = now or utcnow()
    recover_stale(session, moment, summary)
    ids = claim(session, worker_id=worker, now=moment, limit=limit)
    summary.claimed = len(ids)
    for row_id in ids:
        try:
            send_one(session, row_id, summary)
        except Exception as exc:  # one bad row must not stop the others
            log.exception("outbox: sending %s failed", row_id)
            session.rollback()
            summary.errors.append(f"{row_id}: {exc}")
    try:
        _missing_copies(session, moment, summary)
    except Exception as exc:
        log.exception("outbox: Sent copies failed")
        session.rollback()
        summary.errors.append(f"sent copies: {exc}")
    return summary


def run_job(session: Session) -> FlushSummary:
    """The worker's periodic task (``helpdesk.jobs``)."""
    return flush_due(session=session)
