"""Ingest: threading, reopening, automatic mail, duplicates, our own mail, unparsed mail."""

from __future__ import annotations

import itertools
from pathlib import Path

import factories
import pytest
from mailgen import mail, message_id, with_trace
from sqlmodel import Session, col, select

from helpdesk.blobs import BlobStore
from helpdesk.db import transaction
from helpdesk.mail.inbound.ingest import import_raw
from helpdesk.mail.inbound.reprocess import reprocess, unparsed_message_ids
from helpdesk.mail.inbound.rows import IngestResult, Source
from helpdesk.mail.parsing import parse as parse_module
from helpdesk.models import (
    Attachment,
    InboundMail,
    Mailbox,
    Message,
    MessageKind,
    Ticket,
    TicketStatus,
)
from helpdesk.services import tickets
from helpdesk.settings import get_settings

SAMPLES = Path(__file__).parents[1] / "samples"
_uids = itertools.count(1)


def deliver(
    session: Session, mailbox: Mailbox, raw: bytes, store: BlobStore, folder: str = "INBOX"
) -> IngestResult:
    source = Source(mailbox=mailbox, folder=folder, uidvalidity=7)
    return import_raw(session, raw, source=source, store=store, uid=next(_uids))


def ticket_of(session: Session, result: IngestResult) -> Ticket:
    assert result.ticket_id is not None
    ticket = session.get(Ticket, result.ticket_id)
    assert ticket is not None
    session.refresh(ticket)
    return ticket


def test_new_mail_opens_a_ticket_with_its_customer_and_raw_source(
    session: Session, box: Mailbox, store: BlobStore
) -> None:
    raw = mail(subject="Lasku ei lähtenyt", attachment=("lasku-äö.pdf", b"%PDF-1.4 data"))
    result = deliver(session, box, raw, store)

    assert result.new_ticket and result.outcome == "imported"
    ticket = ticket_of(session, result)
    assert ticket.subject == "Lasku ei lähtenyt"
    assert ticket.customer_email == "matti@example.fi"
    assert ticket.customer_name == "Matti Meikäläinen"
    assert ticket.mailbox_id == box.id and ticket.status == TicketStatus.open
    message = session.get(Message, result.message_id)
    assert message is not None and message.kind == MessageKind.incoming
    assert "244,00 €" in message.text
    assert store.get(message.raw_sha256 or "") == raw
    files = session.exec(select(Attachment).where(Attachment.message_id == message.id)).all()
    assert [(a.filename, store.get(a.sha256)) for a in files] == [
        ("lasku-äö.pdf", b"%PDF-1.4 data")
    ]


def test_reply_threads_by_headers_and_reopens_a_closed_ticket(
    session: Session, box: Mailbox, store: BlobStore
) -> None:
    first_id = message_id()
    first = deliver(session, box, mail(msgid=first_id), store)
    ticket = ticket_of(session, first)
    tickets.set_status(session, ticket=ticket, status="closed", by=None)

    closed = ticket_of(session, first)
    assert closed.resolved_at is not None and closed.resolution_seconds is not None
    first_in = closed.first_incoming_at
    assert first_in == session.get(Message, first.message_id).created_at  # type: ignore[union-attr]

    reply = deliver(session, box, mail(subject="Re: jotain", in_reply_to=first_id), store)
    assert reply.threaded and reply.reopened and reply.ticket_id == ticket.id
    reopened = ticket_of(session, reply)
    assert reopened.status == TicketStatus.open
    # Reopened by the customer's mail (the bulk writer's path): no resolution any more,
    # and the first-response clock still starts at the first mail.
    assert (reopened.resolved_at, reopened.resolution_seconds) == (None, None)
    assert reopened.first_incoming_at == first_in

    # References alone (newest last) also find the thread; a pending ticket reopens too.
    tickets.set_status(session, ticket=ticket, status="pending", by=None)
    later = deliver(
        session, box, mail(subject="uusi aihe", references=["unknown@x.fi", first_id]), store
    )
    assert later.ticket_id == ticket.id and later.reopened
    assert ticket_of(session, later).message_count == 3


def test_reply_to_our_outgoing_message_threads(
    session: Session, box: Mailbox, store: BlobStore
) -> None:
    ticket = factories.ticket(session, mailbox=box)
    ours = f"reply-1@{get_settings().mail_message_id_domain}"
    tickets.add_message(
        session, ticket=ticket, kind=MessageKind.outgoing, text="Vastaus", message_id=ours
    )
    session.commit()
    result = deliver(session, box, mail(subject="Re: Kysymys laskusta", in_reply_to=ours), store)
    assert result.ticket_id == ticket.id and result.threaded


