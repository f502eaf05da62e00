"""A group written at once stores exactly what its mails store one by one, in far fewer
statements; a group that fails is written again mail by mail."""

from __future__ import annotations

from typing import Any

import factories
import pytest
from mailgen import mail, message_id
from sqlalchemy import event, select
from sqlmodel import Session

from helpdesk.blobs import BlobStore
from helpdesk.mail.inbound import ingest as ingest_module
from helpdesk.mail.inbound.ingest import ingest
from helpdesk.mail.inbound.lookup import BatchLookup
from helpdesk.mail.inbound.prepare import prepare
from helpdesk.mail.inbound.rows import Arrival, IngestResult, Source, message_fields
from helpdesk.mail.inbound.writer import write_group
from helpdesk.models import (
    Attachment,
    AuditEvent,
    InboundMail,
    Mailbox,
    Message,
    MessageKind,
    Ticket,
    TicketLink,
    TicketStatus,
)
from helpdesk.services import tickets

#: Columns that differ between two runs by nature (ids are compared by rank).
VOLATILE = {"created_at", "updated_at", "last_message_at", "last_incoming_at", "fetched_at", "at"}
MOMENTS = {"first_incoming_at", "first_response_at", "resolved_at", "resolution_seconds"}


def group_mails(existing: str, number: int) -> list[bytes]:
    first = message_id()
    original = mail(subject="Uusi asia äö", msgid=first, attachment=("liite-ä.pdf", b"%PDF-1"))
    return [
        original,
        mail(subject="Re: Uusi asia äö", in_reply_to=first, references=[first]),
        original,  # the same mail again: a duplicate
        mail(subject="Re: Vanha asia", in_reply_to=existing),  # reopens the closed ticket
        mail(
            subject="Automaattinen vastaus",
            in_reply_to=existing,
            headers={"Auto-Submitted": "auto-replied"},
        ),
        mail(subject="Sama tunniste, eri sisältö", msgid=first),
        mail(subject=f"Kysymys [#{number}]"),  # a participant's subject tag
        mail(subject=f"Vieras [#{number}]", sender=("", "vieras@example.fi")),
        mail(subject="Lasku 1001020007", sender=("Liisa", "liisa@example.fi")),
    ]


def rows(session: Session, model: Any, after: int) -> list[dict[str, Any]]:
    table = model.__table__
    query = select(table).where(table.c.id > after).order_by(table.c.id)
    return [dict(r._mapping) for r in session.connection().execute(query)]


