"""One fetch group (up to 50 mails, one transaction): lookups once, then the writes.

The group is written by ``batch.write_group`` in a savepoint. When that fails (another
fetcher recorded a copy first, a plugin raised, the database refused a row), the
savepoint is rolled back and the group is imported again mail by mail through
``ingest`` with a savepoint each, exactly as before batching: a copy another fetcher
won is skipped, any other error propagates and the caller rolls the group back.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from helpdesk.blobs import BlobStore
from helpdesk.mail.inbound.batch import write_group
from helpdesk.mail.inbound.ingest import IngestResult, Source, ingest
from helpdesk.mail.inbound.lookup import BatchLookup
from helpdesk.mail.inbound.prepare import Prepared
from helpdesk.models import Mailbox

log = logging.getLogger(__name__)


def ingest_group(
    session: Session,
    items: list[tuple[int, Prepared]],
    *,
    mailbox: Mailbox,
    folder: str,
    uidvalidity: int,
    store: BlobStore,
) -> list[tuple[int, IngestResult]]:
    """Import a group of fetched mails (uid, prepared) in order; flushes, the caller commits.

    Returns (uid, result) for every mail in the transaction (a copy another fetcher
    recorded first is left out)."""
    if not items:
        return []
    source = Source(mailbox=mailbox, folder=folder, uidvalidity=uidvalidity)

    def lookup() -> BatchLookup:
        return BatchLookup.load(
            session,
            mailbox_id=mailbox.id or 0,
            folder=folder,
            uidvalidity=uidvalidity,
            uids=[uid for uid, _ in items],
            mails=[p.mail for _, p in items],
        )

    first = lookup()
    try:
        with session.begin_nested():
            return write_group(session, items, source=source, store=store, lookup=first)
    except Exception:
        log.warning(
            "%s %s: writing a group of %d failed; importing it mail by mail",
            mailbox.address,
            folder,
            len(items),
            exc_info=True,
        )
    return ingest_one_by_one(session, items, source=source, store=store, lookup=lookup())


def ingest_one_by_one(
    session: Session,
    items: list[tuple[int, Prepared]],
    *,
    source: Source,
    store: BlobStore,
    lookup: BatchLookup,
) -> list[tuple[int, IngestResult]]:
    """The group through ``ingest``, a savepoint per mail (the fallback)."""
    done: list[tuple[int, IngestResult]] = []
    for uid, prepared in items:
        copy = Source(
            mailbox=source.mailbox, folder=source.folder, uidvalidity=source.uidvalidity, uid=uid
        )
        try:
            result = ingest(
                session,
                prepared.mail,
                source=copy,
                content_sha=prepared.content_sha,
                store=store,
                commit=False,
                lookup=lookup,
            )
        except IntegrityError:
            # Another fetcher recorded this copy first: it is theirs, skip it.
            log.warning(
                "%s %s uid %s: imported elsewhere", source.mailbox.address, source.folder, uid
            )
            continue
        done.append((uid, result))
    return done
