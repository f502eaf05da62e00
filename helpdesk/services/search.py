"""Full-text search of the inbox: which tickets have a message that matches the agent's words.

SQLite searches with FTS5 (``message_fts``), PostgreSQL with the ``search_vector`` column
and its GIN index. Every word the agent types must appear in one message, as one of its
words or as one of the word's lemmas among the message's words, lemmas and compound parts
(``search_lemmas``, made at write time by ``helpdesk.words``); a word the dictionary does
not know (typed halfway, a name, a code) and a compound also as the start of a word. Both
sides are folded, so ä/ö need not be typed. "pankki" finds "pankin", "pankin" finds
"pankissa".

PostgreSQL keeps statistics on the tsvector, so its planner picks by itself between
walking the inbox order (common words) and the GIN index (rare words). FTS5 gives SQLite's
planner no row estimate, so on SQLite the strategy is chosen here (``first_in_window``
and ``text_match``); the answers are the same, only the work differs.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Integer, bindparam, column, func, text
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from helpdesk import words
from helpdesk.db import is_postgres
from helpdesk.models import Message, Ticket
from helpdesk.values import MAX_SEARCH_TERMS

_PG_TOKEN = re.compile(r"[\w@.+-]+", re.UNICODE)

#: Up to this many matching messages SQLite starts from the matches and sorts their
#: tickets; above it, it walks the inbox in order and stops at the first page of hits.
FEW_MATCHES = 2000
#: SQLite: when at least one message in this many matches words typed in full (no prefix),
#: each ticket's messages are looked up in the full-text index one by one (a few
#: microseconds each, and most tickets match) instead of gathering every hit first.
DENSE_SHARE = 4
#: How many tickets from the top of the (filtered) inbox are tried first on SQLite.
WINDOW = 500
#: Hits among those that show a word is common enough to walk the inbox order for it.
DENSE = 5


def _quoted(term: str, quote: str) -> str:
    return quote + term.replace(quote, quote * 2) + quote


def fts_query_sqlite(q: str) -> str | None:
    """User words as an FTS5 query: every word must appear, as itself (a word prefix when
    ``as_prefix``) or as one of its lemmas (a word, lemma or compound part of the message)."""
    found = [words.query_word(w) for w in words.WORD.findall(q)[:MAX_SEARCH_TERMS]]
    if not found:
        return None
    groups = (
        [
            _quoted(w.prefix, '"') + ("*" if w.as_prefix else ""),
            *(_quoted(t, '"') for t in w.lemmas),
        ]
        for w in found
    )
    return " AND ".join("(" + " OR ".join(alternatives) + ")" for alternatives in groups)


def fts_query_postgres(q: str) -> str | None:
    """User words as a tsquery string: every word (or address) must appear, as itself (a
    prefix when ``as_prefix``) or one of its lemmas."""
    tokens = [t.strip(".-+") for t in _PG_TOKEN.findall(q)]
    tokens = [t.replace("\\", "") for t in tokens if t][:MAX_SEARCH_TERMS]
    if not tokens:
        return None
    parts = []
    for token in tokens:
        word = words.query_word(token)
        if not word.prefix:
            continue
        own = _quoted(word.prefix, "'") + (":*" if word.as_prefix else "")
        alternatives = [own, *(_quoted(t, "'") for t in word.lemmas)]
        parts.append("(" + " | ".join(alternatives) + ")")
    return " & ".join(parts) or None


def text_match(
    session: Session,
    q: str,
    *,
    from_message_id: int | None = None,
    in_order: bool | None = None,
) -> Any:
    """A condition on ``Ticket``: one of its messages matches ``q`` (None: no usable words).

    SQLite only: ``from_message_id`` considers messages from that id on (callers use it
    when every message of the tickets in question is that new or newer); ``in_order``
    says whether to walk the inbox order (True) or to start from the hits (False); None
    counts the hits to decide.
    """
    if is_postgres(session):
        tsq = fts_query_postgres(q)
        if tsq is None:
            return None
        # The best plan for a page of 51 walks the inbox index and stops early; a parallel
        # plan only adds worker start-up (5 ms became 30 ms for "lasku helsinki" at 500,000
        # messages). SET LOCAL ends with this transaction.
        session.connection().exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        matches = (
            text("SELECT ticket_id FROM message WHERE search_vector @@ to_tsquery('simple', :tsq)")
            .bindparams(bindparam("tsq", tsq, unique=True))
            .columns(column("ticket_id", Integer))
        )
        return col(Ticket.id).in_(matches)
    ftsq = fts_query_sqlite(q)
    if ftsq is None:
        return None
    hits = (
        text("SELECT rowid FROM message_fts WHERE message_fts MATCH :q AND rowid >= :since")
        .bindparams(
            # unique: a condition may hold two searches (an E-tunnus number and the rest)
            bindparam("q", ftsq, unique=True),
            bindparam("since", from_message_id or 0, unique=True),
        )
        .columns(column("rowid", Integer))
    )
    # Walk the inbox in its own order and stop at the first page of tickets with a hit:
    # for a common word ("lasku") this beats sorting every ticket that mentions it.
    walk = (
        select(Message.id)
        .where(col(Message.ticket_id) == col(Ticket.id), col(Message.id).in_(hits))
        .exists()
    )
    if from_message_id is not None or in_order:
        return walk
    if in_order is None:
        # Gathering the hits costs as many as there are (a common word: 400,000 at 500,000
        # messages, 40 ms each time); looking one message up costs a few microseconds for
        # words typed in full, but a prefix makes each look-up merge every word it begins.
        exact = "*" not in ftsq  # the terms themselves are \w+ words, never a "*"
        few = FEW_MATCHES + 1
        dense_at = few
        if exact:
            newest = session.connection().execute(text("SELECT max(id) FROM message"))
            dense_at = max(few, (newest.scalar_one() or 0) // DENSE_SHARE)
        probe = text(
            "SELECT count(*) FROM (SELECT rowid FROM message_fts WHERE message_fts MATCH :q "
            "LIMIT :cap)"
        )
        found = session.connection().execute(probe, {"q": ftsq, "cap": dense_at}).scalar_one()
        if exact and found >= dense_at:
            one_by_one = text(
                "EXISTS (SELECT 1 FROM message_fts WHERE message_fts MATCH :q "
                "AND message_fts.rowid = message.id)"
            ).bindparams(bindparam("q", ftsq, unique=True))
            return (
                select(Message.id)
                .where(col(Message.ticket_id) == col(Ticket.id), one_by_one)
                .exists()
            )
        if found >= few:
            return walk
    # Few hits: find their tickets, then sort just those.
    return col(Ticket.id).in_(select(Message.ticket_id).where(col(Message.id).in_(hits)))


def first_in_window(
    session: Session, query: Select[Any], match: Any, order: list[Any], n: int
) -> tuple[list[Ticket] | None, int]:
    """SQLite: the first ``n`` tickets of ``query`` that satisfy ``match(from_message_id)``,
    looking only at the top of the inbox, and how many were found there. The list is None
    when the answer may lie beyond the top.

    Common words match most tickets, so the first page is almost always among the newest
    few hundred. Their messages are recent too, so the search reads only the part of the
    full-text index from the oldest of those messages on, not every hit of the word.
    """
    size = max(WINDOW, 4 * n)
    top = query.with_only_columns(col(Ticket.id)).order_by(*order).limit(size)
    ids = list(session.execute(top).scalars())
    if not ids:
        return [], 0
    oldest = session.exec(select(func.min(Message.id)).where(col(Message.ticket_id).in_(ids))).one()
    condition = match(oldest or 0)
    if condition is None:
        return None, 0
    windowed = query.where(col(Ticket.id).in_(ids), condition).order_by(*order).limit(n)
    tickets: list[Ticket] = list(session.execute(windowed).scalars())
    if len(tickets) == n or len(ids) < size:
        return tickets, len(tickets)
    return None, len(tickets)
