"""A group of mails written in a handful of statements instead of about ten per mail.

``write_group`` decides for every mail of a group, in order: a server copy seen before,
a duplicate, our own mail, a new ticket or a message in an existing one (threading
order: In-Reply-To/References, and a bounce's original Message-ID, against stored
Message-IDs, ours and theirs; then a ``[#1042]`` subject tag, trusted only when the
sender already takes part in that ticket; else a new ticket). It asks the group's
``BatchLookup`` and remembers each planned message there under a temporary negative id,
so that deduplication and threading inside the group come out exactly as mail by mail.
Then it writes the plan: new tickets (a multi-row INSERT ... RETURNING, their numbers in
one UPDATE), messages (INSERT ... RETURNING), attachments, inbound records, the counters
of existing tickets it touched (one executemany UPDATE), reopen audits, and the links
(``services.linking.link_new_messages``).

A subject tag (``[#1042]``) is the one question the plan cannot answer in memory (the
tag may name a ticket this group is creating, and the sender must take part in it), so
the plan made so far is written first and the tag is resolved against the database.

``helpdesk_message_stored``: when a plugin implements it, the written messages and their
tickets are loaded as ORM objects (two queries) and the hook is called once per message,
in order, in the same transaction. The ticket it is shown already carries the counters
of the whole group.

``ingest`` runs ``write_group`` in a savepoint and, if it fails, runs it again for each
mail alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from helpdesk.blobs import BlobStore
from helpdesk.limits import storable_or_none
from helpdesk.mail.inbound.dedupe import is_our_message
from helpdesk.mail.inbound.lookup import BatchLookup, StoredMessage
from helpdesk.mail.inbound.rows import (
    STATE,
    UPDATED,
    Arrival,
    Entry,
    IngestResult,
    Source,
    TicketPlan,
    TicketState,
    attachment_row,
    count,
    message_row,
    new_ticket_row,
)
from helpdesk.mail.inbound.thread import (
    AUTOMATIC,
    candidates,
    message_flags,
    thread_by_tag,
    ticket_flags,
    ticket_tag,
)
from helpdesk.models import (
    TICKET_NUMBER_OFFSET,
    Attachment,
    InboundMail,
    InboundOutcome,
    Message,
    Ticket,
    utcnow,
)
from helpdesk.plugins import hook
from helpdesk.services import audit, notifications
from helpdesk.services.link_evidence import NewMessage
from helpdesk.services.linking import link_new_messages
from helpdesk.services.merging import merged_into

TICKETS = Ticket.__table__  # type: ignore[attr-defined]
MESSAGES = Message.__table__  # type: ignore[attr-defined]
ATTACHMENTS = Attachment.__table__  # type: ignore[attr-defined]
INBOUND = InboundMail.__table__  # type: ignore[attr-defined]
#: The columns of an existing ticket that storing messages changes.
_UPDATED = tuple(n for n in STATE if n not in ("user_id", "customer_email", "created_at"))


def insert_ids(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows with one multi-row INSERT ... RETURNING; their ids in row order."""
    if conn.dialect.name != "sqlite":
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(conn.execute(stmt, rows).scalars())
    # SQLAlchemy can only keep RETURNING in parameter order on SQLite by sending one row
    # per statement. It need not: SQLite gives each new row of a rowid table the largest
    # rowid so far plus one, and inserts multi-row VALUES in order, so the ids ascend in
    # row order (one writer at a time; we hold the write lock).
    ids = sorted(conn.execute(insert(table).returning(table.c.id), rows).scalars())
    if len(ids) != len(rows) or ids[-1] - ids[0] != len(rows) - 1:
        raise RuntimeError(f"{table.name}: ids not consecutive; cannot match them to rows")
    return ids


