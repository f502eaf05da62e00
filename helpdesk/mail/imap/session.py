"""IMAP sessions for shared mailboxes: select, UID ranges, fetch, flags, IDLE.

A thin, typed layer over imapclient. Every failure leaves as an ``ImapError`` whose
message names the server and account (never the password), so the fetch loop can
log it and decide whether to reconnect.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from imapclient import IMAPClient, SocketTimeout
from imapclient import exceptions as imap_exceptions

from helpdesk.blobs import BlobStore
from helpdesk.mail.imap.fetching import fetch_batches, header_values
from helpdesk.mail.imap.values import (
    FetchedMessage,
    FolderStatus,
    ImapConnectionError,
    ImapError,
    ImapLoginError,
    ImapSettings,
    Security,
    translate_errors,
)

# The values and errors live in ``values``; callers know them from here.
__all__ = [
    "DELETED",
    "IDLE_REISSUE_SECONDS",
    "SEEN",
    "STREAM_ABOVE",
    "STREAM_CHUNK",
    "FetchedMessage",
    "FolderStatus",
    "ImapConnectionError",
    "ImapError",
    "ImapLoginError",
    "ImapSession",
    "ImapSettings",
    "Security",
]

log = logging.getLogger(__name__)

SEEN = r"\Seen"
DELETED = r"\Deleted"

# RFC 2177 asks clients to end IDLE before 30 minutes; servers may drop us at 30.
IDLE_REISSUE_SECONDS = 25 * 60

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)

#: Messages larger than this are streamed into the blob store instead of fetched whole.
STREAM_ABOVE = 8 * 1024 * 1024
STREAM_CHUNK = 1024 * 1024


class ImapSession:
    """One logged-in IMAP connection; use as a context manager."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self._client: Any = None  # imapclient ships no type information
        self._selected: str | None = None

    # -- connection --------------------------------------------------------------

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def connect(self) -> None:
        """Open the connection (IMAPS, STARTTLS or plain) and log in."""
        if self._client is not None:
            return
        s = self.settings
        timeout = SocketTimeout(connect=s.timeout, read=s.timeout)
        with self._errors("connect"):
            client = IMAPClient(
                s.host,
                s.port,
                ssl=s.security == "ssl",
                ssl_context=self._tls_context() if s.security == "ssl" else None,
                timeout=timeout,
            )
        try:
            if s.security == "starttls":
                with self._errors("STARTTLS"):
                    if not client.has_capability("STARTTLS"):
                        raise ImapError(self._describe("STARTTLS", "the server does not offer it"))
                    client.starttls(self._tls_context())
            with self._errors("login"):
                if s.xoauth2 is not None:
                    self._oauth2_login(client, s.xoauth2)
                elif (s.username + s.password).isascii():
                    client.login(s.username, s.password)
                elif client.has_capability("AUTH=PLAIN"):
                    # LOGIN is ASCII-only in imaplib; SASL PLAIN carries UTF-8.
                    client.plain_login(s.username, s.password)
                else:
                    raise ImapLoginError(
                        self._describe("login", "non-ASCII credentials need AUTH=PLAIN")
                    )
        except BaseException:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise
        self._client = client
        self._selected = None

    def _oauth2_login(self, client: Any, source: Callable[[str | None], str]) -> None:
        """SASL XOAUTH2; a refused token (ended early) is replaced once and tried again."""
        token = source(None)
        try:
            client.oauth2_login(self.settings.username, token)
        except imap_exceptions.LoginError:
            client.oauth2_login(self.settings.username, source(token))

    def close(self) -> None:
        """Log out, or just drop the socket when the server no longer answers."""
        client, self._client = self._client, None
        self._selected = None
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            with contextlib.suppress(Exception):
                client.shutdown()

    @property
    def connected(self) -> bool:
        return self._client is not None

    def interrupt(self) -> None:
        """Wake a call blocked in another thread (IDLE) by shutting the socket down.

        The blocked call then fails with ImapConnectionError; used for a quick shutdown.
        """
        client = self._client
        if client is not None:
            with contextlib.suppress(Exception):
                client.socket().shutdown(socket.SHUT_RDWR)

    def has_capability(self, name: str) -> bool:
        with self._errors("CAPABILITY"):
            return bool(self._imap.has_capability(name))

    def noop(self) -> bool:
        """Keep the connection alive; True when the server reported new messages."""
        with self._errors("NOOP"):
            _, responses = self._imap.noop()
        return _has_new_mail(responses)

    # -- folders -----------------------------------------------------------------

    def select(self, folder: str) -> FolderStatus:
        """Select *folder* read-write and return its UIDVALIDITY, UIDNEXT and size."""
        with self._errors(f"SELECT {folder!r}"):
            response = self._imap.select_folder(folder)
        self._selected = folder
        if b"UIDVALIDITY" not in response:
            raise ImapError(self._describe(f"SELECT {folder!r}", "server sent no UIDVALIDITY"))
        uidnext = response.get(b"UIDNEXT")
        return FolderStatus(
            uidvalidity=int(response[b"UIDVALIDITY"]),
            uidnext=int(uidnext) if uidnext is not None else None,
            exists=int(response.get(b"EXISTS", 0)),
        )

    def find_special_use(self, flag: str) -> str | None:
        r"""The folder carrying a special-use attribute such as ``\Sent`` (RFC 6154)."""
        wanted = flag.lower().encode()
        with self._errors("LIST"):
            folders = self._imap.list_folders()
        for flags, _delimiter, name in folders:
            if any(bytes(f).lower() == wanted for f in flags):
                return str(name)
        return None

    def ensure_folder(self, name: str) -> None:
        """Create and subscribe *name* unless it exists."""
        with self._errors(f"LIST {name!r}"):
            if self._imap.folder_exists(name):
                return
        try:
            with self._errors(f"CREATE {name!r}"):
                self._imap.create_folder(name)
        except ImapError:
            # Another worker may have created it between our LIST and CREATE.
            with self._errors(f"LIST {name!r}"):
                if self._imap.folder_exists(name):
                    return
            raise
        with contextlib.suppress(ImapError), self._errors(f"SUBSCRIBE {name!r}"):
            self._imap.subscribe_folder(name)

    # -- messages in the selected folder -----------------------------------------

    def uids_since(self, last_uid: int) -> list[int]:
        """UIDs above *last_uid* in the selected folder, ascending."""
        self._require_selected()
        with self._errors("UID SEARCH"):
            found = self._imap.search(["UID", f"{last_uid + 1}:*"])
        # "n:*" always matches the last message, even when its UID is below n.
        return sorted(int(uid) for uid in found if int(uid) > last_uid)

    def unseen_uids(self, up_to: int) -> list[int]:
        """UIDs from 1 to *up_to* without \\Seen in the selected folder, ascending."""
        self._require_selected()
        if up_to < 1:
            return []
        with self._errors("UID SEARCH UNSEEN"):
            found = self._imap.search(["UNSEEN", "UID", f"1:{up_to}"])
        return sorted(int(uid) for uid in found if int(uid) <= up_to)

    def fetch_raw(
        self,
        uids: Sequence[int],
        *,
        batch: int = 50,
        max_batch_bytes: int = 16 * 1024 * 1024,
        stream_to: BlobStore | None = None,
        stream_above: int | None = None,
    ) -> Iterator[FetchedMessage]:
        """Yield messages in UID order without marking them \\Seen.

        Messages are fetched a batch at a time, a batch capped both in count and in
        total size (from RFC822.SIZE), so a mailbox of large attachments never sits
        in memory at once. UIDs that vanished meanwhile are skipped. With ``stream_to``,
        a message larger than ``stream_above`` is copied in pieces straight into that
        blob store and yielded with ``blob`` set instead of its bytes.
        """
        self._require_selected()
        # The module's constants are read per call so tests can make them small.
        yield from fetch_batches(
            self._fetch,
            uids,
            batch=batch,
            max_batch_bytes=max_batch_bytes,
            stream_to=stream_to,
            stream_above=stream_above or STREAM_ABOVE,
            chunk=STREAM_CHUNK,
        )

    def _fetch(self, uids: list[int], items: list[str], action: str) -> dict[int, Any]:
        """One ``UID FETCH`` with failures turned into ImapError (for :mod:`fetching`)."""
        with self._errors(action):
            answer: dict[int, Any] = self._imap.fetch(uids, items)
        return answer

    def mark_seen(self, uids: Iterable[int]) -> None:
        self._require_selected()
        uid_list = sorted(set(uids))
        if not uid_list:
            return
        with self._errors("UID STORE +FLAGS \\Seen"):
            self._imap.add_flags(uid_list, [SEEN], silent=True)

    def move(self, uids: Iterable[int], folder: str) -> None:
        """Move messages to *folder*; without MOVE, copy and expunge only these UIDs."""
        self._require_selected()
        uid_list = sorted(set(uids))
        if not uid_list:
            return
        if self.has_capability("MOVE"):
            with self._errors(f"UID MOVE to {folder!r}"):
                self._imap.move(uid_list, folder)
            return
        with self._errors(f"UID COPY to {folder!r}"):
            self._imap.copy(uid_list, folder)
            self._imap.add_flags(uid_list, [DELETED], silent=True)
        if not self.has_capability("UIDPLUS"):
            # A plain EXPUNGE would also remove other clients' \Deleted messages.
            log.warning(
                "%s: no UIDPLUS, moved messages stay flagged \\Deleted in the source folder",
                self.settings.host,
            )
            return
        with self._errors("UID EXPUNGE"):
            self._imap.uid_expunge(uid_list)

    def append(
        self,
        folder: str,
        raw: bytes,
        flags: Sequence[str] = (SEEN,),
        when: datetime | None = None,
    ) -> int | None:
        """Store a message in *folder*; returns its UID when the server says (UIDPLUS)."""
        with self._errors(f"APPEND to {folder!r}"):
            response = self._imap.append(folder, raw, flags=tuple(flags), msg_time=when)
        match = _APPENDUID.search(bytes(response or b""))
        return int(match.group(2)) if match else None

    def search_header(self, folder: str, header: str, value: str) -> list[int]:
        """UIDs in *folder* whose *header* equals *value*; leaves *folder* selected.

        Servers match SEARCH HEADER as a substring, so candidates are confirmed by
        reading the header itself.
        """
        self.select(folder)
        charset = None if value.isascii() else "UTF-8"
        with self._errors(f"UID SEARCH HEADER {header}"):
            candidates = self._imap.search(["HEADER", header, value], charset=charset)
        if not candidates:
            return []
        section = f"BODY.PEEK[HEADER.FIELDS ({header.upper()})]"
        with self._errors(f"UID FETCH {header}"):
            data = self._imap.fetch(sorted(candidates), [section])
        matches = []
        for uid, item in data.items():
            raw_header = next((v for k, v in item.items() if k.startswith(b"BODY[HEADER")), b"")
            if value.strip() in header_values(bytes(raw_header or b""), header):
                matches.append(int(uid))
        return sorted(matches)

    # -- IDLE ------------------------------------------------------------------------

    def idle_wait(self, timeout: float) -> bool:
        """Wait up to *timeout* seconds for new mail in the selected folder.

        Uses IDLE (re-issued well before the 30-minute limit) and falls back to
        sleeping and a NOOP on servers without it. True when the server reported
        new messages; the session is out of IDLE again when this returns.
        """
        self._require_selected()
        if not self.has_capability("IDLE"):
            time.sleep(timeout)
            return self.noop()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._idle_once(min(remaining, IDLE_REISSUE_SECONDS)):
                return True

    def _idle_once(self, seconds: float) -> bool:
        """One IDLE command lasting at most *seconds*."""
        end = time.monotonic() + seconds
        with self._errors("IDLE"):
            self._imap.idle()
        new_mail = False
        try:
            while not new_mail:
                remaining = end - time.monotonic()
                if remaining <= 0:
                    break
                with self._errors("IDLE"):
                    responses = self._imap.idle_check(timeout=remaining)
                self._raise_on_bye(responses)
                new_mail = _has_new_mail(responses)
                if not responses and time.monotonic() < end - 0.1:
                    # Readable but nothing parsed: usually the server hung up.
                    # DONE below then fails loudly instead of us spinning.
                    break
        except BaseException:
            # Mid-IDLE the protocol state is unknown; the next call must reconnect.
            self._drop()
            raise
        with self._errors("IDLE DONE"):
            _, responses = self._imap.idle_done()
        self._raise_on_bye(responses)
        return new_mail or _has_new_mail(responses)

    def _raise_on_bye(self, responses: Sequence[Any]) -> None:
        for response in responses:
            if isinstance(response, tuple) and response and response[0] == b"BYE":
                text = b" ".join(r for r in response[1:] if isinstance(r, bytes)).decode(
                    errors="replace"
                )
                self._drop()
                raise ImapConnectionError(self._describe("IDLE", f"server closed: {text}"))

    # -- internals -------------------------------------------------------------------

    @property
    def _imap(self) -> Any:
        if self._client is None:
            raise ImapError(self._describe("command", "not connected"))
        return self._client

    def _require_selected(self) -> None:
        if self._selected is None:
            raise ImapError(self._describe("command", "no folder selected"))

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _describe(self, action: str, detail: str) -> str:
        s = self.settings
        message = f"IMAP {action} failed for {s.username}@{s.host}:{s.port}: {detail}"
        if s.password:
            message = message.replace(s.password, "***")
        return message

    def _errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        """Turn imapclient, imaplib and socket failures into ImapError."""
        return translate_errors(action, self._describe, self._drop)

    def _drop(self) -> None:
        """Forget a connection that is no longer usable; the next call reconnects."""
        client, self._client = self._client, None
        self._selected = None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()


def _has_new_mail(responses: Sequence[Any]) -> bool:
    for response in responses:
        if not isinstance(response, tuple) or len(response) < 2:
            continue
        count, kind = response[0], response[1]
        if kind == b"EXISTS" or (kind == b"RECENT" and isinstance(count, int) and count > 0):
            return True
    return False
