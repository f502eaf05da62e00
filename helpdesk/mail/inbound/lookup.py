"""The per-mail questions of ``ingest`` answered for a whole batch with a few IN queries.

A fetch batch (up to 50 mails, one transaction) asks, for every mail: was this server
copy recorded, is it a duplicate (``dedupe`` rules 2 and 3), is its Message-ID stored
already, and which stored message does it reply to. Asked one by one that is five or
six round trips per mail; ``BatchLookup.load`` asks them once for the batch, and
``remember`` adds each mail the batch stores, so a later mail of the same batch sees an
earlier one exactly as separate queries would have.

The answers stay true until the commit because nothing else can import the same mail
meanwhile: on PostgreSQL the batch takes the advisory locks of all its Message-IDs
(sorted, so two fetchers never deadlock) before it reads; SQLite has one writer, and a
batch that read before another writer committed fails at its first write and is retried.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import Session, col, select

from helpdesk.db import is_postgres
from helpdesk.mail.inbound.thread import candidates
from helpdesk.mail.parsing.parsed import ParsedMail
from helpdesk.models import InboundMail, Message
from helpdesk.services import spam

#: Advisory-lock namespace of mail imports ("INML").
IMPORT_LOCK_CLASS = 0x494E4D4C
_IN_CHUNK = 500


@dataclass(frozen=True)
class StoredMessage:
    """The columns of a stored ``Message`` the lookups need."""

    id: int
    ticket_id: int
    message_id: str | None
    raw_sha256: str | None
    kind: str


@dataclass
class _Inbound:
    raw_sha256: str
    content_sha256: str
    message_id: int


def _chunks(values: Iterable[str]) -> list[list[str]]:
    items = sorted(set(values))
    return [items[i : i + _IN_CHUNK] for i in range(0, len(items), _IN_CHUNK)]


def lock_keys(session: Session, keys: Sequence[str]) -> None:
    """Take the import advisory locks of ``keys`` in one fixed order (PostgreSQL only)."""
    if not keys or not is_postgres(session):
        return
    conn = session.connection()
    hashes = conn.execute(
        text("SELECT DISTINCT hashtext(k) FROM unnest(CAST(:keys AS text[])) AS k"),
        {"keys": list(set(keys))},
    ).scalars()
    conn.execute(
        text("SELECT count(pg_advisory_xact_lock(:cls, h)) FROM unnest(CAST(:h AS integer[])) h"),
        {"cls": IMPORT_LOCK_CLASS, "h": sorted(hashes)},
    )


@dataclass
class BatchLookup:
    """Prefetched answers for one batch of mails from one (mailbox, folder, uidvalidity)."""

    known_uids: set[int] = field(default_factory=set)
    inbound_by_msgid: dict[str, list[_Inbound]] = field(default_factory=dict)
    inbound_by_raw: dict[str, list[int]] = field(default_factory=dict)
    messages_by_msgid: dict[str, list[StoredMessage]] = field(default_factory=dict)
    messages_by_raw: dict[str, list[int]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)  # senders whose mail goes to Spam

    @classmethod
    def load(
        cls,
        session: Session,
        *,
        mailbox_id: int,
        folder: str,
        uidvalidity: int | None,
        uids: Sequence[int],
        mails: Sequence[ParsedMail],
    ) -> BatchLookup:
        """Lock the batch's Message-IDs (PostgreSQL), then read everything it will ask."""
        lock_keys(session, [m.message_id or m.raw_sha256 for m in mails])
        found = cls()
        for part in _chunks(str(u) for u in uids):
            uid_rows = session.exec(
                select(InboundMail.uid).where(
                    InboundMail.mailbox_id == mailbox_id,
                    InboundMail.folder == folder,
                    InboundMail.uidvalidity == uidvalidity,
                    col(InboundMail.uid).in_([int(u) for u in part]),
                )
            )
            found.known_uids.update(u for u in uid_rows if u is not None)
        msgids = {m.message_id for m in mails if m.message_id}
        bare_raw = {m.raw_sha256 for m in mails if not m.message_id}
        wanted = set(msgids)
        for mail in mails:
            wanted.update(candidates(mail))
        inbound = select(
            InboundMail.header_message_id,
            InboundMail.raw_sha256,
            InboundMail.content_sha256,
            InboundMail.message_id,
        ).where(col(InboundMail.message_id).is_not(None))
        for part in _chunks(msgids):
            rows = session.exec(
                inbound.where(col(InboundMail.header_message_id).in_(part)).order_by(
                    col(InboundMail.id)
                )
            )
            for hmid, raw, content, mid in rows:
                found.inbound_by_msgid.setdefault(hmid or "", []).append(
                    _Inbound(raw, content, mid or 0)
                )
        for part in _chunks(bare_raw):
            rows = session.exec(
                inbound.where(col(InboundMail.raw_sha256).in_(part)).order_by(col(InboundMail.id))
            )
            for _hmid, raw, _content, mid in rows:
                found.inbound_by_raw.setdefault(raw, []).append(mid or 0)
        table = Message.__table__.c  # type: ignore[attr-defined]
        columns = (table.id, table.ticket_id, table.message_id, table.raw_sha256, table.kind)
        for part in _chunks(wanted):
            query = sa_select(*columns).where(table.message_id.in_(part)).order_by(table.id)
            for row in session.connection().execute(query):
                found._add_message(StoredMessage(row[0], row[1], row[2], row[3], str(row[4])))
        for part in _chunks(bare_raw):
            for mid, sha in session.exec(
                select(Message.id, Message.raw_sha256)
                .where(col(Message.raw_sha256).in_(part))
                .order_by(col(Message.id))
            ):
                found.messages_by_raw.setdefault(sha or "", []).append(mid or 0)
        found.blocked = spam.blocked_among(session, (m.from_address for m in mails))
        return found

    def _add_message(self, message: StoredMessage) -> None:
        if message.message_id:
            self.messages_by_msgid.setdefault(message.message_id, []).append(message)
        if message.raw_sha256:
            self.messages_by_raw.setdefault(message.raw_sha256, []).append(message.id)

    # the questions ------------------------------------------------------------------

    def is_blocked(self, address: str | None) -> bool:
        return bool(address) and (address or "").lower() in self.blocked

    def known_copy(self, uid: int | None) -> bool:
        return uid is not None and uid in self.known_uids

    def duplicate(self, mail: ParsedMail, content_sha: str) -> int | None:
        """The stored message this mail duplicates (``dedupe`` rules 2 and 3), or None."""
        if mail.message_id:
            for row in self.inbound_by_msgid.get(mail.message_id, []):
                if row.raw_sha256 == mail.raw_sha256 or row.content_sha256 == content_sha:
                    return row.message_id
            for msg in self.messages_by_msgid.get(mail.message_id, []):
                if msg.raw_sha256 == mail.raw_sha256:
                    return msg.id
            return None
        for mid in self.inbound_by_raw.get(mail.raw_sha256, []):
            return mid
        for mid in self.messages_by_raw.get(mail.raw_sha256, []):
            return mid
        return None

    def stored_with_message_id(self, message_id: str | None) -> StoredMessage | None:
        """A stored message with this Message-ID: outgoing first (what we sent), then the oldest."""
        rows = self.messages_by_msgid.get(message_id or "", [])[:20]
        return min(rows, key=lambda m: (m.kind != "outgoing", m.id)) if rows else None

    def thread_ticket_id(self, candidates: Sequence[str]) -> int | None:
        """The ticket of the first candidate Message-ID that is stored."""
        for candidate in candidates:
            rows = self.messages_by_msgid.get(candidate)
            if rows:
                return rows[-1].ticket_id
        return None

    # what the batch stored ----------------------------------------------------------

    def remember(
        self,
        *,
        uid: int | None,
        mail: ParsedMail,
        content_sha: str,
        message_id: int | None,
        stored: StoredMessage | None,
    ) -> None:
        """Record a mail the batch has just stored (its inbound row and new message)."""
        if uid is not None:
            self.known_uids.add(uid)
        if message_id is not None:
            if mail.message_id:
                self.inbound_by_msgid.setdefault(mail.message_id[:998], []).append(
                    _Inbound(mail.raw_sha256, content_sha, message_id)
                )
            self.inbound_by_raw.setdefault(mail.raw_sha256, []).append(message_id)
        if stored is not None:
            self._add_message(stored)


__all__ = ["BatchLookup", "StoredMessage", "lock_keys"]
