"""Poison mail in a real Dovecot mailbox: every mail is imported, in order, and the worker
moves past the bad ones instead of looping on them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import factories
import pytest
from mailgen import eight_bit_message_id, long_from_with_nul, mail, nested_divs
from mailservers import DovecotServer, MailUser
from sqlmodel import Session, col, select

from helpdesk.blobs import BlobStore
from helpdesk.mail.inbound import writer as writer_module
from helpdesk.mail.inbound.watch import fetch_once
from helpdesk.models import InboundMail, MailboxFolderState, Message, Ticket
from helpdesk.settings import get_settings

pytestmark = pytest.mark.dovecot

MakeUser = Callable[..., MailUser]


def imported(session: Session) -> list[tuple[int, Message]]:
    """(UID, message) of every imported copy, in UID order."""
    rows = session.exec(
        select(InboundMail.uid, Message)
        .join(Message, col(Message.id) == InboundMail.message_id)
        .order_by(col(InboundMail.uid))
    ).all()
    return [(int(uid or 0), message) for uid, message in rows]


def test_a_mailbox_of_poison_mail_imports_all_five_in_order(
    session: Session, data_dir: Path, dovecot: DovecotServer, mail_user: MakeUser
) -> None:
    user = mail_user("asiakaspalvelu")
    box = factories.imap_mailbox(session, user)
    raws = [
        mail(subject="Hyvä ensimmäinen"),
        eight_bit_message_id(),
        nested_divs(250_000),
        long_from_with_nul(900),
        mail(subject="Hyvä viimeinen"),
    ]
    uids = [dovecot.append(user.name, raw) for raw in raws]

    result = fetch_once()

    assert result.mailboxes == {box.address: "ok"}
    assert (result.counts.read, result.counts.imported) == (5, 5)
    found = imported(session)
    assert [uid for uid, _ in found] == uids
    assert [m.id for _, m in found] == sorted(m.id for _, m in found)  # stored in order
    store = BlobStore(get_settings().blob_dir)
    good, eight_bit, deep, long_from, last = (m for _, m in found)
    # Dovecot turns NUL bytes into 0x80 on APPEND; the stored source is what it serves.
    # (NUL reaching the parser is covered without a server: test_storable.py.)
    served = [m.raw for m in dovecot.fetch_messages(user.name)]
    for message, raw in zip((good, eight_bit, deep, long_from, last), served, strict=True):
        assert message.raw_sha256 is not None and store.get(message.raw_sha256) == raw
    assert (good.subject, last.subject) == ("Hyvä ensimmäinen", "Hyvä viimeinen")
    assert eight_bit.message_id is not None and eight_bit.message_id.startswith("äö-Ã¤-")
    assert deep.text == "Syvällä sisällä" and deep.html is not None
    assert long_from.from_name is not None and len(long_from.from_name) == 300
    assert "\x00" not in long_from.from_name + long_from.subject + long_from.text
    state = session.exec(select(MailboxFolderState)).one()
    assert state.last_uid == uids[-1]
    assert all("\\Seen" in m.flags for m in dovecot.fetch_messages(user.name))
    assert fetch_once().counts.read == 0


def test_a_mail_the_writer_cannot_store_is_flagged_and_the_fetch_goes_on(
    session: Session,
    data_dir: Path,
    dovecot: DovecotServer,
    mail_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = mail_user("asiakaspalvelu")
    factories.imap_mailbox(session, user)
    subjects = ["Ensimmäinen", "Kaatuu aina", "Kolmas"]
    uids = [dovecot.append(user.name, mail(subject=s)) for s in subjects]
    real = writer_module.message_row

    def message_row(parsed, *args, **kwargs):  # type: ignore[no-untyped-def]
        if parsed.subject == "Kaatuu aina":
            raise ValueError("no column takes this")
        return real(parsed, *args, **kwargs)

    monkeypatch.setattr(writer_module, "message_row", message_row)

    first = fetch_once()
    assert (first.counts.read, first.counts.imported, first.counts.unparsed) == (3, 3, 1)
    found = imported(session)
    assert [uid for uid, _ in found] == uids
    flagged = found[1][1]
    assert "unparsed" in flagged.flags and flagged.raw_sha256
    ticket = session.get(Ticket, flagged.ticket_id)
    assert ticket is not None and "unparsed" in ticket.flags
    assert session.exec(select(MailboxFolderState)).one().last_uid == uids[-1]
    assert fetch_once().counts.read == 0  # the worker does not come back to it
