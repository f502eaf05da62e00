"""Lines for an invoice's process history in Netvisor, queued and sent by the worker.

``salesinvoicecomment.nv`` is not idempotent: the same call twice adds two lines. So a
comment is queued once (unique ``key``) in the transaction that decided it, marked
``sending`` in its own commit before the call, and only repeated when Netvisor answered
FAILED (it did not carry the call out), at most once. A timeout, a lost connection or a
worker killed mid-call leaves the comment ``unknown``: shown to the agent, never repeated.
A comment that fails never undoes what it describes (a finalise stays finalised).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from helpdesk.plugin_api import transaction, utcnow
from plugins.invoices.models import CommentState, EventKind, Invoice, InvoiceEvent, NetvisorComment
from plugins.invoices.netvisor import NetvisorClient, NetvisorError, NetvisorTransportError
from plugins.invoices.netvisor.client import COMMENT_MAX_LENGTH

log = logging.getLogger(__name__)

#: One repeat after a FAILED answer, then the comment is left failed.
MAX_ATTEMPTS = 2
RETRY_AFTER = timedelta(minutes=1)
#: A comment left ``sending`` this long belongs to a worker that died mid-call.
STALE_SENDING = timedelta(minutes=10)


def queue_comment(session: Session, *, invoice: Invoice, key: str, text: str) -> NetvisorComment:
    """Add a comment to send (flushes only; the caller commits). The same key adds nothing."""
    found = session.exec(select(NetvisorComment).where(NetvisorComment.key == key)).first()
    if found is not None:
        return found
    row = NetvisorComment(key=key, invoice_id=invoice.id or 0, text=text[:COMMENT_MAX_LENGTH])
    session.add(row)
    session.flush()
    return row


def _set(
    session: Session,
    row: NetvisorComment,
    only_from: CommentState,
    *,
    event: bool = False,
    **values: object,
) -> bool:
    """Move the comment on if it is still in ``only_from`` (one unit of work); with
    ``event`` the move is also noted in the invoice's history, in the same unit."""
    with transaction(session):
        changed = session.exec(
            update(NetvisorComment)
            .where(col(NetvisorComment.id) == row.id, col(NetvisorComment.state) == only_from)
            .values(**values)
        ).rowcount
        session.refresh(row)
        if changed == 1 and event:
            _event(session, row, utcnow())
    return bool(changed == 1)


def _event(session: Session, row: NetvisorComment, now: datetime) -> None:
    session.add(
        InvoiceEvent(
            invoice_id=row.invoice_id,
            at=now,
            kind=EventKind.netvisor_comment.value,
            details={"state": str(row.state), "text": row.text, "error": row.last_error},
        )
    )


def send_due(session: Session, client: NetvisorClient, now: datetime | None = None) -> int:
    """Send the comments that are due; returns how many reached Netvisor."""
    now = now or utcnow()
    stale = session.exec(
        select(NetvisorComment).where(
            NetvisorComment.state == CommentState.sending,
            col(NetvisorComment.next_attempt_at) < now - STALE_SENDING,
        )
    ).all()
    for row in stale:
        _set(session, row, CommentState.sending, event=True, state=CommentState.unknown)
    due = session.exec(
        select(NetvisorComment)
        .where(
            NetvisorComment.state == CommentState.pending,
            col(NetvisorComment.next_attempt_at) <= now,
        )
        .order_by(col(NetvisorComment.id))
        .limit(20)
    ).all()
    done = 0
    for row in due:
        invoice = session.get(Invoice, row.invoice_id)
        if invoice is None:
            continue
        key = invoice.netvisor_key
        # Recorded (committed) before the call: a worker killed during it leaves
        # "sending" -> unknown. The unit also ends the reads above: nothing stays open
        # during the call.
        if not _set(
            session,
            row,
            CommentState.pending,
            state=CommentState.sending,
            attempts=row.attempts + 1,
            next_attempt_at=utcnow(),
        ):
            continue  # another worker took it
        try:
            client.add_sales_invoice_comment(key, row.text)
        except NetvisorTransportError as exc:
            _set(
                session,
                row,
                CommentState.sending,
                event=True,
                state=CommentState.unknown,
                last_error=str(exc),
            )
        except NetvisorError as exc:
            again = row.attempts < MAX_ATTEMPTS
            _set(
                session,
                row,
                CommentState.sending,
                event=not again,
                state=CommentState.pending if again else CommentState.failed,
                last_error=f"{exc} — {exc.detail}" if exc.detail else str(exc),
                next_attempt_at=utcnow() + RETRY_AFTER,
            )
        else:
            _set(
                session,
                row,
                CommentState.sending,
                event=True,
                state=CommentState.done,
                done_at=utcnow(),
            )
            done += 1
    return done


def pending_count(session: Session) -> int:
    """Comments waiting to be sent (the job skips Netvisor entirely when there are none)."""
    return len(
        session.exec(
            select(NetvisorComment.id).where(
                col(NetvisorComment.state).in_([CommentState.pending, CommentState.sending])
            )
        ).all()
    )