def test_subject_tag_trusted_only_from_a_participant(
    session: Session, box: Mailbox, store: BlobStore
) -> None:
    ticket = factories.ticket(session, mailbox=box, customer="matti@example.fi")
    subject = f"Re: [#{ticket.number}] Kysymys laskusta"

    known = deliver(session, box, mail(subject=subject), store)
    assert known.ticket_id == ticket.id and known.threaded

    stranger = deliver(
        session, box, mail(subject=subject, sender=("Outo", "outo@muualla.example")), store
    )
    assert stranger.new_ticket and stranger.ticket_id != ticket.id


def test_auto_reply_is_threaded_flagged_and_never_reopens(
    session: Session, box: Mailbox, store: BlobStore
) -> None:
    first_id = message_id()
    ticket = ticket_of(session, deliver(session, box, mail(msgid=first_id), store))
    tickets.set_status(session, ticket=ticket, status="closed", by=None)
    oof = mail(
        subject="Automaattinen vastaus: Lasku",
        in_reply_to=first_id,
        headers={"Auto-Submitted": "auto-replied"},
    )
    result = deliver(session, box, oof, store)

    assert result.threaded and result.automatic and not result.reopened
    ticket = ticket_of(session, result)
    assert ticket.status == TicketStatus.closed
    assert "auto_reply" not in ticket.flags  # the ticket has human mail too
    message = session.get(Message, result.message_id)
    assert message is not None and "auto_reply" in message.flags


def test_ticket_of_only_automatic_mail_is_flagged_until_a_person_writes(
    session: Session, box: Mailbox, store: BlobStore
) -> None:
    first_id = message_id()
    oof = mail(msgid=first_id, subject="Out of office", headers={"Precedence": "auto_reply"})
    ticket = ticket_of(session, deliver(session, box, oof, store))
    assert "auto_reply" in ticket.flags

    human = deliver(session, box, mail(in_reply_to=first_id), store)
    assert "auto_reply" not in ticket_of(session, human).flags


def test_bounce_of_our_mail_lands_in_its_ticket_without_reopening(
    session: Session, box: Mailbox, store: BlobStore
) -> None:
    ticket = factories.ticket(session, mailbox=box)
    ours = f"outgoing-42@{get_settings().mail_message_id_domain}"
    with transaction(session):
        tickets.add_message(
            session, ticket=ticket, kind=MessageKind.outgoing, text="Vastaus", message_id=ours
        )
        tickets.set_status(session, ticket=ticket, status="pending", by=None)
    dsn = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.fi>\r\n"
        b"To: asiakaspalvelu@e-tunnus.fi\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <dsn-1@mx.example.fi>\r\nAuto-Submitted: auto-replied\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nViestin toimitus ep\xc3\xa4onnistui.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; matti@example.fi\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <" + ours.encode() + b">\r\nSubject: Vastaus\r\n--B--\r\n"
    )
    result = deliver(session, box, dsn, store)
    assert result.ticket_id == ticket.id and result.automatic and not result.reopened
    assert ticket_of(session, result).status == TicketStatus.pending
    message = session.get(Message, result.message_id)
    assert message is not None and "bounce" in message.flags


def test_same_mail_to_both_mailboxes_is_one_ticket(
    session: Session, box: Mailbox, store: BlobStore
) -> None:
    info = factories.mailbox(session, "info@e-tunnus.fi")
    raw = mail(to="asiakaspalvelu@e-tunnus.fi, info@e-tunnus.fi")
    first = deliver(session, box, with_trace(raw, "asiakaspalvelu@e-tunnus.fi"), store)
    second = deliver(session, info, with_trace(raw, "info@e-tunnus.fi"), store)
    identical = deliver(session, info, raw, store)
    identical_again = deliver(session, info, raw, store)

    assert first.outcome == "imported"
    assert [second.outcome, identical.outcome, identical_again.outcome] == ["duplicate"] * 3
    assert second.message_id == first.message_id == identical.message_id
    assert session.exec(select(Ticket)).all() == [ticket_of(session, first)]
    rows = session.exec(select(InboundMail).order_by(col(InboundMail.id))).all()
    assert [r.mailbox_id for r in rows] == [box.id, info.id, info.id, info.id]


