"""The outbox's public API: queue any outgoing mail once, undo it, send it again.

``queue_mail`` is what plugins call to send mail (an invoice PDF from ``laskut@``, a
notice to a user) through the same outbox as agents' replies; ``cancel`` and ``retry``
change a row only from the states that allow it, so they never race the worker.
``delivery`` answers where a queued mail is, so that a caller waiting for it needs no
knowledge of the outbox's table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from helpdesk.blobs import BlobStore
from helpdesk.db import in_unit_of_work, transaction
from helpdesk.i18n import N_
from helpdesk.mail import compose
from helpdesk.models import (
    Agent,
    Attachment,
    DeliveryStatus,
    Mailbox,
    Message,
    MessageKind,
    OutboundKind,
    OutboundMail,
    Ticket,
    utcnow,
)
from helpdesk.services import audit, ticket_clocks, tickets
from helpdesk.services.errors import Conflict, NotFound, ServiceError
from helpdesk.settings import get_settings


@dataclass(frozen=True)
class AttachmentIn:
    """A file to send: its bytes, or the SHA-256 of bytes already in the blob store."""

    filename: str
    content_type: str = "application/octet-stream"
    data: bytes | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class Delivery:
    """Where a queued mail is: ``status`` queued, sending, sent, failed or cancelled."""

    status: DeliveryStatus
    sent_at: datetime | None = None
    #: Why the last attempt failed (the SMTP server's answer), if it did.
    error: str | None = None


def blob_store() -> BlobStore:
    """The configured content-addressed store (raw mail, attachments, plugin documents)."""
    return BlobStore(get_settings().blob_dir)


def ticket_subject(subject: str, ticket: Ticket) -> str:
    """``subject`` tagged with the ticket's number, so that an answer threads back to it."""
    return compose.tagged_subject(subject, ticket.number)


def addresses(values: Sequence[str] | str | None, *, field: str | None = None) -> list[str]:
    """The addresses of a To/Cc/Bcc field, lower-cased, each once; an error names ``field``."""
    if values is None:
        return []
    items = values.replace(";", ",").split(",") if isinstance(values, str) else values
    result = []
    for raw in items:
        addr = raw.strip().lower()
        if not addr:
            continue
        if "@" not in addr or " " in addr or addr.count("@") != 1:
            raise ServiceError(
                N_("Not an email address: %(value)s"), field=field, params={"value": raw.strip()}
            )
        result.append(addr)
    return list(dict.fromkeys(result))


def _load_attachments(items: Sequence[AttachmentIn]) -> list[compose.OutgoingAttachment]:
    store = blob_store()
    loaded = []
    for item in items:
        data = item.data if item.data is not None else None
        if data is None and item.sha256:
            try:
                data = store.get(item.sha256)
            except (FileNotFoundError, ValueError) as exc:
                raise ServiceError(f"Attachment {item.filename} is not stored") from exc
        if data is None:
            raise ServiceError(f"Attachment {item.filename} has no content")
        name = item.filename.replace("/", "_").replace("\\", "_").strip() or "liite"
        loaded.append(compose.OutgoingAttachment(name, item.content_type, data))
    limit = get_settings().max_attachment_bytes
    total = sum(len(a.data) for a in loaded)
    if total > limit:
        raise ServiceError(
            f"The attachments are too large ({total / 1048576:.1f} MB); "
            f"the limit is {limit / 1048576:.1f} MB"
        )
    return loaded


def existing(session: Session, key: str | None) -> OutboundMail | None:
    if not key:
        return None
    return session.exec(select(OutboundMail).where(OutboundMail.idempotency_key == key)).first()


def queued_first(session: Session, key: str | None) -> OutboundMail | None:
    """After an ``IntegrityError``: the row another request queued first with ``key``.

    None when the clash is not this caller's to settle: inside an outer unit of work (the
    clash spoilt its transaction; whoever opened it looks again after the rollback), or
    when no row has the key (another constraint failed). The caller then re-raises.
    """
    return None if in_unit_of_work(session) else existing(session, key)


