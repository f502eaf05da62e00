"""The one write path of mail in: prepared mails become ticket, message and attachment rows.

Fetched mail comes in groups of up to 50 (one transaction each); an imported file is a
group of one. ``ingest`` reads the group's lookups once
(``BatchLookup``: duplicates, our own mail, threading; on PostgreSQL it also takes the
import locks of the group's Message-IDs, so two mailboxes receiving the same mail at the
same moment still make one ticket) and writes the group with ``writer.write_group`` in a
savepoint. The record of each server copy (``inbound_mail``) is written with it, so a
crash leaves either everything or nothing. ``ingest`` is a step: it runs inside the
caller's unit of work (``db.transaction``), which commits.

When the group fails (another fetcher recorded a copy first, a plugin raised, the
database refused a row), its savepoint is rolled back and the same path runs again for
each mail alone, a savepoint each: a copy another fetcher won is skipped, any other
error propagates and the caller rolls the group back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from helpdesk.blobs import BlobStore
from helpdesk.db import transaction
from helpdesk.mail.inbound.lookup import BatchLookup
from helpdesk.mail.inbound.prepare import prepare
from helpdesk.mail.inbound.rows import Arrival, IngestResult, Source
from helpdesk.mail.inbound.writer import write_group
from helpdesk.models import utcnow

log = logging.getLogger(__name__)


def ingest(
    session: Session, arrivals: Sequence[Arrival], *, source: Source, store: BlobStore
) -> list[tuple[int | None, IngestResult]]:
    """Ingest a group of mails in order, inside the caller's unit of work (flushes only).

    Returns (uid, result) for every mail in the transaction (a copy another fetcher
    recorded first is left out)."""
    if len(arrivals) > 1:
        try:
            with session.begin_nested():
                return _write(session, arrivals, source=source, store=store)
        except Exception:
            log.warning(
                "%s %s: writing a group of %d failed; writing it mail by mail",
                source.mailbox.address,
                source.folder,
                len(arrivals),
                exc_info=True,
            )
    done: list[tuple[int | None, IngestResult]] = []
    for arrival in arrivals:
        try:
            with session.begin_nested():
                done += _write(session, [arrival], source=source, store=store)
        except IntegrityError:
            if arrival.uid is None:
                raise
            # Another fetcher recorded this copy first: it is theirs, skip it.
            log.warning(
                "%s %s uid %s: imported elsewhere",
                source.mailbox.address,
                source.folder,
                arrival.uid,
            )
    return done


def _write(
    session: Session, arrivals: Sequence[Arrival], *, source: Source, store: BlobStore
) -> list[tuple[int | None, IngestResult]]:
    lookup = BatchLookup.load(
        session,
        mailbox_id=source.mailbox.id or 0,
        folder=source.folder,
        uidvalidity=source.uidvalidity,
        uids=[a.uid for a in arrivals if a.uid is not None],
        mails=[a.prepared.mail for a in arrivals],
    )
    return write_group(session, arrivals, source=source, store=store, lookup=lookup)


def import_raw(
    session: Session,
    raw: bytes,
    *,
    source: Source,
    store: BlobStore,
    uid: int | None = None,
    date_from_mail: bool = False,
) -> IngestResult:
    """Store the bytes, parse and filter one mail, then ingest it in a unit of work.

    ``date_from_mail`` files the mail at its Date header (imports of old mail) unless that
    lies in the future; otherwise it is filed now. Database errors propagate after a
    rollback; the caller decides whether to retry.
    """
    prepared = prepare(raw, store)
    date = prepared.mail.date
    received_at = date if date_from_mail and date is not None and date <= utcnow() else None
    with transaction(session):
        done = ingest(session, [Arrival(uid, prepared, received_at)], source=source, store=store)
    return done[0][1] if done else IngestResult(outcome=None)
