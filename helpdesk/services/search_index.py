"""Filling the search lemmas of messages written before them (``helpdesk search reindex``).

New messages get their lemmas when they are written (``tickets.message_row``). Messages
from before revision 0017, or whose lemmas another lemmatiser made (Snowball while Voikko
was missing), are redone here in batches, one short unit of work each: the texts are read
and lemmatised outside the write lock, then written with a guard, so a message written
again meanwhile (reprocessed) keeps its newer lemmas. Work done stays done: run it again
after a stop and it goes on with the messages left.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, bindparam, or_, update
from sqlmodel import Session, col, func, select

from helpdesk import words
from helpdesk.db import end_read, transaction
from helpdesk.models import Message

BATCH = 500


def _stale(version: int) -> ColumnElement[bool]:
    return or_(col(Message.search_version).is_(None), col(Message.search_version) != version)


def pending(session: Session) -> int:
    """How many messages lack lemmas of the lemmatiser in use."""
    query = select(func.count()).select_from(Message).where(_stale(words.version()))
    return int(session.exec(query).one())


@dataclass
class Batch:
    """One batch done: how many messages were indexed, and the last id looked at."""

    indexed: int
    last_id: int | None


def reindex_batch(session: Session, *, after_id: int = 0, size: int = BATCH) -> Batch:
    """Index up to ``size`` messages with an id above ``after_id`` (one unit of work)."""
    version = words.version()
    rows = session.exec(
        select(Message.id, Message.subject, Message.from_name, Message.text)
        .where(col(Message.id) > after_id, _stale(version))
        .order_by(col(Message.id))
        .limit(size)
    ).all()
    end_read(session)
    if not rows:
        return Batch(0, None)
    values = [
        {"mid": mid, "lemmas": words.index_terms((subject, from_name, text))}
        for mid, subject, from_name, text in rows
    ]
    statement = (
        update(Message)
        .where(col(Message.id) == bindparam("mid"), _stale(version))
        .values(search_lemmas=bindparam("lemmas"), search_version=version)
    )
    with transaction(session):
        session.connection().execute(statement, values)
    return Batch(len(rows), rows[-1][0])