def queue_mail(
    session: Session,
    *,
    mailbox: Mailbox,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    attachments: Sequence[AttachmentIn] = (),
    ticket: Ticket | None = None,
    kind: OutboundKind = OutboundKind.notice,
    idempotency_key: str | None = None,
    agent: Agent | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    send_after: datetime | None = None,
    to_names: dict[str, str] | None = None,
    thread_kind: MessageKind = MessageKind.outgoing,
) -> OutboundMail:
    """Queue any outgoing mail (a unit of work); the public outbox API for plugins.

    The same ``idempotency_key`` returns the row queued the first time and sends nothing
    more (the key is unique in the database, so this holds across processes). With a
    ``ticket`` the mail also shows in its thread. Called inside the caller's unit of work
    it joins it, so a plugin queues the mail in the same transaction as its own state
    change. ``notice`` and ``invoice`` mail is marked ``Auto-Submitted`` (RFC 3834).
    ``thread_kind`` is the thread message's kind (``forward`` for mail that does not answer
    the customer, so it moves no reply counter).
    """
    found = existing(session, idempotency_key)
    if found is not None:
        return found
    recipients_to = addresses(list(to))
    if not recipients_to:
        raise ServiceError("The mail needs a recipient")
    files = _load_attachments(attachments)
    settings = get_settings()
    now = utcnow()
    message_id = compose.new_message_id(settings.mail_message_id_domain)
    draft = compose.Draft(
        from_address=mailbox.address,
        from_name=mailbox.display_name,
        to=recipients_to,
        to_names={k.lower(): v for k, v in (to_names or {}).items()},
        cc=addresses(list(cc)),
        bcc=addresses(list(bcc)),
        subject=subject,
        text=text,
        html=html,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        attachments=files,
        automatic=OutboundKind(kind).automatic,
        loop_domain=settings.mail_message_id_domain,
    )
    # The bytes go to the blob store first (content-addressed: a retry stores nothing twice).
    store = blob_store()
    raw_sha = store.put(compose.compose(draft))
    file_shas = [store.put(f.data) for f in files]
    try:
        with transaction(session):
            return _add_rows(
                session,
                draft=draft,
                raw_sha=raw_sha,
                file_shas=file_shas,
                mailbox=mailbox,
                ticket=ticket,
                agent=agent,
                kind=kind,
                idempotency_key=idempotency_key,
                start=send_after or now,
                now=now,
                thread_kind=thread_kind,
            )
    except IntegrityError:
        # Another request with the same key won the race; its row is the answer.
        found = queued_first(session, idempotency_key)
        if found is None:
            raise
        return found


def _add_rows(
    session: Session,
    *,
    draft: compose.Draft,
    raw_sha: str,
    file_shas: Sequence[str],
    mailbox: Mailbox,
    ticket: Ticket | None,
    agent: Agent | None,
    kind: OutboundKind,
    idempotency_key: str | None,
    start: datetime,
    now: datetime,
    thread_kind: MessageKind = MessageKind.outgoing,
) -> OutboundMail:
    """The outbox row, and with a ticket the thread message and its attachments."""
    message: Message | None = None
    if ticket is not None:
        message = tickets.add_message(
            session,
            ticket=ticket,
            kind=thread_kind,
            text=draft.text,
            subject=draft.subject,
            author=agent,
            from_name=mailbox.display_name or None,
            from_address=mailbox.address,
            to=draft.to,
            cc=draft.cc,
            bcc=draft.bcc,
            message_id=draft.message_id,
            in_reply_to=draft.in_reply_to,
            references=compose.cap_references(draft.references),
            raw_sha256=raw_sha,
            mailbox=mailbox,
            flags=["automatic"] if draft.automatic else [],
            created_at=now,
        )
        if agent is None:
            message.from_name = mailbox.display_name or None
        message.delivery_status = DeliveryStatus.queued
        for f, sha in zip(draft.attachments, file_shas, strict=True):
            session.add(
                Attachment(
                    message_id=message.id or 0,
                    filename=f.filename,
                    content_type=f.content_type,
                    size=len(f.data),
                    sha256=sha,
                )
            )
    outbound = OutboundMail(
        message_row_id=message.id if message else None,
        ticket_id=ticket.id if ticket else None,
        mailbox_id=mailbox.id or 0,
        kind=kind,
        message_id=draft.message_id,
        subject=draft.subject,
        envelope_from=mailbox.address,
        recipients=compose.envelope_recipients(draft),
        raw_sha256=raw_sha,
        send_after=start,
        next_attempt_at=start,
        idempotency_key=idempotency_key,
        created_by=agent.id if agent else None,
        created_at=now,
        updated_at=now,
    )
    session.add(outbound)
    session.flush()
    audit.record(
        session,
        action=f"outbox.{OutboundKind(kind).value}",
        agent=agent,
        object_type="outbound_mail",
        object_id=outbound.id,
        ticket_id=ticket.id if ticket else None,
        recipients=outbound.recipients,
    )
    return outbound


