"""Fetching from a real Dovecot: APPEND then fetch, \\Seen after commit, UIDVALIDITY, drops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import factories
import netguard
import pytest
from mailgen import mail, mixed
from mailservers import DovecotServer, MailUser, SmtpServer
from sqlmodel import Session, col, func, select

from helpdesk.mail.inbound import fetch as fetch_module
from helpdesk.mail.inbound.watch import fetch_once
from helpdesk.models import InboundMail, Mailbox, Message, Ticket
from helpdesk.settings import get_settings

pytestmark = pytest.mark.dovecot

MakeUser = Callable[..., MailUser]


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_append_then_fetch_makes_a_ticket_and_marks_seen(
    session: Session, data_dir: Path, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user("asiakaspalvelu")
    box = factories.imap_mailbox(session, user)
    raw = mail(subject="Lasku 100102001 ei lähtenyt", attachment=("lasku.pdf", b"%PDF-1.4 x"))
    dovecot.append(user.name, raw)

    result = fetch_once()

    assert result.mailboxes == {box.address: "ok"}
    assert result.counts.as_dict() | {} == {
        "read": 1,
        "imported": 1,
        "duplicates": 0,
        "threaded": 0,
        "auto_replies": 0,
        "unparsed": 0,
        "failed": 0,
    }
    ticket = session.exec(select(Ticket)).one()
    assert ticket.subject == "Lasku 100102001 ei lähtenyt" and ticket.mailbox_id == box.id
    message = session.exec(select(Message)).one()
    assert (data_dir / "blobs").is_dir() and message.raw_sha256
    [stored] = dovecot.fetch_messages(user.name)
    assert stored.raw == raw and "\\Seen" in stored.flags
    session.refresh(box)
    assert box.last_sync_at is not None and box.last_error is None

    assert fetch_once().counts.read == 0  # nothing new: the UID is behind last_uid


def test_processed_folder_gets_the_imported_mail(
    session: Session, data_dir: Path, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    factories.imap_mailbox(session, user, processed_folder="Käsitelty")
    for raw in mixed(3):
        dovecot.append(user.name, raw)
    assert fetch_once().counts.imported == 3
    assert dovecot.fetch_messages(user.name) == []
    assert len(dovecot.fetch_messages(user.name, "Käsitelty")) == 3


def test_uidvalidity_change_resyncs_without_reimporting(
    session: Session, data_dir: Path, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    factories.imap_mailbox(session, user)
    for raw in mixed(4):
        dovecot.append(user.name, raw)
    assert fetch_once().counts.imported == 4
    before = dovecot.uidvalidity(user.name)
    dovecot.reset_uidvalidity(user.name)
    dovecot.append(user.name, mail(subject="Uusi viesti resyncin jälkeen"))
    assert dovecot.uidvalidity(user.name) != before

    counts = fetch_once().counts
    assert (counts.read, counts.imported, counts.duplicates) == (5, 1, 4)
    assert count(session, Message) == 5 and count(session, Ticket) == 5


def test_connection_dropped_mid_fetch_resumes_exactly_once(
    session: Session,
    data_dir: Path,
    dovecot: DovecotServer,
    mail_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = mail_user()
    box = factories.imap_mailbox(session, user)
    raws = mixed(12)
    for raw in raws:
        dovecot.append(user.name, raw)
    monkeypatch.setattr(get_settings(), "mail_fetch_batch", 4)
    real_ingest = fetch_module.ingest
    calls = []

    def import_then_drop(*args, **kwargs):
        results = real_ingest(*args, **kwargs)
        calls.extend(results)
        if len(calls) >= 6:
            with netguard.permitted():  # the test's own doing, mid-transaction on purpose
                dovecot.restart()  # every connection dies with the server
        return results

    monkeypatch.setattr(fetch_module, "ingest", import_then_drop)
    first = fetch_once()
    assert first.mailboxes[box.address] != "ok" and first.counts.imported < 12
    session.refresh(box)
    assert box.last_error and box.last_error_at

    monkeypatch.setattr(fetch_module, "ingest", real_ingest)
    second = fetch_once()
    assert first.counts.imported + second.counts.imported == 12
    assert count(session, Message) == 12 and count(session, InboundMail) == 12
    stored = {m.raw_sha256 for m in session.exec(select(Message))}
    assert len(stored) == 12
    assert all("\\Seen" in m.flags for m in dovecot.fetch_messages(user.name))
    session.refresh(box)
    assert box.last_error is None


def test_one_failing_mailbox_does_not_stop_the_others(
    session: Session, data_dir: Path, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    good, bad = mail_user(), mail_user()
    factories.imap_mailbox(session, bad, "info@e-tunnus.fi").imap_password = "väärä"
    session.commit()
    factories.imap_mailbox(session, good, "asiakaspalvelu@e-tunnus.fi")
    dovecot.append(good.name, mail())
    dovecot.append(bad.name, mail())

    result = fetch_once()
    assert result.mailboxes["asiakaspalvelu@e-tunnus.fi"] == "ok"
    assert "login" in result.mailboxes["info@e-tunnus.fi"]
    assert "väärä" not in result.mailboxes["info@e-tunnus.fi"]
    assert count(session, Message) == 1
    info = session.exec(select(Mailbox).where(Mailbox.address == "info@e-tunnus.fi")).one()
    assert info.last_error and info.last_sync_at is None


def test_same_mail_to_both_shared_mailboxes_is_one_ticket(
    session: Session,
    data_dir: Path,
    dovecot: DovecotServer,
    mail_user: MakeUser,
    smtp_server: SmtpServer,
) -> None:
    import smtplib

    asiakaspalvelu, info = mail_user("asiakaspalvelu"), mail_user("info")
    factories.imap_mailbox(session, asiakaspalvelu)
    factories.imap_mailbox(session, info)
    raw = mail(to=f"{asiakaspalvelu.address}, {info.address}", subject="Kumpaankin laatikkoon")
    with smtplib.SMTP(*smtp_server.address) as smtp:
        smtp.sendmail("matti@example.fi", [asiakaspalvelu.address, info.address], raw)

    counts = fetch_once().counts
    assert (counts.read, counts.imported, counts.duplicates) == (2, 1, 1)
    assert count(session, Ticket) == 1
    rows = session.exec(select(InboundMail).order_by(col(InboundMail.id))).all()
    assert [r.outcome for r in rows] == ["imported", "duplicate"]
    assert rows[0].message_id == rows[1].message_id


def test_sent_folder_copy_of_our_reply_is_recognised(
    session: Session, data_dir: Path, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user()
    box = factories.imap_mailbox(session, user, sent_folder="Sent")
    first = mail(subject="Kysymys")
    dovecot.append(user.name, first)
    fetch_once()
    ticket = session.exec(select(Ticket)).one()
    from helpdesk.models import MessageKind
    from helpdesk.services import tickets

    ours = f"r1@{get_settings().mail_message_id_domain}"
    tickets.add_message(
        session, ticket=ticket, kind=MessageKind.outgoing, text="Vastaus", message_id=ours
    )
    session.commit()
    dovecot.append(
        user.name,
        mail(msgid=ours, sender=("E-tunnus", box.address), to="matti@example.fi"),
        folder="Sent",
        flags=["\\Seen"],
    )
    counts = fetch_once().counts
    assert (counts.read, counts.duplicates, counts.imported) == (1, 1, 0)
    assert count(session, Message) == 2
