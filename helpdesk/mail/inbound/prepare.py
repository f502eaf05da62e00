"""The CPU half of mail-in, off the database writer: store raw -> parse -> filters -> hash.

Parsing costs about as much as persisting, so a large sync parses in a separate process
while the main process writes the previous chunk to the database and fetches the next
one over IMAP. Small syncs (the usual IDLE wake-up) stay in-process: starting a worker
would cost more than it saves.

Durability is unchanged: the worker writes blobs into the same store, and the writer
calls ``BlobStore.sync()`` (a syncfs of the store's filesystem, whoever wrote the data)
before each commit, after the worker has handed the chunk back.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from helpdesk.blobs import BlobStore
from helpdesk.limits import clean
from helpdesk.mail.filters import run_filters
from helpdesk.mail.imap.values import FetchedMessage
from helpdesk.mail.inbound.dedupe import content_sha256
from helpdesk.mail.parsing.parse import parse_mail
from helpdesk.mail.parsing.parsed import ParsedMail

log = logging.getLogger(__name__)

#: Mails handed to the worker at once: big enough to amortise pickling, small enough
#: that the writer is never idle for long.
CHUNK = 25
#: Chunks in flight ahead of the writer (bounds memory: 2 x CHUNK raw mails).
DEPTH = 2
#: A sync with fewer new mails than this parses in-process.
POOL_THRESHOLD = 4 * CHUNK


@dataclass
class Prepared:
    """A mail ready for ``ingest``: parsed, filtered, its bytes stored, its content hash."""

    mail: ParsedMail
    content_sha: str


def unreadable(raw_sha256: str, size: int, error: str) -> ParsedMail:
    """The mail a stage could not read: its raw bytes stored, nothing else known.

    It is still written (a ticket flagged ``unparsed``: "could not be read fully", its
    source downloadable from the ticket page); ``helpdesk mail reprocess`` reads it again.
    """
    errors = [clean(error)[:1000]] if error else []
    return ParsedMail(raw_sha256=raw_sha256, size=size, unparsed=True, parse_errors=errors)


def guarded(raw_sha256: str, size: int, step: Callable[[], Prepared]) -> Prepared:
    """``step()``, or an ``unreadable`` mail when it raises: one mail never stops the rest."""
    try:
        return step()
    except Exception as exc:
        log.exception("preparing mail %s failed; storing it as not read fully", raw_sha256)
        return Prepared(unreadable(raw_sha256, size, f"prepare: {exc!r}"), raw_sha256)


def prepare(raw: bytes, store: BlobStore) -> Prepared:
    """Store the bytes, parse and filter one mail (never raises for bad mail).

    Storing the raw bytes comes first and is not guarded (a full disk stops the fetch);
    every step after it is (``guarded``).
    """
    sha = store.put(raw)

    def step() -> Prepared:
        mail = run_filters(parse_mail(raw, store=store))
        return Prepared(mail=mail, content_sha=content_sha256(raw))

    return guarded(sha, len(raw), step)


def _prepare_chunk(raws: list[bytes | None], root: str, fsync_each: bool) -> list[Prepared | None]:
    # None: a large mail already streamed into the store; the writer prepares it
    # itself from the file (``bigmail``) rather than shipping it through a pipe.
    store = BlobStore(Path(root), fsync_each=fsync_each)
    return [None if raw is None else prepare(raw, store) for raw in raws]


class Preparer:
    """Prepares fetched mail in order, in a worker process when there is enough of it."""

    def __init__(self, store: BlobStore, *, expected: int) -> None:
        self.store = store
        self._pool: ProcessPoolExecutor | None = None
        if expected >= POOL_THRESHOLD:
            # spawn: the fetcher may run threads (IDLE watchers) and hold database
            # connections, neither of which may be inherited by a forked child.
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def stream(
        self, fetched: Iterable[FetchedMessage]
    ) -> Iterator[tuple[FetchedMessage, Prepared | None]]:
        """(message, prepared) in fetch order; prepared is None when done in-process
        (the caller then prepares the raw bytes itself: ``bigmail.prepare_fetched``)."""
        if self._pool is None:
            for message in fetched:
                yield message, None
            return
        inflight: deque[tuple[list[FetchedMessage], Future[list[Prepared | None]]]] = deque()
        chunk: list[FetchedMessage] = []
        for message in fetched:
            chunk.append(message)
            if len(chunk) >= CHUNK:
                inflight.append((chunk, self._submit(chunk)))
                chunk = []
                if len(inflight) > DEPTH:
                    yield from self._emit(*inflight.popleft())
        if chunk:
            inflight.append((chunk, self._submit(chunk)))
        while inflight:
            yield from self._emit(*inflight.popleft())

    def _submit(self, chunk: list[FetchedMessage]) -> Future[list[Prepared | None]]:
        assert self._pool is not None
        raws = [None if m.blob is not None else m.raw for m in chunk]
        try:
            return self._pool.submit(
                _prepare_chunk, raws, str(self.store.root), self.store.fsync_each
            )
        except BrokenProcessPool as exc:
            # The worker died earlier: this chunk, like the failed one, is prepared
            # in-process by the caller instead of failing the whole sync.
            failed: Future[list[Prepared | None]] = Future()
            failed.set_exception(exc)
            return failed

    @staticmethod
    def _emit(
        chunk: list[FetchedMessage], future: Future[list[Prepared | None]]
    ) -> Iterator[tuple[FetchedMessage, Prepared | None]]:
        try:
            prepared = future.result()
        except Exception:  # a dead or broken worker: prepare this chunk in-process
            log.exception("mail preparation worker failed; preparing in-process")
            prepared = [None] * len(chunk)
        yield from zip(chunk, prepared, strict=True)
