"""Per mailbox: new UIDs -> raw store -> parse -> filters -> ingest (commit) -> mark seen.

Why this order never loses or doubles a mail, even under ``kill -9``:

- The raw bytes are stored (fsynced, content-addressed) before anything else, so a
  committed message always has its source.
- A group of up to ``COMMIT_EVERY`` mails is one unit of work (``db.transaction`` around
  ``ingest``) that also records each server copy (unique on mailbox, folder, UIDVALIDITY,
  UID) and moves the folder's ``last_uid``. Killed before the commit: nothing happened,
  the next run fetches the UIDs again. Killed after: ``last_uid`` is past them. The unique
  constraint is the last guard if two fetchers ever raced. The unit holds no IMAP call:
  the group is fetched and parsed before it begins, flagged on the server after it ends.
- ``\\Seen`` (or the move to the processed folder) comes only after the commit; being
  killed between the two leaves an imported mail unseen on the server, never a seen mail
  unimported. Moves left undone are finished on the next run.
- A changed UIDVALIDITY restarts the folder from UID 1; every copy is then recognised by
  Message-ID and content hash (``dedupe``) and recorded as a duplicate, not imported again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlmodel import Session, select

from helpdesk.blobs import BlobStore
from helpdesk.db import end_read, transaction
from helpdesk.mail.imap.session import FetchedMessage, ImapSession, ImapSettings
from helpdesk.mail.inbound.bigmail import prepare_fetched
from helpdesk.mail.inbound.ingest import ingest
from helpdesk.mail.inbound.prepare import Prepared, Preparer
from helpdesk.mail.inbound.rows import Arrival, IngestResult, Source
from helpdesk.models import (
    InboundMail,
    InboundOutcome,
    Mailbox,
    MailboxAuth,
    MailboxFolderState,
    utcnow,
)
from helpdesk.services.oauth.tokens import token_source
from helpdesk.settings import get_settings

log = logging.getLogger(__name__)


@dataclass
class SyncCounts:
    """What one sync did, summed over folders (and mailboxes)."""

    read: int = 0
    imported: int = 0
    duplicates: int = 0
    threaded: int = 0
    auto_replies: int = 0
    unparsed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, result: IngestResult) -> None:
        self.read += 1
        if result.outcome in (InboundOutcome.imported, InboundOutcome.unparsed):
            self.imported += 1
            self.threaded += result.threaded
            self.auto_replies += result.automatic
            self.unparsed += result.outcome == InboundOutcome.unparsed
        else:
            self.duplicates += 1

    def merge(self, other: SyncCounts) -> None:
        for name in ("read", "imported", "duplicates", "threaded", "auto_replies", "unparsed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed += other.failed
        self.errors += other.errors

    def as_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "threaded": self.threaded,
            "auto_replies": self.auto_replies,
            "unparsed": self.unparsed,
            "failed": self.failed,
        }


#: Mails per transaction when fetching: fewer commits (and one blob sync) per group.
COMMIT_EVERY = 50


def blob_store(*, deferred_sync: bool = False) -> BlobStore:
    """The blob store; ``deferred_sync`` leaves durability to ``sync()`` before a commit."""
    return BlobStore(get_settings().blob_dir, fsync_each=not deferred_sync)


def imap_settings(mailbox: Mailbox) -> ImapSettings:
    """Connection settings of a mailbox (default ports 993 for IMAPS, else 143)."""
    security = str(mailbox.imap_security)
    return ImapSettings(
        host=mailbox.imap_host or "",
        port=mailbox.imap_port or (993 if security == "ssl" else 143),
        username=mailbox.imap_user or "",
        password=mailbox.imap_password or "",
        security=security,  # type: ignore[arg-type]
        timeout=60.0,
        xoauth2=token_source(mailbox.id or 0) if mailbox.auth == MailboxAuth.xoauth2 else None,
    )


def folders(mailbox: Mailbox) -> list[str]:
    """Folders fetched for a mailbox: the inbox, then the Sent folder when configured."""
    names = [mailbox.imap_folder or "INBOX"]
    if mailbox.sent_folder and mailbox.sent_folder not in names:
        names.append(mailbox.sent_folder)
    return names


def folder_state(
    session: Session, mailbox: Mailbox, folder: str, uidvalidity: int
) -> MailboxFolderState:
    """The folder's sync state; a new UIDVALIDITY restarts it (see the module docstring)."""
    state = _stored_state(session, mailbox, folder)
    if state is not None and state.uidvalidity == uidvalidity:
        return state
    with transaction(session):
        state = _stored_state(session, mailbox, folder)
        if state is None:
            state = MailboxFolderState(
                mailbox_id=mailbox.id or 0, folder=folder, uidvalidity=uidvalidity, last_uid=0
            )
        elif state.uidvalidity != uidvalidity:
            log.warning(
                "%s %s: UIDVALIDITY changed %s -> %s; resyncing by Message-ID and content",
                mailbox.address,
                folder,
                state.uidvalidity,
                uidvalidity,
            )
            state.uidvalidity = uidvalidity
            state.last_uid = 0
        state.updated_at = utcnow()
        session.add(state)
    return state


def _stored_state(session: Session, mailbox: Mailbox, folder: str) -> MailboxFolderState | None:
    return session.exec(
        select(MailboxFolderState).where(
            MailboxFolderState.mailbox_id == mailbox.id, MailboxFolderState.folder == folder
        )
    ).first()