def test_reused_message_id_with_other_content_is_imported_and_flagged(
    session: Session, box: Mailbox, store: BlobStore
) -> None:
    reused = message_id()
    first = deliver(session, box, mail(msgid=reused, body="Ensimmäinen viesti"), store)
    second = deliver(session, box, mail(msgid=reused, body="Ihan eri viesti"), store)
    assert first.outcome == second.outcome == "imported"
    message = session.get(Message, second.message_id)
    assert message is not None and "duplicate_message_id" in message.flags
    assert "Ihan eri viesti" in message.text


def test_same_server_copy_is_read_once(session: Session, box: Mailbox, store: BlobStore) -> None:
    source = Source(mailbox=box, folder="INBOX", uidvalidity=9)
    raw = mail()
    assert import_raw(session, raw, source=source, store=store, uid=5).outcome == "imported"
    assert import_raw(session, raw, source=source, store=store, uid=5).skipped
    assert len(session.exec(select(InboundMail)).all()) == 1


def test_our_own_mail_seen_again_is_not_imported(
    session: Session, box: Mailbox, store: BlobStore
) -> None:
    box.sent_folder = "Sent"
    session.add(box)
    ticket = factories.ticket(session, mailbox=box)
    ours = f"reply-7@{get_settings().mail_message_id_domain}"
    stored = tickets.add_message(
        session, ticket=ticket, kind=MessageKind.outgoing, text="Vastaus", message_id=ours
    )
    session.commit()
    copy = mail(msgid=ours, sender=("E-tunnus", "asiakaspalvelu@e-tunnus.fi"), to="matti@x.fi")
    in_sent = deliver(session, box, copy, store, folder="Sent")
    in_inbox = deliver(session, box, copy, store)
    assert in_sent.outcome == "ours"
    assert in_inbox.outcome == "duplicate"  # the same bytes as the Sent copy
    assert in_sent.message_id == in_inbox.message_id == stored.id
    bcc_copy = with_trace(copy, "asiakaspalvelu@e-tunnus.fi")
    assert deliver(session, box, bcc_copy, store).message_id == stored.id
    assert ticket_of(session, in_sent).message_count == 2


def test_mail_in_sent_folder_from_another_client_is_outgoing(
    session: Session, box: Mailbox, store: BlobStore
) -> None:
    box.sent_folder = "Sent"
    session.add(box)
    session.commit()  # the setting is stored before mail comes in
    first_id = message_id()
    ticket = ticket_of(session, deliver(session, box, mail(msgid=first_id), store))
    copy = mail(
        sender=("Agentti", "asiakaspalvelu@e-tunnus.fi"),
        to="matti@example.fi",
        in_reply_to=first_id,
    )
    result = deliver(session, box, copy, store, folder="Sent")
    message = session.get(Message, result.message_id)
    assert result.ticket_id == ticket.id
    assert message is not None and message.kind == MessageKind.outgoing


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("iso-8859-15.eml", "€"),
        ("cp1252-declared-latin1.eml", "ä"),
        ("no-charset-utf8.eml", "ä"),
        ("wrong-charset.eml", "ä"),
        ("raw-8bit-header.eml", "ä"),
        ("html-only.eml", ""),
    ],
)
def test_finnish_text_comes_out_right_end_to_end(
    session: Session, box: Mailbox, store: BlobStore, sample: str, expected: str
) -> None:
    raw = (SAMPLES / sample).read_bytes()
    result = deliver(session, box, raw, store)
    message = session.get(Message, result.message_id)
    assert message is not None and message.text.strip()
    assert expected in message.subject + message.text
    assert "\ufffd" not in message.subject + message.text
    assert "unparsed" not in message.flags


def test_unparsed_mail_is_kept_and_reprocessed_in_place(
    session: Session, box: Mailbox, store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("parser bug")

    raw = mail(subject="Tärkeä asia", body="Hyvää päivää, äö €")
    with monkeypatch.context() as patched:
        patched.setattr(parse_module, "_fill", boom)
        result = deliver(session, box, raw, store)
    assert result.outcome == "unparsed"
    message = session.get(Message, result.message_id)
    assert message is not None and "unparsed" in message.flags
    assert store.get(message.raw_sha256 or "") == raw
    assert "unparsed" in ticket_of(session, result).flags
    assert unparsed_message_ids(session) == [message.id]

    counts = reprocess(session, [message.id or 0], store)
    assert counts.updated == 1 and counts.still_unparsed == 0
    session.refresh(message)
    assert "unparsed" not in message.flags and "Hyvää päivää, äö €" in message.text
    assert "unparsed" not in ticket_of(session, result).flags
    assert len(session.exec(select(Message)).all()) == 1
    assert unparsed_message_ids(session) == []