def sync_message(session: Session, outbound: OutboundMail) -> None:
    """Mirror the outbox row's state onto the thread's message (what the ticket shows)."""
    if outbound.message_row_id is None:
        return
    message = session.get(Message, outbound.message_row_id)
    if message is not None:
        message.delivery_status = outbound.status
        message.delivery_error = outbound.last_error
        session.add(message)


def _transition(
    session: Session, outbound: OutboundMail, allowed: Sequence[str], **values: object
) -> bool:
    """Change the row only if it is still in an ``allowed`` state (races with the worker)."""
    result = session.exec(
        update(OutboundMail)
        .where(col(OutboundMail.id) == outbound.id, col(OutboundMail.status).in_(allowed))
        .values(updated_at=utcnow(), **values)
    )
    session.refresh(outbound)
    return result.rowcount == 1


def _changed_by_agent(
    session: Session, outbound: OutboundMail, agent: Agent | None, action: str
) -> None:
    """After an agent's transition: mirror it on the thread message, audit."""
    sync_message(session, outbound)
    audit.record(
        session,
        action=action,
        agent=agent,
        object_type="outbound_mail",
        object_id=outbound.id,
        ticket_id=outbound.ticket_id,
    )


def cancel(session: Session, *, outbound: OutboundMail, agent: Agent) -> OutboundMail:
    """Undo send: stop a mail that has not left yet (still queued, or failed)."""
    with transaction(session):
        if not _transition(session, outbound, ("queued", "failed"), status="cancelled"):
            raise Conflict("Too late to undo: the mail is being sent or was sent already")
        _changed_by_agent(session, outbound, agent, "outbox.cancel")
        _first_response_cancelled(session, outbound)
    return outbound


def _first_response_cancelled(session: Session, outbound: OutboundMail) -> None:
    """A cancelled reply no longer answers the customer: the ticket's clock may go back."""
    if outbound.ticket_id is None or outbound.message_row_id is None:
        return
    ticket = session.get(Ticket, outbound.ticket_id)
    message = session.get(Message, outbound.message_row_id)
    if ticket is not None and message is not None:
        ticket_clocks.reply_cancelled(session, ticket, message)


def retry(session: Session, *, outbound: OutboundMail, agent: Agent | None) -> OutboundMail:
    """Send a failed mail again (the same bytes and Message-ID)."""
    now = utcnow()
    with transaction(session):
        if not _transition(
            session,
            outbound,
            ("failed",),
            status="queued",
            next_attempt_at=now,
            send_after=now,
            last_error=None,
        ):
            raise Conflict("Only a failed mail can be sent again")
        _changed_by_agent(session, outbound, agent, "outbox.retry")
    return outbound


def retry_failed(session: Session, *, outbound_id: int, agent: Agent | None) -> bool:
    """Send the mail again if it failed (as ``retry``); False if it is not failed, or gone."""
    outbound = session.get(OutboundMail, outbound_id)
    if outbound is None or outbound.status != DeliveryStatus.failed:
        return False
    retry(session, outbound=outbound, agent=agent)
    return True


def send_waiting_now(session: Session, *, mailbox_id: int) -> int:
    """Inside a unit: the mailbox's queued mail is due now (its sign-in works again)."""
    now = utcnow()
    result = session.exec(
        update(OutboundMail)
        .where(
            col(OutboundMail.mailbox_id) == mailbox_id,
            col(OutboundMail.status) == DeliveryStatus.queued,
            col(OutboundMail.next_attempt_at) > now,
        )
        .values(next_attempt_at=now, updated_at=now)
    )
    return int(result.rowcount or 0)


def delivery(session: Session, outbound_id: int) -> Delivery | None:
    """Where the mail ``queue_mail`` returned is now (read afresh: the outbox worker moves
    it in its own session), or None if there is no such mail."""
    outbound = session.get(OutboundMail, outbound_id, populate_existing=True)
    if outbound is None:
        return None
    return Delivery(
        status=DeliveryStatus(outbound.status), sent_at=outbound.sent_at, error=outbound.last_error
    )


def get_outbound(session: Session, outbound_id: int) -> OutboundMail:
    row = session.get(OutboundMail, outbound_id)
    if row is None:
        raise NotFound("No such outgoing mail")
    return row


def for_messages(session: Session, message_ids: Sequence[int]) -> dict[int, OutboundMail]:
    """Outbox rows of the given thread messages, by message id (for the ticket view)."""
    if not message_ids:
        return {}
    rows = session.exec(
        select(OutboundMail).where(col(OutboundMail.message_row_id).in_(list(message_ids)))
    )
    return {r.message_row_id: r for r in rows if r.message_row_id is not None}
