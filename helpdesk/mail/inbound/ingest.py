"""One transaction per mail: a parsed, filtered mail becomes ticket, message and attachment rows.

The caller has already stored the raw bytes and the attachments (content-addressed) and
run the filters; ``ingest`` only decides and persists, then commits. The record of the
server copy (``inbound_mail``) and the folder's ``last_uid`` are written in the same
transaction, so a crash at any point leaves either everything or nothing.

Threading order: In-Reply-To/References (and a bounce's original Message-ID) against
stored Message-IDs, ours and theirs; then a ``[#1042]`` subject tag, trusted only when the
sender already takes part in that ticket; else a new ticket.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, select

from helpdesk.blobs import BlobStore
from helpdesk.db import is_postgres
from helpdesk.mail.inbound.dedupe import find_duplicate, is_our_message, stored_with_message_id
from helpdesk.mail.inbound.lookup import IMPORT_LOCK_CLASS, BatchLookup, StoredMessage
from helpdesk.mail.inbound.thread import (
    AUTOMATIC,
    find_thread,
    message_flags,
    refresh_ticket_flags,
)
from helpdesk.mail.parsing.parsed import ParsedMail
from helpdesk.models import (
    Attachment,
    InboundMail,
    InboundOutcome,
    Mailbox,
    MailboxFolderState,
    Message,
    MessageKind,
    Ticket,
    TicketStatus,
    utcnow,
)
from helpdesk.services import audit
from helpdesk.services import tickets as ticket_service

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """Where a copy came from; ``uid`` is None for imported files."""

    mailbox: Mailbox
    folder: str
    uidvalidity: int | None = None
    uid: int | None = None

    @property
    def outgoing(self) -> bool:
        """Mail in the Sent folder was written by us (or an agent's own mail client)."""
        return bool(self.mailbox.sent_folder) and self.folder == self.mailbox.sent_folder


@dataclass(frozen=True)
class IngestResult:
    """What one ``ingest`` call did."""

    outcome: InboundOutcome | None  # None: this server copy was recorded before
    message_id: int | None = None
    ticket_id: int | None = None
    new_ticket: bool = False
    threaded: bool = False
    automatic: bool = False
    reopened: bool = False

    @property
    def skipped(self) -> bool:
        return self.outcome is None


def _known_copy(session: Session, source: Source) -> bool:
    if source.uid is None:
        return False
    return (
        session.exec(
            select(InboundMail.id).where(
                InboundMail.mailbox_id == source.mailbox.id,
                InboundMail.folder == source.folder,
                InboundMail.uidvalidity == source.uidvalidity,
                InboundMail.uid == source.uid,
            )
        ).first()
        is not None
    )


def _serialise(session: Session, mail: ParsedMail) -> None:
    # The advisory lock serialises imports of one Message-ID on PostgreSQL, so two
    # mailboxes receiving the same mail at the same moment still make one ticket.
    if is_postgres(session):
        session.connection().execute(
            text("SELECT pg_advisory_xact_lock(:cls, hashtext(:key))"),
            {"cls": IMPORT_LOCK_CLASS, "key": mail.message_id or mail.raw_sha256},
        )
    # SQLite allows one writer at a time; a concurrent import that read before the other
    # committed fails on commit (busy snapshot) and is retried, finding the duplicate.


def add_attachments(session: Session, message: Message, mail: ParsedMail, store: BlobStore) -> None:
    """Attachment rows for the mail's parts; bytes still in memory are stored first."""
    for att in mail.attachments:
        if att.data is not None:
            store.put(att.data)
        session.add(
            Attachment(
                message_id=message.id or 0,
                filename=att.filename[:500],
                content_type=att.content_type[:255],
                size=att.size,
                sha256=att.sha256,
                content_id=att.content_id[:998] if att.content_id else None,
                inline=att.inline,
            )
        )


def _link(session: Session, ticket: Ticket, message: Message) -> None:
    """Hand the ticket to the linking service when it exists (a separate feature)."""
    try:
        linking = importlib.import_module("helpdesk.services.linking")
    except ModuleNotFoundError as exc:
        if exc.name == "helpdesk.services.linking":
            return
        raise
    link_ticket = getattr(linking, "link_ticket", None)
    if link_ticket is None:
        return
    try:
        with session.begin_nested():
            link_ticket(session, ticket, message)
    except Exception:  # linking only annotates; it must never block the mailbox
        log.exception("linking ticket %s failed", ticket.id)


def _record(
    session: Session,
    source: Source,
    mail: ParsedMail,
    content_sha: str,
    outcome: InboundOutcome,
    message_id: int | None,
    state: MailboxFolderState | None,
) -> None:
    session.add(
        InboundMail(
            mailbox_id=source.mailbox.id or 0,
            folder=source.folder,
            uidvalidity=source.uidvalidity,
            uid=source.uid,
            raw_sha256=mail.raw_sha256,
            content_sha256=content_sha,
            size=mail.size,
            header_message_id=(mail.message_id or None) and (mail.message_id or "")[:998],
            message_id=message_id,
            outcome=outcome,
        )
    )
    if state is not None and source.uid is not None and source.uid > state.last_uid:
        state.last_uid = source.uid
        state.updated_at = utcnow()
        session.add(state)


def ingest(
    session: Session,
    mail: ParsedMail,
    *,
    source: Source,
    content_sha: str,
    store: BlobStore,
    state: MailboxFolderState | None = None,
    received_at: datetime | None = None,
    commit: bool = True,
    lookup: BatchLookup | None = None,
) -> IngestResult:
    """Persist one mail (or record it as a duplicate) and commit; see the module docstring.

    ``state`` is the folder's sync state: its ``last_uid`` moves in this same transaction.
    Database errors propagate after a rollback; the caller decides whether to retry.
    With ``commit=False`` the mail goes into a savepoint of the caller's transaction (a
    batch the caller commits; a failing mail rolls back only its own savepoint).
    ``lookup`` answers the duplicate and threading questions for a whole batch (its
    locks already taken); it learns this mail once its savepoint is released.
    """
    if not commit:
        with session.begin_nested():
            result, stored = _ingest(
                session, mail, source, content_sha, store, state, received_at, lookup
            )
        if lookup is not None and not result.skipped:
            lookup.remember(
                uid=source.uid,
                mail=mail,
                content_sha=content_sha,
                message_id=result.message_id,
                stored=stored,
            )
        return result
    try:
        result, _ = _ingest(session, mail, source, content_sha, store, state, received_at)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def _ingest(
    session: Session,
    mail: ParsedMail,
    source: Source,
    content_sha: str,
    store: BlobStore,
    state: MailboxFolderState | None,
    received_at: datetime | None,
    lookup: BatchLookup | None = None,
) -> tuple[IngestResult, StoredMessage | None]:
    if lookup.known_copy(source.uid) if lookup is not None else _known_copy(session, source):
        if state is not None and source.uid is not None and source.uid > state.last_uid:
            state.last_uid = source.uid
            session.add(state)
        return IngestResult(outcome=None), None
    if lookup is None:
        _serialise(session, mail)
        duplicate_of = find_duplicate(session, mail, content_sha)
        stored: Message | StoredMessage | None = stored_with_message_id(session, mail.message_id)
    else:
        duplicate_of = lookup.duplicate(mail, content_sha)
        stored = lookup.stored_with_message_id(mail.message_id)
    if duplicate_of is not None:
        _record(session, source, mail, content_sha, InboundOutcome.duplicate, duplicate_of, state)
        original = session.get(Message, duplicate_of)
        return IngestResult(
            outcome=InboundOutcome.duplicate,
            message_id=duplicate_of,
            ticket_id=original.ticket_id if original else None,
        ), None
    if stored is not None and is_our_message(mail):
        _record(session, source, mail, content_sha, InboundOutcome.ours, stored.id, state)
        return IngestResult(
            outcome=InboundOutcome.ours, message_id=stored.id, ticket_id=stored.ticket_id
        ), None

    flags = message_flags(mail)
    if stored is not None:
        flags.add("duplicate_message_id")
    automatic = bool(flags & AUTOMATIC)
    outgoing = source.outgoing
    ticket, how = find_thread(session, mail, outgoing=outgoing, lookup=lookup)
    now = utcnow()
    if ticket is None:
        customer_name: str | None = mail.from_name
        customer_email: str | None = mail.from_address
        if outgoing:
            first = (mail.to or mail.cc or [("", "")])[0]
            customer_name, customer_email = first[0] or None, first[1] or None
        ticket = ticket_service.open_ticket(
            session,
            subject=mail.subject,
            mailbox=source.mailbox,
            customer_email=customer_email,
            customer_name=(customer_name or "")[:200] or None,
            status=TicketStatus.pending if outgoing else TicketStatus.open,
            created_at=received_at or now,
        )
    message = ticket_service.add_message(
        session,
        ticket=ticket,
        kind=MessageKind.outgoing if outgoing else MessageKind.incoming,
        text=mail.text,
        html=mail.html,
        subject=mail.subject,
        from_name=(mail.from_name or "")[:300] or None,
        from_address=(mail.from_address or "")[:254] or None,
        to=[a for _, a in mail.to if a],
        cc=[a for _, a in mail.cc if a],
        message_id=(mail.message_id or "")[:998] or None,
        in_reply_to=(mail.in_reply_to or "")[:998] or None,
        references=mail.references,
        raw_sha256=mail.raw_sha256,
        mailbox=source.mailbox,
        flags=flags,
        sent_date=mail.date,
        created_at=received_at or now,
        counts_as_activity=not (how and automatic),
    )
    add_attachments(session, message, mail, store)
    reopened = False
    if how and not outgoing and not automatic and ticket.status != TicketStatus.open:
        audit.record(
            session,
            action="ticket.reopen",
            object_type="ticket",
            object_id=ticket.id,
            old=str(ticket.status),
            message_id=message.id,
        )
        ticket.status = TicketStatus.open
        session.add(ticket)
        reopened = True
    refresh_ticket_flags(session, ticket, only=None if how else message)
    _link(session, ticket, message)
    outcome = InboundOutcome.unparsed if mail.unparsed else InboundOutcome.imported
    _record(session, source, mail, content_sha, outcome, message.id, state)
    result = IngestResult(
        outcome=outcome,
        message_id=message.id,
        ticket_id=ticket.id,
        new_ticket=not how,
        threaded=bool(how),
        automatic=automatic,
        reopened=reopened,
    )
    kind = str(message.kind)
    row = StoredMessage(message.id or 0, ticket.id or 0, message.message_id, mail.raw_sha256, kind)
    return result, row
