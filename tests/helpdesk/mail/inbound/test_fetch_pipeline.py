"""Fetching at volume: mail parsed in a worker process, batch lookups, large mail streamed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import factories
import pytest
from mailgen import mail, message_id, mixed
from mailservers import DovecotServer, MailUser
from sqlmodel import Session, col, select

from helpdesk.mail.imap import session as imap_module
from helpdesk.mail.inbound import prepare as prepare_module
from helpdesk.mail.inbound.fetch import blob_store
from helpdesk.mail.inbound.watch import fetch_once
from helpdesk.models import Attachment, InboundMail, Message, Ticket

pytestmark = pytest.mark.dovecot

MakeUser = Callable[..., MailUser]


def test_worker_process_and_batch_lookups_thread_and_dedupe_within_one_batch(
    session: Session,
    data_dir: Path,
    dovecot: DovecotServer,
    mail_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prepare_module, "POOL_THRESHOLD", 1)
    monkeypatch.setattr(prepare_module, "CHUNK", 3)
    user = mail_user()
    factories.imap_mailbox(session, user)
    first = message_id()
    raws = mixed(5)
    raws.insert(1, mail(subject="Alkuperäinen äö", msgid=first))
    # A reply and an exact copy of the first mail, in the same batch as the original.
    raws.insert(3, mail(subject="Re: Alkuperäinen äö", in_reply_to=first, references=[first]))
    raws.insert(4, raws[1])
    for raw in raws:
        dovecot.append(user.name, raw)

    counts = fetch_once().counts

    assert (counts.read, counts.imported, counts.duplicates, counts.threaded) == (8, 7, 1, 1)
    original = session.exec(select(Message).where(Message.message_id == first)).one()
    reply = session.exec(select(Message).where(Message.subject == "Re: Alkuperäinen äö")).one()
    assert reply.ticket_id == original.ticket_id
    assert len(session.exec(select(Ticket)).all()) == 6
    assert len(session.exec(select(InboundMail)).all()) == 8
    store = blob_store()
    assert all(store.exists(m.raw_sha256 or "") for m in session.exec(select(Message)))
    assert fetch_once().counts.read == 0


def test_large_mail_is_streamed_into_the_store_in_pieces(
    session: Session,
    data_dir: Path,
    dovecot: DovecotServer,
    mail_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap_module, "STREAM_ABOVE", 50_000)
    monkeypatch.setattr(imap_module, "STREAM_CHUNK", 8192)
    user = mail_user()
    factories.imap_mailbox(session, user)
    big = os.urandom(300_000)
    raw = mail(subject="Iso liite äö €", attachment=("liite.pdf", big))
    dovecot.append(user.name, mail(subject="Pieni ennen"))
    dovecot.append(user.name, raw)
    dovecot.append(user.name, mail(subject="Pieni jälkeen"))

    counts = fetch_once().counts

    assert (counts.read, counts.imported) == (3, 3)
    message = session.exec(select(Message).where(Message.subject == "Iso liite äö €")).one()
    store = blob_store()
    assert store.get(message.raw_sha256 or "") == raw
    (att,) = session.exec(select(Attachment).where(Attachment.message_id == message.id)).all()
    assert (att.filename, att.size) == ("liite.pdf", len(big))
    assert store.get(att.sha256) == big
    assert all("\\Seen" in m.flags for m in dovecot.fetch_messages(user.name))
    subjects = session.exec(select(Message.subject).order_by(col(Message.id))).all()
    assert subjects == ["Pieni ennen", "Iso liite äö €", "Pieni jälkeen"]