def snapshot(session: Session, marks: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    session.flush()
    found = {
        name: rows(session, model, marks[name])
        for name, model in [
            ("ticket", Ticket),
            ("message", Message),
            ("attachment", Attachment),
            ("inbound", InboundMail),
            ("link", TicketLink),
            ("audit", AuditEvent),
        ]
    }
    ids: dict[str, dict[int, int]] = {}
    for name in ("ticket", "message"):
        ids[name] = {r["id"]: i for i, r in enumerate(found[name])}
    for name, items in found.items():
        for row in items:
            row.pop("id")
            for key in VOLATILE:
                row.pop(key, None)
            for key in MOMENTS & row.keys():  # when differs between the runs, whether not
                row[key] = row[key] is not None
            for key, kind in (("ticket_id", "ticket"), ("message_id", "message")):
                if isinstance(row.get(key), int):
                    row[key] = ids[kind].get(row[key], row[key])
            if name == "ticket":
                row["number"] = "new" if row["number"] > marks["number"] else row["number"]
            if name == "audit":
                row["object_id"] = "x"
                row["details"] = {k: v for k, v in row["details"].items() if k != "message_id"}
    return found


def one_by_one(
    session: Session, items: list[Arrival], source: Source, store: BlobStore
) -> list[tuple[int | None, IngestResult]]:
    """Each mail as a group of its own, as an import or a failed group's fallback has it."""
    return [done for item in items for done in ingest(session, [item], source=source, store=store)]


def test_a_group_stores_what_its_mails_store_one_by_one(session: Session, store: BlobStore) -> None:
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    factories.user(session, emails=("liisa@example.fi",))
    existing = message_id()
    before = [Arrival(1, prepare(mail(subject="Vanha asia", msgid=existing), store))]
    source = Source(mailbox=box, folder="INBOX", uidvalidity=3)
    old = one_by_one(session, before, source, store)
    ticket = session.get(Ticket, old[0][1].ticket_id)
    assert ticket is not None and ticket.number is not None
    ticket.status = TicketStatus.closed
    session.add(ticket)
    session.commit()
    items = [
        Arrival(uid, prepare(raw, store))
        for uid, raw in enumerate(group_mails(existing, ticket.number), 2)
    ]
    marks = {
        "ticket": ticket.id or 0,
        "number": ticket.number,
        "message": max(r.id or 0 for r in session.exec(select(Message)).scalars()),
    }
    for name, model in [
        ("attachment", Attachment),
        ("inbound", InboundMail),
        ("link", TicketLink),
        ("audit", AuditEvent),
    ]:
        marks[name] = max([r["id"] for r in rows(session, model, 0)], default=0)

    one = session.begin_nested()
    by_mail = one_by_one(session, items, source, store)
    expected = snapshot(session, marks)
    one.rollback()
    session.expire_all()

    batched = write_group(
        session, items, source=source, store=store, lookup=lookup(session, box, items)
    )
    got = snapshot(session, marks)

    for name in expected:
        assert got[name] == expected[name], name
    assert [
        (u, r.outcome, r.new_ticket, r.threaded, r.automatic, r.reopened) for u, r in batched
    ] == [(u, r.outcome, r.new_ticket, r.threaded, r.automatic, r.reopened) for u, r in by_mail]
    assert [(r.message_id is None, r.ticket_id is None) for _, r in batched] == [
        (r.message_id is None, r.ticket_id is None) for _, r in by_mail
    ]
    assert sum(r.reopened for _, r in batched) == 1 and got["link"] and got["attachment"]


def test_a_group_of_new_mail_takes_a_fixed_number_of_statements(
    session: Session, store: BlobStore
) -> None:
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    items = [Arrival(uid, prepare(mail(subject=f"Asia {uid} äö"), store)) for uid in range(1, 31)]
    found = lookup(session, box, items)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(session.get_bind(), "before_cursor_execute", count)
    try:
        source = Source(mailbox=box, folder="INBOX", uidvalidity=3)
        done = write_group(session, items, source=source, store=store, lookup=found)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", count)
    assert [r.new_ticket for _, r in done] == [True] * 30
    # tickets, their numbers, messages, inbound records, the address lookup for linking,
    # its savepoint (and the executemany batches the driver may split a statement into)
    assert len(statements) <= 10, statements


def lookup(session: Session, box: Mailbox, items: list[Arrival]) -> BatchLookup:
    return BatchLookup.load(
        session,
        mailbox_id=box.id or 0,
        folder="INBOX",
        uidvalidity=3,
        uids=[a.uid for a in items if a.uid is not None],
        mails=[a.prepared.mail for a in items],
    )


def test_a_failing_group_is_imported_mail_by_mail(
    session: Session, store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    items = [Arrival(uid, prepare(mail(subject=f"Asia {uid}"), store)) for uid in (1, 2, 3)]
    groups: list[int] = []

    def broken(session: Session, arrivals: list[Arrival], **kwargs: Any) -> Any:
        groups.append(len(arrivals))
        if len(arrivals) == 1:
            return write_group(session, arrivals, **kwargs)
        session.add(Ticket(subject="never stored"))
        session.flush()
        raise RuntimeError("boom")

    monkeypatch.setattr(ingest_module, "write_group", broken)
    source = Source(mailbox=box, folder="INBOX", uidvalidity=3)
    done = ingest(session, items, source=source, store=store)
    session.commit()
    assert groups == [3, 1, 1, 1]
    assert [r.new_ticket for _, r in done] == [True, True, True]
    subjects = [t.subject for t in session.exec(select(Ticket)).scalars()]
    assert sorted(subjects) == ["Asia 1", "Asia 2", "Asia 3"]


def test_a_mail_becomes_the_rows_the_ticket_service_makes(
    session: Session, store: BlobStore
) -> None:
    """Mail in inserts its rows in bulk; replies, calls and notes build them through the ORM
    (``tickets.open_ticket``/``add_message``). Both use the same row rules."""
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    raw = mail(subject="  Laskun eräpäivä äö ", sender=("Matti M", "matti@example.fi"))
    source = Source(mailbox=box, folder="INBOX", uidvalidity=3)
    [(_, result)] = ingest(session, [Arrival(1, prepare(raw, store))], source=source, store=store)
    marks = {"ticket": (result.ticket_id or 0) - 1, "message": (result.message_id or 0) - 1}
    by_mail = {
        name: rows(session, model, marks[name])
        for name, model in [("ticket", Ticket), ("message", Message)]
    }
    parsed = prepare(raw, store).mail
    message = session.get(Message, result.message_id)
    assert message is not None
    ticket = tickets.open_ticket(
        session,
        subject=parsed.subject,
        mailbox=box,
        customer_email=parsed.from_address,
        customer_name=parsed.from_name,
        created_at=message.created_at,
    )
    tickets.add_message(
        session,
        ticket=ticket,
        kind=MessageKind.incoming,
        mailbox=box,
        flags=message.flags,
        created_at=message.created_at,
        **message_fields(parsed),
    )
    session.flush()
    by_service = {
        name: rows(session, model, by_mail[name][-1]["id"])
        for name, model in [("ticket", Ticket), ("message", Message)]
    }
    for name in ("ticket", "message"):
        [a], [b] = by_mail[name], by_service[name]
        different = {k for k in a if a[k] != b[k]}
        assert different <= {"id", "number", "ticket_id", "updated_at"}, (name, different)
