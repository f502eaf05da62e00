"""Running the fetcher: once over every mailbox, or forever per mailbox with IDLE.

Each mailbox is fetched by one process at a time (``helpdesk.locks.MailboxLock``); a
mailbox that fails is recorded and retried with backoff, never stopping the others.

A watcher writes only in units of work (``db.transaction``: on SQLite they wait for the
write lock instead of failing when another process committed after the watcher's last
read), ends its reads before it waits on the server, and rolls back before it records a
failure, so one failed statement never leaves the session unusable and the thread dead.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from helpdesk import db
from helpdesk.locks import MailboxLock
from helpdesk.mail.imap.session import ImapError, ImapLoginError, ImapSession
from helpdesk.mail.inbound.fetch import (
    SyncCounts,
    blob_store,
    folder_state,
    folders,
    imap_settings,
    record_error,
    sync_mailbox,
)
from helpdesk.models import Mailbox
from helpdesk.services.oauth.grants import paused_mailboxes
from helpdesk.services.oauth.tokens import NeedsReconnect, TokenUnavailable
from helpdesk.settings import get_settings

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
#: Longest single IDLE before the lock is renewed and the stop flag looked at.
IDLE_SLICE_SECONDS = 60.0


def fetchable(session: Session, address: str | None = None) -> list[Mailbox]:
    """Active mailboxes with IMAP settings (only ``address`` when given).

    An xoauth2 mailbox whose grant needs a reconnect is left out until it is reconnected.
    """
    query = (
        select(Mailbox)
        .where(
            Mailbox.active == True,  # noqa: E712
            col(Mailbox.id).not_in(paused_mailboxes()),
        )
        .order_by(col(Mailbox.id))
    )
    if address:
        query = query.where(Mailbox.address == address.strip().lower())
    return [m for m in session.exec(query) if m.can_fetch]


@dataclass
class OnceResult:
    """Totals of a one-shot fetch, and what happened per mailbox."""

    counts: SyncCounts = field(default_factory=SyncCounts)
    mailboxes: dict[str, str] = field(default_factory=dict)  # address -> ok/busy/error text


def fetch_once(
    address: str | None = None, *, session_factory: Callable[[], Session] | None = None
) -> OnceResult:
    """Fetch every (or one) mailbox once; a failing or busy mailbox is noted and skipped."""
    result = OnceResult()
    store = blob_store(deferred_sync=True)
    with contextlib.closing((session_factory or db.new_session)()) as session:
        for mailbox in fetchable(session, address):
            lock = MailboxLock(session, mailbox.id or 0)
            if not lock.acquire():
                result.mailboxes[mailbox.address] = "busy"
                continue
            try:
                settings = imap_settings(mailbox)  # may reload the row: read it first
                db.end_read(session)  # no snapshot held while we log in to the server
                with ImapSession(settings) as imap:
                    sync_mailbox(
                        session,
                        mailbox,
                        imap,
                        store=store,
                        keep=lock.keep,
                        catch_up=True,
                        counts=result.counts,
                    )
                result.mailboxes[mailbox.address] = "ok"
            except (
                ImapError,
                NeedsReconnect,
                TokenUnavailable,
                SQLAlchemyError,
                OSError,
                RuntimeError,
            ) as exc:
                log.error("%s: %s", mailbox.address, exc)
                result.mailboxes[mailbox.address] = str(exc)
                result.counts.errors.append(f"{mailbox.address}: {exc}")
                with contextlib.suppress(SQLAlchemyError):
                    record_error(session, mailbox, str(exc))
            finally:
                lock.release()
    return result


class MailboxWatcher:
    """Keeps one mailbox fetched: sync, then IDLE (or poll), reconnecting with backoff."""

    def __init__(
        self,
        mailbox_id: int,
        stop: threading.Event,
        *,
        session_factory: Callable[[], Session] | None = None,
    ) -> None:
        self.mailbox_id = mailbox_id
        self.stop = stop
        self.session_factory = session_factory or db.new_session
        self._imap: ImapSession | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self.run, name=f"mailbox-{self.mailbox_id}", daemon=True
        )
        self.thread.start()

    def interrupt(self) -> None:
        """Wake the loop out of IDLE (after ``stop`` is set)."""
        imap = self._imap
        if imap is not None:
            imap.interrupt()

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def run(self) -> None:
        backoff = 1.0
        while not self.stop.is_set():
            with contextlib.closing(self.session_factory()) as session:
                mailbox = session.get(Mailbox, self.mailbox_id)
                if mailbox is None or not mailbox.can_fetch:
                    return
                address = mailbox.address  # for the log, even when the session is unusable
                lock = MailboxLock(session, self.mailbox_id)
                try:
                    held = lock.acquire()
                except SQLAlchemyError as exc:
                    log.warning("%s: could not take the mailbox lock: %s", address, exc)
                    held = False
                if not held:
                    # Another worker has it (or the database was busy); look again later.
                    self.stop.wait(get_settings().mail_poll_seconds)
                    continue
                try:
                    self._serve(session, mailbox, lock)
                    backoff = 1.0
                except NeedsReconnect as exc:
                    # Paused: the grant is marked, the worker starts a watcher again once
                    # an admin reconnects the mailbox (it is not fetchable until then).
                    self._failed(session, mailbox, address, exc)
                    return
                except ImapLoginError as exc:
                    self._failed(session, mailbox, address, exc)
                    backoff = MAX_BACKOFF_SECONDS  # a wrong password will not fix itself
                except (
                    ImapError,
                    TokenUnavailable,
                    SQLAlchemyError,
                    OSError,
                    RuntimeError,
                ) as exc:
                    if self.stop.is_set():
                        break
                    self._failed(session, mailbox, address, exc)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                except Exception as exc:  # a bug must not end the loop for good
                    log.exception("%s: unexpected failure", address)
                    self._failed(session, mailbox, address, exc)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                else:
                    continue
                finally:
                    lock.release()
            self.stop.wait(backoff)

    def _failed(self, session: Session, mailbox: Mailbox, address: str, exc: BaseException) -> None:
        log.error("%s: %s", address, exc)
        with contextlib.suppress(SQLAlchemyError):
            record_error(session, mailbox, str(exc) or type(exc).__name__)

    def _serve(self, session: Session, mailbox: Mailbox, lock: MailboxLock) -> None:
        """Sync and wait until stopped; raises on any connection or database failure."""
        store = blob_store(deferred_sync=True)
        imap = ImapSession(imap_settings(mailbox))
        self._imap = imap
        try:
            db.end_read(session)  # no snapshot held while we log in to the server
            imap.connect()
            idle = imap.has_capability("IDLE")
            first = True
            while not self.stop.is_set():
                session.refresh(mailbox)
                if not mailbox.can_fetch:
                    return
                db.end_read(session)  # no snapshot held while we talk to the server
                sync_mailbox(
                    session,
                    mailbox,
                    imap,
                    store=store,
                    stop=self.stop,
                    keep=lock.keep,
                    catch_up=first,
                )
                first = False
                if not lock.keep():
                    raise RuntimeError(f"{mailbox.address}: lost the mailbox lock")
                self._wait(session, mailbox, imap, lock, idle)
        finally:
            self._imap = None
            imap.close()

    def _wait(
        self, session: Session, mailbox: Mailbox, imap: ImapSession, lock: MailboxLock, idle: bool
    ) -> None:
        settings = get_settings()
        inbox = folders(mailbox)[0]
        status = imap.select(inbox)
        state = folder_state(session, mailbox, inbox, status.uidvalidity)
        db.end_read(session)  # IDLE may last minutes: no transaction stays open meanwhile
        if status.uidnext is not None and status.uidnext > state.last_uid + 1:
            return  # mail arrived while we synced the other folders
        if not idle:
            self.stop.wait(settings.mail_poll_seconds)
            return
        # With a Sent folder to watch too, wake up at the poll interval; else IDLE long.
        span = (
            settings.mail_poll_seconds if len(folders(mailbox)) > 1 else settings.mail_idle_seconds
        )
        deadline = time.monotonic() + span
        while not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or imap.idle_wait(min(remaining, IDLE_SLICE_SECONDS)):
                return
            if not lock.keep():
                raise RuntimeError(f"{mailbox.address}: lost the mailbox lock")
