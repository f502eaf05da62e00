"""Bulk generation of the benchmark inbox: agents, mailboxes, users, tickets and messages.

Rows go in with core ``insert().executemany`` on the SQLModel tables, so every column
type (UTC datetimes, JSON lists) is the application's own; each message's search lemmas
are made as the write path makes them (``helpdesk.words``), and the search index (FTS5
triggers on SQLite, the generated tsvector on PostgreSQL) is kept by the database.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from inbox_text import FinnishMail
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from helpdesk import words as lemmas
from helpdesk.models import Agent, EtunnusUser, Mailbox, Message, Ticket, UserEmail
from helpdesk.security import hash_password

BENCH_AGENT = "bench@e-tunnus.fi"
BENCH_PASSWORD = "bench-salasana"  # a throwaway database
MAILBOXES = ("asiakaspalvelu@e-tunnus.fi", "info@e-tunnus.fi", "laskut@e-tunnus.fi")
AGENT_COUNT = 20
BATCH = 5000
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)


@dataclass
class Dataset:
    """What the generator made, for picking realistic requests afterwards."""

    tickets: int = 0
    messages: int = 0
    agent_ids: list[int] = field(default_factory=list)
    five_message_tickets: list[int] = field(default_factory=list)
    rare_words: list[str] = field(default_factory=list)
    #: E-tunnus numbers to search for, alone and as "100102%"
    etunnus_numbers: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _message_counts(n: int, mean: int, rng: Any) -> list[int]:
    """Per-ticket message counts between 1 and 2*mean-1 that add up to exactly n*mean."""
    counts: list[int] = []
    while len(counts) < n - 1:
        d = rng.randint(0, mean - 1)
        counts += [mean + d, mean - d]
    if len(counts) < n:
        counts.append(mean)
    rng.shuffle(counts)
    return counts


def _batches(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(engine: Engine, *, tickets: int, mean_messages: int = 5, seed: int = 42) -> Dataset:
    """Fill a freshly migrated database; returns what a benchmark needs to know about it."""
    started = time.perf_counter()
    words = FinnishMail(seed)
    rng = words.rng
    data = Dataset()
    users = max(50, tickets // 20)
    with engine.begin() as conn:
        password_hash = hash_password(BENCH_PASSWORD)
        agents = [
            {
                "id": i,
                "email": BENCH_AGENT if i == 1 else f"agentti{i}@e-tunnus.fi",
                "name": "Bench Agentti" if i == 1 else " ".join(words.person()),
                "role": "admin" if i == 1 else "agent",
                "active": True,
                "language": "fi",
                "signature": "",
                "password_hash": password_hash,
                "created_at": NOW - SPAN,
            }
            for i in range(1, AGENT_COUNT + 1)
        ]
        conn.execute(insert(Agent.__table__), agents)  # type: ignore[attr-defined]
        data.agent_ids = [a["id"] for a in agents]
        conn.execute(
            insert(Mailbox.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": i,
                    "address": address,
                    "display_name": "E-tunnus",
                    "signature": "",
                    "active": True,
                    "imap_security": "ssl",
                    "imap_folder": "INBOX",
                    "smtp_security": "starttls",
                    "created_at": NOW - SPAN,
                }
                for i, address in enumerate(MAILBOXES, start=1)
            ],
        )
        people: list[tuple[str, str, str]] = []  # (name, address, etunnus)
        user_rows, email_rows = [], []
        for uid in range(1, users + 1):
            first, last = words.person()
            etunnus = str(100000 + uid)
            address = f"{first}.{last}{uid}@example.fi".lower()
            people.append((f"{first} {last}", address, etunnus))
            user_rows.append(
                {
                    "id": uid,
                    "etunnus": etunnus,
                    "name": f"{first} {last}",
                    "notes": "",
                    "created_at": NOW - SPAN,
                    "updated_at": NOW - SPAN,
                }
            )
            email_rows.append({"user_id": uid, "email": address})
        conn.execute(insert(EtunnusUser.__table__), user_rows)  # type: ignore[attr-defined]
        conn.execute(insert(UserEmail.__table__), email_rows)  # type: ignore[attr-defined]
        data.etunnus_numbers = etunnus_queries([p[2] for p in people[:: max(1, users // 20)]])

    counts = _message_counts(tickets, mean_messages, rng)
    # Senders repeat: a few users write very often, most only now and then.
    weights = [1.0 / (r**0.9) for r in range(1, users + 1)]
    ticket_rows: list[dict[str, Any]] = []
    message_id = 0

    def messages() -> Iterator[dict[str, Any]]:
        nonlocal message_id
        for tid in range(1, tickets + 1):
            if rng.random() < 0.8:
                uid = rng.choices(range(1, users + 1), weights=weights)[0]
                name, address, etunnus = people[uid - 1]
                user_id: int | None = uid
            else:
                first, last = words.person()
                name, address, etunnus = f"{first} {last}", f"{first}.{last}@yritys.fi".lower(), ""
                user_id = None
            n = counts[tid - 1]
            if n == 5:
                data.five_message_tickets.append(tid)
            mailbox_id = rng.choices((1, 2, 3), weights=(6, 3, 1))[0]
            status = rng.choices(("closed", "open", "pending"), weights=(80, 12, 8))[0]
            assignee = rng.choice(data.agent_ids) if rng.random() < 0.75 else None
            subject = words.subject(etunnus or None)
            at = NOW - SPAN * (1 - (tid / tickets)) - timedelta(hours=rng.random() * 48)
            created = at
            last_in = None
            last_at = at
            rows: list[dict[str, Any]] = []
            for i in range(n):
                message_id += 1
                kind = "incoming" if i % 2 == 0 else ("note" if rng.random() < 0.15 else "outgoing")
                agent_name = "Bench Agentti"
                row: dict[str, Any] = {
                    "id": message_id,
                    "ticket_id": tid,
                    "mailbox_id": mailbox_id,
                    "kind": kind,
                    "subject": subject if i == 0 else f"Re: {subject}",
                    "to_addresses": [MAILBOXES[mailbox_id - 1]]
                    if kind == "incoming"
                    else [address],
                    "cc_addresses": [],
                    "bcc_addresses": [],
                    "message_id": f"<{uuid.UUID(int=rng.getrandbits(128))}@bench.e-tunnus.fi>",
                    "in_reply_to": None,
                    "references": [],
                    "html": None,
                    "raw_sha256": None,
                    "flags": [],
                    "sent_date": at,
                    "created_at": at,
                    "delivery_status": "sent" if kind == "outgoing" else None,
                    "delivery_error": None,
                    "author_id": None,
                }
                if kind == "incoming":
                    row |= {"from_name": name, "from_address": address}
                    row["text"] = words.incoming(name, etunnus or None)
                    last_in = at
                else:
                    row |= {"from_name": agent_name, "from_address": MAILBOXES[mailbox_id - 1]}
                    row["author_id"] = assignee or 1
                    row["text"] = (
                        words.note(etunnus or None)
                        if kind == "note"
                        else words.outgoing(name.split()[0], agent_name)
                    )
                # As the write path does (helpdesk.services.tickets.message_row).
                row["search_lemmas"] = lemmas.index_terms(
                    (row["subject"], row["from_name"], row["text"])
                )
                row["search_version"] = lemmas.version()
                rows.append(row)
                last_at = at
                at += timedelta(minutes=rng.randint(5, 3000))
            flags = ["auto_reply"] if rng.random() < 0.02 else []
            ticket_rows.append(
                {
                    "id": tid,
                    "number": 1000 + tid,
                    "subject": subject,
                    "status": status,
                    "channel": "email",
                    "customer_email": address,
                    "customer_name": name,
                    "mailbox_id": mailbox_id,
                    "user_id": user_id,
                    "assignee_id": assignee,
                    "message_count": n,
                    "flags": flags,
                    "created_at": created,
                    "updated_at": last_at,
                    "last_message_at": last_at,
                    "last_incoming_at": last_in,
                    "last_agent_reply_at": None,
                }
            )
            # The ticket row is queued before its messages, so every batch satisfies
            # the foreign key.
            yield from rows

    message_table = Message.__table__  # type: ignore[attr-defined]
    ticket_table = Ticket.__table__  # type: ignore[attr-defined]
    for batch in _batches(messages()):
        # Tickets first (foreign keys), then the messages that belong to them.
        with engine.begin() as conn:
            if ticket_rows:
                conn.execute(insert(ticket_table), ticket_rows)
                data.tickets += len(ticket_rows)
                ticket_rows.clear()
            conn.execute(insert(message_table), batch)
            data.messages += len(batch)
    with engine.begin() as conn:
        if ticket_rows:
            conn.execute(insert(ticket_table), ticket_rows)
            data.tickets += len(ticket_rows)
    after_load(engine)
    data.rare_words = rare_terms(engine, words)
    data.seconds = time.perf_counter() - started
    return data


def etunnus_queries(numbers: list[str]) -> list[str]:
    """Half as typed alone, half with the team's trailing % ("100102%")."""
    return [n + ("%" if i % 2 else "") for i, n in enumerate(numbers)]


INBOX_TABLES = ("agent", "mailbox", "etunnus_user", "user_email", "ticket", "message")


def after_load(engine: Engine, tables: tuple[str, ...] = INBOX_TABLES) -> None:
    """Sequences past the explicit ids of ``tables`` (PostgreSQL) and fresh statistics."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in tables:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
            conn.execute(text("INSERT INTO message_fts(message_fts) VALUES ('optimize')"))


def rare_terms(engine: Engine, words: FinnishMail, limit: int = 20) -> list[str]:
    """Rare search terms: the least used compounds and invoice numbers seen in the data."""
    with engine.connect() as conn:
        sample = conn.execute(
            text("SELECT text FROM message WHERE kind = 'incoming' AND id % 997 = 0 LIMIT 200")
        ).scalars()
        numbers = sorted({n for body in sample for n in re.findall(r"\b1\d{9}\b", body)})
    return words.rare_words(limit) + numbers[:limit]
