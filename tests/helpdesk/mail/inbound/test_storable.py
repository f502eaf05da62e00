"""The worst header values a mail can carry are stored alike on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from pathlib import Path

import factories
from mailgen import eight_bit_message_id, long_from_with_nul
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from helpdesk.blobs import BlobStore
from helpdesk.limits import INDEX_BYTES, LIMITS, storable
from helpdesk.mail.inbound.ingest import import_raw
from helpdesk.mail.inbound.rows import Source
from helpdesk.models import Attachment, InboundMail, Message, Ticket
from helpdesk.settings import get_settings

_uids = itertools.count(1)


def worst_mail() -> bytes:
    """Every limited value over its limit, multibyte, with NUL and raw 8-bit bytes."""
    euro = "€".encode()
    long_id = euro * 1500 + b"\x00@example.fi"
    name = ("Ä\x00" * 1000).encode()
    return (
        b'From: "' + name + b'" <' + b"\xc3\xa4" * 300 + b"\x00@example.fi>\r\n"
        b"To: " + b", ".join(b"x%d\x00@example.fi" % i for i in range(600)) + b"\r\n"
        b"Subject: " + euro * 2000 + b"\x00\r\n"
        b"Message-ID: <" + long_id + b">\r\n"
        b"In-Reply-To: <" + long_id + b">\r\n"
        b"References: " + b" ".join(b"<r%d\x00\xe4@x>" % i for i in range(300)) + b"\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hei\x00 \xed\xa0\x80</p>\r\n--b\r\n"
        b"Content-Type: application/" + b"x" * 400 + b"\r\n"
        b"Content-ID: <" + euro * 1200 + b">\r\n"
        b'Content-Disposition: attachment; filename="' + euro * 700 + b'\x00.pdf"\r\n\r\n'
        b"%PDF\r\n--b--\r\n"
    )


def test_migrated_columns_have_the_lengths_of_the_limits_table(engine: Engine) -> None:
    inspector = inspect(engine)
    for name, limit in LIMITS.items():
        table, column = name.split(".")
        [found] = [c for c in inspector.get_columns(table) if c["name"] == column]
        length = getattr(found["type"], "length", None)
        assert length in (None, limit.chars), name  # None: a TEXT column, cut by the parser


def test_the_worst_values_are_cut_alike_and_stored_whole(session: Session, data_dir: Path) -> None:
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    store = BlobStore(get_settings().blob_dir)
    source = Source(mailbox=box, folder="INBOX", uidvalidity=7)
    for raw in (worst_mail(), long_from_with_nul(900), eight_bit_message_id()):
        result = import_raw(session, raw, source=source, store=store, uid=next(_uids))
        assert result.message_id is not None

    [worst, long_from, eight_bit] = session.exec(select(Message).order_by(Message.id)).all()
    session.expire_all()
    for message in (worst, long_from, eight_bit):
        session.refresh(message)
        for value in (message.subject, message.from_name or "", message.text, message.html or ""):
            assert "\x00" not in value
    assert len(worst.subject) == 998 and set(worst.subject) == {"€"}
    assert worst.from_name == "Ä" * 300
    assert worst.message_id == "€" * (INDEX_BYTES // 3)
    assert worst.in_reply_to == worst.message_id
    assert len(worst.to_addresses) == 500 and worst.to_addresses[0] == "x0@example.fi"
    assert len(worst.references) == 100 and worst.references[-1] == "r299ä@x"
    assert worst.html is not None and worst.html.startswith("<p>Hei ")
    [att] = session.exec(select(Attachment).where(Attachment.message_id == worst.id)).all()
    assert len(att.filename) == 500 and "\x00" not in att.filename
    assert len(att.content_type) == 255
    assert att.content_id == "€" * 998
    ticket = session.get(Ticket, worst.ticket_id)
    assert ticket is not None and len(ticket.subject) == 998
    assert ticket.customer_name == "Ä" * 200
    inbound = session.exec(select(InboundMail).where(InboundMail.message_id == worst.id)).one()
    assert inbound.header_message_id == worst.message_id

    assert long_from.from_name == storable(long_from.from_name or "", "message.from_name")
    assert len(long_from.from_name or "") == 300
    assert eight_bit.message_id is not None and eight_bit.message_id.startswith("äö-Ã¤-")
