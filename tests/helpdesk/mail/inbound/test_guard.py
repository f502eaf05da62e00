"""One mail never stops the others: every stage after the raw store is guarded per mail.

A mail that fails parsing, lookup, the write, the plugins' hook or linking still becomes a
ticket flagged "could not be read fully" (``unparsed``) with its raw source stored, the
error is logged with the mailbox and UID, and the mails after it are imported as usual.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from mailgen import mail
from sqlalchemy.exc import DataError, OperationalError
from sqlmodel import Session, col, select

from helpdesk.blobs import BlobStore
from helpdesk.hookspecs import hookimpl
from helpdesk.mail.inbound import ingest as ingest_module
from helpdesk.mail.inbound import prepare as prepare_module
from helpdesk.mail.inbound import writer as writer_module
from helpdesk.mail.inbound.ingest import ingest, transient
from helpdesk.mail.inbound.lookup import BatchLookup
from helpdesk.mail.inbound.prepare import prepare
from helpdesk.mail.inbound.rows import Arrival, IngestResult, Source
from helpdesk.models import InboundMail, InboundOutcome, Mailbox, Message, Ticket
from helpdesk.plugins import get_plugin_manager

POISON = "Myrkkyviesti"


def arrivals(store: BlobStore) -> list[Arrival]:
    subjects = ["Ensimmäinen", POISON, "Kolmas"]
    return [Arrival(uid, prepare(mail(subject=s), store)) for uid, s in enumerate(subjects, 1)]


def run(session: Session, box: Mailbox, items: list[Arrival], store: BlobStore) -> list[Any]:
    source = Source(mailbox=box, folder="INBOX", uidvalidity=9)
    done = ingest(session, items, source=source, store=store)
    session.flush()
    return done


def stored(session: Session) -> list[Message]:
    return list(session.exec(select(Message).order_by(col(Message.id))))


def assert_poison_flagged(session: Session, store: BlobStore, done: list[Any]) -> Message:
    """All three stored in order; the poison one flagged, its ticket too, its raw stored."""
    assert [uid for uid, _ in done] == [1, 2, 3]
    outcomes = [r.outcome for _, r in done]
    assert outcomes == [InboundOutcome.imported, InboundOutcome.unparsed, InboundOutcome.imported]
    first, poison, third = stored(session)
    assert (first.subject, third.subject) == ("Ensimmäinen", "Kolmas")
    assert "unparsed" in poison.flags and "unparsed" not in first.flags + third.flags
    ticket = session.get(Ticket, poison.ticket_id)
    assert ticket is not None and "unparsed" in ticket.flags
    assert poison.raw_sha256 is not None and store.exists(poison.raw_sha256)
    inbound = session.exec(select(InboundMail).where(InboundMail.uid == 2)).one()
    assert inbound.message_id == poison.id and inbound.outcome == "unparsed"
    return poison


class _Hook:
    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl
    def helpdesk_message_stored(self, session: Session, ticket: Ticket, message: Message) -> None:
        if message.subject == POISON:
            raise RuntimeError("the plugin cannot take this mail")
        self.seen.append(message.subject)


@pytest.fixture
def failing_hook() -> Iterator[_Hook]:
    pm = get_plugin_manager()
    plugin = _Hook()
    pm.register(plugin, name="test-failing-hook")
    yield plugin
    pm.unregister(plugin)


def test_a_failing_hook_keeps_the_mail_readable_and_the_rest_hooked(
    session: Session,
    box: Mailbox,
    store: BlobStore,
    failing_hook: _Hook,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="helpdesk.mail.inbound.ingest"):
        done = run(session, box, arrivals(store), store)
    poison = assert_poison_flagged(session, store, done)
    assert poison.subject == POISON and poison.text  # read fully; only the hook failed
    # The group's first try (undone) saw the first mail; then each mail alone.
    assert failing_hook.seen == ["Ensimmäinen", "Ensimmäinen", "Kolmas"]
    [record] = [r for r in caplog.records if "storing the mail failed" in r.getMessage()]
    assert "asiakaspalvelu@e-tunnus.fi INBOX uid 2" in record.getMessage()
    assert "the plugin cannot take this mail" in (record.exc_text or "")


def test_a_mail_the_database_refuses_is_stored_with_its_raw_source_only(
    session: Session, box: Mailbox, store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = writer_module.GroupWriter.plan

    def plan(self: Any, arrival: Arrival) -> None:
        if arrival.prepared.mail.subject == POISON:
            raise ValueError("a value no column takes")
        real(self, arrival)

    monkeypatch.setattr(writer_module.GroupWriter, "plan", plan)
    done = run(session, box, arrivals(store), store)
    poison = assert_poison_flagged(session, store, done)
    assert poison.subject == "" and poison.text == ""  # nothing but the source


def test_failing_lookup_and_linking_are_guarded_too(
    session: Session, box: Mailbox, store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_load = BatchLookup.load.__func__  # type: ignore[attr-defined]

    def load(cls: Any, session: Session, **kwargs: Any) -> BatchLookup:
        if any(m.subject == POISON for m in kwargs["mails"]):
            raise RuntimeError("lookup failed")
        return real_load(cls, session, **kwargs)

    monkeypatch.setattr(BatchLookup, "load", classmethod(load))
    assert_poison_flagged(session, store, run(session, box, arrivals(store), store))


def test_failing_linking_is_guarded(
    session: Session, box: Mailbox, store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = writer_module.link_new_messages

    def link(session: Session, found: list[Any]) -> None:
        if any(m.subject == POISON for m in found):
            raise RuntimeError("linking failed")
        real(session, found)

    monkeypatch.setattr(writer_module, "link_new_messages", link)
    poison = assert_poison_flagged(session, store, run(session, box, arrivals(store), store))
    assert poison.subject == POISON


def test_a_mail_the_parser_raises_on_is_prepared_as_unreadable(
    session: Session, box: Mailbox, store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = prepare_module.parse_mail

    def parse(raw: bytes, **kwargs: Any) -> Any:
        if POISON.encode() in raw:
            raise MemoryError("the parser gave up")
        return real(raw, **kwargs)

    monkeypatch.setattr(prepare_module, "parse_mail", parse)
    items = arrivals(store)
    assert items[1].prepared.mail.unparsed
    assert "the parser gave up" in items[1].prepared.mail.parse_errors[0]
    assert_poison_flagged(session, store, run(session, box, items, store))


def test_when_even_the_bare_write_fails_the_error_propagates(
    session: Session, box: Mailbox, store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> list[tuple[int | None, IngestResult]]:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(ingest_module, "write_group", broken)
    with pytest.raises(RuntimeError, match="the database is gone"):
        run(session, box, arrivals(store), store)


class _Deadlock(Exception):
    sqlstate = "40P01"


@pytest.mark.parametrize(
    ("error", "passes"),
    [
        (OperationalError("INSERT", {}, _Deadlock()), True),
        (OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked")), True),
        (DataError("INSERT", {}, type("E", (Exception,), {"sqlstate": "22001"})()), False),
        (OperationalError("INSERT", {}, type("E", (Exception,), {"sqlstate": "54000"})()), False),
        (UnicodeEncodeError("utf-8", "\udce4", 0, 1, "surrogates not allowed"), False),
    ],
)
def test_only_database_trouble_that_passes_is_left_to_the_next_fetch(
    session: Session,
    box: Mailbox,
    store: BlobStore,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    passes: bool,
) -> None:
    real = ingest_module.write_group

    def write(session: Session, arrivals: list[Arrival], **kwargs: Any) -> Any:
        if any(a.prepared.mail.subject == POISON for a in arrivals) and kwargs["hooks"]:
            raise error
        return real(session, arrivals, **kwargs)

    monkeypatch.setattr(ingest_module, "write_group", write)
    assert transient(error) is passes
    if passes:
        with pytest.raises(type(error)):
            run(session, box, arrivals(store), store)
    else:
        assert_poison_flagged(session, store, run(session, box, arrivals(store), store))