class GroupWriter:
    """Plans a group mail by mail, then writes the plan (see the module docstring)."""

    def __init__(
        self,
        session: Session,
        lookup: BatchLookup,
        source: Source,
        store: BlobStore,
        *,
        hooks: bool = True,
    ) -> None:
        self.session, self.lookup, self.source, self.store = session, lookup, source, store
        self.hooks = hooks  # False: no plugin hook, no linking (the guard's fallback)
        self._next = 0
        self.message_ids: dict[int, int] = {}  # temporary ref -> id, once written
        self.ticket_ids: dict[int, int] = {}
        self.ticket_of: dict[int, int] = {}  # message id -> ticket id, for what we wrote
        self.entries: list[Entry] = []  # planned, not yet written
        self.tickets: dict[int, TicketPlan] = {}
        self.done: list[Entry] = []
        self._merged: dict[int, int] = {}  # ticket id -> where it was merged (or itself)

    def _ref(self) -> int:
        self._next -= 1
        return self._next

    def _ticket(self, ref: int) -> int:
        return self.ticket_ids.get(ref, ref)

    def _unmerged(self, ticket_id: int) -> int:
        """A stored ticket, or the one it was merged into (its messages moved there; this
        catches a merge that committed after the group's lookup read them)."""
        if ticket_id <= 0:
            return ticket_id
        if ticket_id not in self._merged:
            self._merged.update(merged_into(self.session, [ticket_id]))
            self._merged.setdefault(ticket_id, ticket_id)
        return self._merged[ticket_id]

    def _message(self, ref: int) -> int:
        return self.message_ids.get(ref, ref)

    def plan(self, arrival: Arrival) -> None:
        """Decide what this mail becomes (nothing written yet)."""
        uid, prepared, lookup = arrival.uid, arrival.prepared, self.lookup
        mail, sha = prepared.mail, prepared.content_sha
        entry = Entry(uid=uid, mail=mail, content_sha=sha)
        if lookup.known_copy(uid):
            self.entries.append(entry)
            return
        duplicate_of = lookup.duplicate(mail, sha)
        stored = lookup.stored_with_message_id(mail.message_id)
        if duplicate_of is not None:
            entry.outcome, entry.message_ref = InboundOutcome.duplicate, duplicate_of
        elif stored is not None and is_our_message(mail):
            entry.outcome, entry.message_ref = InboundOutcome.ours, stored.id
        if entry.outcome is not None:
            self.entries.append(entry)
            lookup.remember(
                uid=uid, mail=mail, content_sha=sha, message_id=entry.message_ref, stored=None
            )
            return
        flags = message_flags(mail)
        if stored is not None:
            flags.add("duplicate_message_id")
        entry.automatic = bool(flags & AUTOMATIC)
        outgoing = self.source.outgoing
        ticket_ref: int | None = None
        wanted = candidates(mail)
        if wanted:
            found = lookup.thread_ticket_id(wanted)
            if found is not None:
                ticket_ref = self._ticket(self._unmerged(found))
        if ticket_ref is None and ticket_tag(mail) is not None:
            self.write()  # the tag may name a ticket planned above: ask the database
            tagged = thread_by_tag(self.session, mail, outgoing=outgoing)
            if tagged is not None and tagged.id is not None:
                ticket_ref = tagged.id
        now = arrival.received_at or utcnow()
        entry.threaded = ticket_ref is not None
        entry.new_ticket = not entry.threaded
        entry.counts_as_activity = not (entry.threaded and entry.automatic)
        entry.may_reopen = entry.threaded and not outgoing and not entry.automatic
        entry.blocked = not outgoing and lookup.is_blocked(mail.from_address)
        if ticket_ref is None:
            ticket_ref = self._ref()
            row = new_ticket_row(mail, self.source, now)
            self.tickets[ticket_ref] = TicketPlan(ticket_ref, row)
        self.tickets.setdefault(ticket_ref, TicketPlan(ticket_ref, None)).entries.append(entry)
        entry.ticket_ref = ticket_ref
        entry.row = message_row(mail, self.source, flags, now)
        entry.message_ref = self._ref()
        entry.outcome = InboundOutcome.unparsed if mail.unparsed else InboundOutcome.imported
        self.entries.append(entry)
        stored_now = StoredMessage(
            entry.message_ref,
            ticket_ref,
            entry.row["message_id"],
            mail.raw_sha256,
            entry.row["kind"],
        )
        lookup.remember(
            uid=uid, mail=mail, content_sha=sha, message_id=entry.message_ref, stored=stored_now
        )

    def write(self) -> None:
        """Write what has been planned (flushes; the caller commits)."""
        entries, plans = self.entries, self.tickets
        self.entries, self.tickets = [], {}
        self.done += entries
        if not any(e.outcome is not None for e in entries):
            return
        self.session.flush()
        conn = self.session.connection()
        existing = [ref for ref in plans if ref > 0]
        states: dict[int, TicketState] = {}
        stored_rows: dict[int, list[tuple[str, list[str] | None]]] = {r: [] for r in existing}
        if existing:
            query = select(TICKETS.c.id, *(TICKETS.c[n] for n in STATE))
            for row in conn.execute(query.where(TICKETS.c.id.in_(existing))):
                states[row.id] = TicketState.of(row._mapping)
            query = select(MESSAGES.c.ticket_id, MESSAGES.c.kind, MESSAGES.c.flags)
            for tid, kind, flags in conn.execute(query.where(MESSAGES.c.ticket_id.in_(existing))):
                stored_rows[tid].append((str(kind), flags))
        planned: dict[int, TicketState] = {}
        for plan in plans.values():
            state = states[plan.ref] if plan.row is None else TicketState.of(plan.row)
            for entry in plan.entries:
                count(state, entry)
            rows = stored_rows.get(plan.ref, []) + [
                (e.row["kind"], e.row["flags"]) for e in plan.entries if e.row is not None
            ]
            state.flags = ticket_flags(state.flags, rows)
            if plan.row is not None:
                plan.row.update(asdict(state))
                planned[plan.ref] = state
        new = [p for p in plans.values() if p.row is not None]
        if new:
            ids = insert_ids(conn, TICKETS, [p.row for p in new if p.row is not None])
            self.ticket_ids.update((p.ref, i) for p, i in zip(new, ids, strict=True))
            states.update((i, planned[p.ref]) for p, i in zip(new, ids, strict=True))
            conn.execute(
                update(TICKETS)
                .where(TICKETS.c.id.in_(ids))
                .values(number=TICKETS.c.id + TICKET_NUMBER_OFFSET)
            )
        added = [e for e in entries if e.row is not None]
        if added:
            rows = []
            for entry in added:
                assert entry.row is not None and entry.ticket_ref is not None
                entry.row["ticket_id"] = self._ticket(entry.ticket_ref)
                rows.append(entry.row)
            ids = insert_ids(conn, MESSAGES, rows)
            for entry, mid in zip(added, ids, strict=True):
                assert entry.row is not None and entry.message_ref is not None
                self.message_ids[entry.message_ref] = mid
                self.ticket_of[mid] = entry.row["ticket_id"]
            self._attachments(conn, added)
        if existing:
            stmt = (
                update(TICKETS)
                .where(TICKETS.c.id == bindparam("b_id"))
                .values({n: bindparam(f"b_{n}") for n in UPDATED})
            )
            params = [
                {"b_id": r} | {f"b_{n}": getattr(states[r], n) for n in UPDATED} for r in existing
            ]
            conn.execute(stmt, params)
            for ref in existing:  # ORM copies loaded earlier are stale now
                obj = self.session.identity_map.get(self.session.identity_key(Ticket, ref))
                if obj is not None:
                    self.session.expire(obj)
        self._inbound(conn, entries)
        self._after(added, states)

    def _attachments(self, conn: Connection, added: list[Entry]) -> None:
        rows = []
        for entry in added:
            message_id = self._message(entry.message_ref or 0)
            for att in entry.mail.attachments:
                if att.data is not None:
                    self.store.put(att.data)
                rows.append(attachment_row(message_id, att))
        if rows:
            conn.execute(insert(ATTACHMENTS), rows)

    def _inbound(self, conn: Connection, entries: list[Entry]) -> None:
        source, now = self.source, utcnow()
        rows = [
            {
                "mailbox_id": source.mailbox.id,
                "folder": source.folder,
                "uidvalidity": source.uidvalidity,
                "uid": e.uid,
                "raw_sha256": e.mail.raw_sha256,
                "content_sha256": e.content_sha,
                "size": e.mail.size,
                "header_message_id": storable_or_none(
                    e.mail.message_id, "inbound_mail.header_message_id"
                ),
                "message_id": None if e.message_ref is None else self._message(e.message_ref),
                "outcome": str(e.outcome),
                "fetched_at": now,
            }
            for e in entries
            if e.outcome is not None
        ]
        if rows:
            conn.execute(insert(INBOUND), rows)

    def _after(self, added: list[Entry], tickets: dict[int, TicketState]) -> None:
        """Reopen audits, the plugins' hook and linking, in mail order."""
        session = self.session
        ids = [self._message(e.message_ref or 0) for e in added]
        for entry, mid in zip(added, ids, strict=True):
            if entry.reopened:
                audit.record(
                    session,
                    action="ticket.reopen",
                    object_type="ticket",
                    object_id=self.ticket_of[mid],
                    old=entry.old_status,
                    message_id=mid,
                )
        if not self.hooks:
            return
        notifications.on_incoming(
            session,
            [
                mid
                for entry, mid in zip(added, ids, strict=True)
                if entry.threaded and entry.counts_as_activity and not self.source.outgoing
            ],
        )
        if added and hook().helpdesk_message_stored.get_hookimpls():
            by_id = {
                m.id: m for m in session.exec(orm_select(Message).where(col(Message.id).in_(ids)))
            }
            wanted = {self.ticket_of[mid] for mid in ids}
            loaded = {
                t.id: t for t in session.exec(orm_select(Ticket).where(col(Ticket.id).in_(wanted)))
            }
            for mid in ids:
                message = by_id[mid]
                hook().helpdesk_message_stored(
                    session=session, ticket=loaded[message.ticket_id], message=message
                )
        link_new_messages(
            session,
            [
                NewMessage(
                    ticket_id=self.ticket_of[mid],
                    kind=e.row["kind"],
                    subject=e.row["subject"],
                    text=e.row["text"],
                    from_address=e.row["from_address"],
                    customer_email=tickets[self.ticket_of[mid]].customer_email,
                    ticket_user_id=tickets[self.ticket_of[mid]].user_id,
                )
                for e, mid in zip(added, ids, strict=True)
                if e.row is not None
            ],
        )

    def results(self) -> list[tuple[int | None, IngestResult]]:
        """(uid, result) of every mail planned, in order; call after the last ``write``."""
        others = {
            self._message(e.message_ref)
            for e in self.done
            if e.outcome is not None and e.message_ref is not None
        } - set(self.ticket_of)
        if others:
            query = select(MESSAGES.c.id, MESSAGES.c.ticket_id).where(MESSAGES.c.id.in_(others))
            self.ticket_of.update(
                (mid, tid) for mid, tid in self.session.connection().execute(query)
            )
        out = []
        for e in self.done:
            if e.outcome is None:
                out.append((e.uid, IngestResult(outcome=None)))
                continue
            mid = None if e.message_ref is None else self._message(e.message_ref)
            result = IngestResult(
                outcome=e.outcome,
                message_id=mid,
                ticket_id=self.ticket_of.get(mid) if mid is not None else None,
                new_ticket=e.new_ticket,
                threaded=e.threaded,
                automatic=e.automatic,
                reopened=e.reopened,
            )
            out.append((e.uid, result))
        return out


def write_group(
    session: Session,
    arrivals: Sequence[Arrival],
    *,
    source: Source,
    store: BlobStore,
    lookup: BatchLookup,
    hooks: bool = True,
) -> list[tuple[int | None, IngestResult]]:
    """Plan and write a group of mails; (uid, result) of each in order. Flushes, no commit.

    ``hooks=False`` leaves out the plugins' hook and linking (``ingest``'s fallback)."""
    writer = GroupWriter(session, lookup, source, store, hooks=hooks)
    for arrival in arrivals:
        writer.plan(arrival)
    writer.write()
    return writer.results()