def _leftovers(
    session: Session, imap: ImapSession, state: MailboxFolderState, *, unseen_only: bool
) -> list[int]:
    """Imported UIDs not yet moved (or marked seen) because we were stopped in between."""
    if unseen_only:
        present = imap.unseen_uids(state.last_uid)
    else:
        present = [u for u in imap.uids_since(0) if u <= state.last_uid]
    if not present:
        return []
    known = set(
        session.exec(
            select(InboundMail.uid).where(
                InboundMail.mailbox_id == state.mailbox_id,
                InboundMail.folder == state.folder,
                InboundMail.uidvalidity == state.uidvalidity,
            )
        ).all()
    )
    end_read(session)  # before the IMAP calls that follow
    return [u for u in present if u in known]


def sync_folder(
    session: Session,
    imap: ImapSession,
    mailbox: Mailbox,
    folder: str,
    *,
    store: BlobStore | None = None,
    stop: threading.Event | None = None,
    keep: Callable[[], bool] | None = None,
    catch_up: bool = False,
    counts: SyncCounts | None = None,
) -> SyncCounts:
    """Import every new message of one folder; see the module docstring for the order.

    ``counts`` is added to as mail is imported, so a caller sees the work done even when
    the sync then fails.

    ``catch_up`` (the first sync after a start) also finishes the \\Seen flags and moves
    that a previous run was stopped before; later syncs leave flags that people change
    in their own mail clients alone.
    """
    store = store or blob_store()
    batch = max(1, get_settings().mail_fetch_batch)
    status = imap.select(folder)
    state = folder_state(session, mailbox, folder, status.uidvalidity)
    end_read(session)  # before the IMAP calls that follow
    move_to = mailbox.processed_folder if folder == folders(mailbox)[0] else None
    if move_to:
        imap.ensure_folder(move_to)
        imap.select(folder)
    if catch_up:
        leftovers = _leftovers(session, imap, state, unseen_only=not move_to)
        imap.move(leftovers, move_to) if move_to else imap.mark_seen(leftovers)
    counts = counts if counts is not None else SyncCounts()
    uids = imap.uids_since(state.last_uid)
    done: list[int] = []  # committed, not yet flagged on the server

    def after_commit() -> None:
        if done:
            imap.move(done, move_to) if move_to else imap.mark_seen(done)
            done.clear()

    preparer = Preparer(store, expected=len(uids))
    stream = preparer.stream(imap.fetch_raw(uids, batch=min(batch, 50), stream_to=store))
    try:
        source = Source(mailbox=mailbox, folder=folder, uidvalidity=state.uidvalidity)
        for group in _groups(stream, min(COMMIT_EVERY, batch), stop):
            if stop is not None and stop.is_set():
                break
            ready = [Arrival(f.uid, p or prepare_fetched(f, store)) for f, p in group]
            for uid, result in _write_group(session, ready, source, state, store):
                if not result.skipped:
                    counts.add(result)
                done.append(uid)
            if len(done) >= batch:
                after_commit()
                if keep is not None and not keep():
                    raise RuntimeError(f"{mailbox.address}: lost the mailbox lock")
    except BaseException:
        session.rollback()
        raise
    finally:
        preparer.close()
    after_commit()
    return counts


def _write_group(
    session: Session,
    ready: list[Arrival],
    source: Source,
    state: MailboxFolderState,
    store: BlobStore,
) -> list[tuple[int, IngestResult]]:
    """One group is one unit of work, written in a few statements (``ingest``).

    Its lookups are read once inside the unit; the rows, their inbound records and
    ``last_uid`` land together or not at all, and the blobs they point at are made
    durable just before the commit.
    """
    written: list[tuple[int, IngestResult]] = []
    with transaction(session):
        for uid, result in ingest(session, ready, source=source, store=store):
            assert uid is not None  # fetched mail always has one
            written.append((uid, result))
        top = max((uid for uid, _ in written), default=0)
        if top > state.last_uid:
            state.last_uid, state.updated_at = top, utcnow()
            session.add(state)
        store.sync()
    return written


def _groups(
    stream: Iterator[tuple[FetchedMessage, Prepared | None]],
    size: int,
    stop: threading.Event | None,
) -> Iterator[list[tuple[FetchedMessage, Prepared | None]]]:
    """The stream in lists of ``size``; ends early (with what it has) once ``stop`` is set."""
    group: list[tuple[FetchedMessage, Prepared | None]] = []
    for item in stream:
        group.append(item)
        if len(group) >= size or (stop is not None and stop.is_set()):
            yield group
            group = []
            if stop is not None and stop.is_set():
                return
    if group:
        yield group


def record_success(session: Session, mailbox: Mailbox) -> None:
    """Mark a successful sync on the mailbox (shown on the admin page)."""
    with transaction(session):
        mailbox.last_sync_at = utcnow()
        mailbox.last_error = None
        mailbox.last_error_at = None
        session.add(mailbox)


def record_error(session: Session, mailbox: Mailbox, error: str) -> None:
    """Remember why the mailbox failed (passwords never appear: ImapError hides them).

    Whatever failed may have left the session's transaction unusable: it is rolled back
    first.
    """
    session.rollback()
    with transaction(session):
        mailbox.last_error = error[:1000]
        mailbox.last_error_at = utcnow()
        session.add(mailbox)


def sync_mailbox(
    session: Session,
    mailbox: Mailbox,
    imap: ImapSession,
    *,
    store: BlobStore | None = None,
    stop: threading.Event | None = None,
    keep: Callable[[], bool] | None = None,
    catch_up: bool = False,
    counts: SyncCounts | None = None,
) -> SyncCounts:
    """Sync every folder of a connected mailbox and record the success (adds to ``counts``)."""
    counts = counts if counts is not None else SyncCounts()
    for folder in folders(mailbox):
        sync_folder(
            session,
            imap,
            mailbox,
            folder,
            store=store,
            stop=stop,
            keep=keep,
            catch_up=catch_up,
            counts=counts,
        )
    record_success(session, mailbox)
    return counts
