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
each mail alone, a savepoint each: a copy another fetcher won is skipped, and a mail
that fails again is written without the plugins' hook and linking, else with nothing but
its raw source, flagged "could not be read fully" (``_write_one``). So one mail never
stops the others, and the folder's ``last_uid`` moves past it: the worker does not loop
on it. A database error that passes (``transient``: deadlock, lost connection, a busy
SQLite) and an error that even the bare write meets propagate instead: the caller rolls
the group back and the fetch is tried again later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, select

from helpdesk.blobs import BlobStore
from helpdesk.db import transaction
from helpdesk.mail.inbound.lookup import BatchLookup
from helpdesk.mail.inbound.prepare import Prepared, prepare, unreadable
from helpdesk.mail.inbound.rows import Arrival, IngestResult, Source
from helpdesk.mail.inbound.writer import write_group
from helpdesk.mail.parsing.parsed import ParsedMail
from helpdesk.models import InboundMail, utcnow

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
            session.expire_all()  # rows loaded inside the undone savepoint may be gone
            log.warning(
                "%s %s: writing a group of %d failed; writing it mail by mail",
                source.mailbox.address,
                source.folder,
                len(arrivals),
                exc_info=True,
            )
    done: list[tuple[int | None, IngestResult]] = []
    for arrival in arrivals:
        done += _write_one(session, arrival, source=source, store=store)
    return done


def _write_one(
    session: Session, arrival: Arrival, *, source: Source, store: BlobStore
) -> list[tuple[int | None, IngestResult]]:
    """One mail in its own savepoint, guarded: a mail that fails any stage (lookup,
    threading, the write, the plugins' hook, linking) is written again without the hook
    and linking, then as an unreadable mail with only its raw source; each is flagged
    ``unparsed`` ("could not be read fully") and the error logged with the mailbox and
    UID. Only when even that fails (the database, not the mail) does the error propagate.
    """
    where = f"{source.mailbox.address} {source.folder} uid {arrival.uid}"
    mail = arrival.prepared.mail
    attempts = [
        (arrival, True),
        (replace(arrival, prepared=replace(arrival.prepared, mail=_flagged(mail))), False),
        (replace(arrival, prepared=_unreadable(arrival.prepared)), False),
    ]
    for i, (attempt, hooks) in enumerate(attempts):
        try:
            with session.begin_nested():
                return _write(session, [attempt], source=source, store=store, hooks=hooks)
        except Exception as exc:
            session.expire_all()  # rows loaded inside the undone savepoint may be gone
            if transient(exc):
                raise  # the database's trouble, not the mail's: the fetch tries again later
            if arrival.uid is not None and _recorded(session, source, arrival.uid):
                # Another fetcher recorded this copy first: it is theirs, skip it.
                log.warning("%s: imported elsewhere", where)
                return []
            if i == len(attempts) - 1:
                raise
            log.exception("%s (raw %s): storing the mail failed", where, mail.raw_sha256)
            note = f"ingest: {exc!r}"[:1000]
            for later, _ in attempts[i + 1 :]:
                later.prepared.mail.unparsed = True
                later.prepared.mail.parse_errors.append(note)
    raise AssertionError("unreachable")  # the last attempt returns or raises


#: SQLSTATE classes of errors that pass: connection (08), deadlock and serialization (40),
#: insufficient resources (53), operator intervention (57), system errors (58).
_TRANSIENT_CLASSES = frozenset({"08", "40", "53", "57", "58"})


def transient(exc: BaseException) -> bool:
    """Is ``exc`` a database error worth trying again (not a fault of the mail)?

    A value PostgreSQL refuses (too long, NUL, an index entry too large: classes 22, 23,
    54) is the mail's; a deadlock, a lost connection or SQLite's busy lock is not.
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if isinstance(state, str):
        return state[:2] in _TRANSIENT_CLASSES
    return isinstance(exc, OperationalError) and "locked" in str(exc)


def _flagged(mail: ParsedMail) -> ParsedMail:
    """A copy of ``mail`` to write again (annotations kept, lists fresh)."""
    return replace(mail, parse_errors=list(mail.parse_errors), flags=set(mail.flags))


def _unreadable(prepared: Prepared) -> Prepared:
    mail = prepared.mail
    return Prepared(unreadable(mail.raw_sha256, mail.size, ""), prepared.content_sha)


def _recorded(session: Session, source: Source, uid: int) -> bool:
    """Is this server copy recorded (by another fetcher) once our savepoint is undone?"""
    found = session.exec(
        select(InboundMail.id).where(
            InboundMail.mailbox_id == source.mailbox.id,
            InboundMail.folder == source.folder,
            InboundMail.uidvalidity == source.uidvalidity,
            InboundMail.uid == uid,
        )
    ).first()
    return found is not None


def _write(
    session: Session,
    arrivals: Sequence[Arrival],
    *,
    source: Source,
    store: BlobStore,
    hooks: bool = True,
) -> list[tuple[int | None, IngestResult]]:
    lookup = BatchLookup.load(
        session,
        mailbox_id=source.mailbox.id or 0,
        folder=source.folder,
        uidvalidity=source.uidvalidity,
        uids=[a.uid for a in arrivals if a.uid is not None],
        mails=[a.prepared.mail for a in arrivals],
    )
    return write_group(session, arrivals, source=source, store=store, lookup=lookup, hooks=hooks)


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
