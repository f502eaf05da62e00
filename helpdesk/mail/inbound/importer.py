"""``helpdesk mail import``: .eml files, mbox files and Maildir folders into a mailbox.

Imported mail goes through the same raw store, parser, filters and ingest as fetched
mail, so importing a file twice, or a mail that was fetched already, records duplicates.
"""

from __future__ import annotations

import logging
import mailbox as stdlib_mailbox
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from helpdesk.blobs import BlobStore
from helpdesk.mail.inbound.fetch import SyncCounts
from helpdesk.mail.inbound.ingest import import_raw
from helpdesk.mail.inbound.rows import Source
from helpdesk.models import Mailbox

log = logging.getLogger(__name__)

IMPORT_FOLDER = "import"
_SKIP_NAMES = {".DS_Store", "Thumbs.db"}


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new"))


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(5)
    # A mail never starts with "From " (no colon, so it is not a header): an mbox does.
    return head == b"From "


def read_sources(paths: Iterable[Path]) -> Iterator[tuple[str, bytes | None]]:
    """(label, raw bytes) for every mail under ``paths``; bytes None when unreadable."""
    for path in paths:
        if _is_maildir(path):
            box = stdlib_mailbox.Maildir(path, create=False)
            for key in sorted(box.iterkeys()):
                yield f"{path}:{key}", box.get_bytes(key)
        elif path.is_dir():
            children = sorted(p for p in path.rglob("*") if p.is_file())
            yield from read_sources(
                p for p in children if p.name not in _SKIP_NAMES and not p.name.startswith(".")
            )
        elif path.is_file() and _is_mbox(path):
            mbox = stdlib_mailbox.mbox(path, create=False)
            try:
                for key in mbox.iterkeys():
                    yield f"{path}#{key}", mbox.get_bytes(key)
            finally:
                mbox.close()
        else:
            try:
                yield str(path), path.read_bytes()
            except OSError as exc:
                log.error("cannot read %s: %s", path, exc)
                yield str(path), None


def import_paths(
    session: Session, mailbox: Mailbox, paths: Iterable[Path], *, store: BlobStore
) -> SyncCounts:
    """Import every mail under ``paths`` into ``mailbox``; one transaction per mail."""
    counts = SyncCounts()
    source = Source(mailbox=mailbox, folder=IMPORT_FOLDER)
    for label, raw in read_sources(paths):
        if raw is None:
            counts.read += 1
            counts.failed += 1
            counts.errors.append(f"{label}: unreadable")
            continue
        try:
            result = import_raw(session, raw, source=source, store=store, date_from_mail=True)
        except SQLAlchemyError as exc:
            log.error("%s: database error: %s", label, exc)
            counts.read += 1
            counts.failed += 1
            counts.errors.append(f"{label}: {exc}")
            continue
        counts.add(result)
    return counts
