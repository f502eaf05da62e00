"""Blocked senders through a real Dovecot: their mail is stored whole but lands in Spam."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import factories
import pytest
from mailgen import mail
from mailservers import DovecotServer, MailUser
from sqlmodel import Session, col, select

from helpdesk.mail.inbound.watch import fetch_once
from helpdesk.models import Message, OutboundMail, Ticket, TicketStatus, utcnow
from helpdesk.services import inbox, snooze, spam
from helpdesk.services.inbox import TicketFilter

pytestmark = pytest.mark.dovecot

MakeUser = Callable[..., MailUser]


def _ids(session: Session, status: str) -> set[int | None]:
    return {r.ticket.id for r in inbox.list_tickets(session, TicketFilter(status=status)).rows}


def test_mail_from_a_blocked_sender_goes_to_spam_and_unblocking_undoes_it(
    session: Session, data_dir: Path, dovecot: DovecotServer, mail_user: MakeUser, admin
) -> None:
    user = mail_user("asiakaspalvelu")
    factories.imap_mailbox(session, user)
    dovecot.append(user.name, mail(subject="Halpoja lääkkeitä", sender=("", "spam@roska.example")))
    assert fetch_once().counts.imported == 1
    first = session.exec(select(Ticket)).one()
    assert not first.spam and first.id in _ids(session, "active")

    block = spam.block_sender(session, ticket=first, scope="address", by=admin)
    session.refresh(first)
    assert block.value == "spam@roska.example" and first.spam
    assert first.id in _ids(session, "spam") and first.id not in _ids(session, "active")

    # A new mail from the same sender, and one from another address at the same domain.
    dovecot.append(user.name, mail(subject="Lisää tarjouksia", sender=("", "Spam@Roska.example")))
    dovecot.append(user.name, mail(subject="Toinen", sender=("", "muu@roska.example")))
    assert fetch_once().counts.imported == 2
    new = session.exec(select(Ticket).where(Ticket.subject == "Lisää tarjouksia")).one()
    other = session.exec(select(Ticket).where(Ticket.subject == "Toinen")).one()
    assert new.spam and not other.spam  # the address only, not the domain
    assert new.id in _ids(session, "spam") and new.id not in _ids(session, "")
    stored = session.exec(select(Message).where(Message.ticket_id == new.id)).one()
    assert stored.raw_sha256 and "tarjouksia" in stored.subject  # nothing lost
    assert session.exec(select(OutboundMail)).all() == []  # no answer of any kind

    # A reply from the blocked sender into a closed spam ticket stays in spam, closed.
    closed = session.get(Ticket, new.id)
    assert closed is not None
    closed.status = TicketStatus.closed
    session.add(closed)
    session.commit()
    reply_to = stored.message_id
    dovecot.append(
        user.name,
        mail(
            subject="Re: Lisää tarjouksia", sender=("", "spam@roska.example"), in_reply_to=reply_to
        ),
    )
    assert fetch_once().counts.threaded == 1
    session.refresh(closed)
    assert closed.spam and closed.status == TicketStatus.closed and closed.message_count == 2

    # Unblocked: the next mail comes to the inbox; "not spam" moves the old ticket back.
    assert block.id is not None
    spam.unblock(session, block_id=block.id, by=admin)
    dovecot.append(user.name, mail(subject="Oikea kysymys", sender=("", "spam@roska.example")))
    assert fetch_once().counts.imported == 1
    asked = session.exec(select(Ticket).where(Ticket.subject == "Oikea kysymys")).one()
    assert not asked.spam and asked.id in _ids(session, "active")
    spam.set_spam(session, ticket=first, spam=False, by=admin)
    assert first.id in _ids(session, "active")


def test_domain_block_and_a_customer_reply_waking_a_snoozed_ticket(
    session: Session, data_dir: Path, dovecot: DovecotServer, mail_user: MakeUser, admin
) -> None:
    user = mail_user("info")
    factories.imap_mailbox(session, user)
    dovecot.append(user.name, mail(subject="Mainos", sender=("", "a@mainos.example")))
    dovecot.append(user.name, mail(subject="Kysymys", sender=("", "liisa@example.fi")))
    assert fetch_once().counts.imported == 2
    ad = session.exec(select(Ticket).where(Ticket.subject == "Mainos")).one()
    asked = session.exec(select(Ticket).where(Ticket.subject == "Kysymys")).one()
    spam.block_sender(session, ticket=ad, scope="domain", by=admin)
    snooze.snooze(session, ticket=asked, until=utcnow() + timedelta(days=2), by=admin)
    assert asked.id not in _ids(session, "active")

    question = session.exec(select(Message).where(Message.ticket_id == asked.id)).one()
    dovecot.append(user.name, mail(subject="Uusi", sender=("", "b@MAINOS.example")))
    dovecot.append(
        user.name,
        mail(
            subject="Re: Kysymys", sender=("", "liisa@example.fi"), in_reply_to=question.message_id
        ),
    )
    counts = fetch_once().counts
    assert (counts.imported, counts.threaded) == (2, 1)
    second = session.exec(select(Ticket).where(Ticket.subject == "Uusi")).one()
    assert second.spam
    session.refresh(asked)
    assert snooze.is_back(asked) and asked.id in _ids(session, "active")
    assert spam.blocked_among(session, ["x@mainos.example", "y@example.fi"]) == {"x@mainos.example"}
    spam_ids = {t.id for t in session.exec(select(Ticket).where(col(Ticket.spam).is_(True)))}
    assert spam_ids == {ad.id, second.id}
