"""The outbox's API as a plugin uses it: a ticket's subject tag, where a queued mail is."""

from __future__ import annotations

import factories
from sqlalchemy import update
from sqlmodel import Session, col

from helpdesk.models import DeliveryStatus, OutboundMail
from helpdesk.services import outgoing


def test_ticket_subject_tags_the_ticket_number(session: Session) -> None:
    ticket = factories.ticket(session)
    subject = outgoing.ticket_subject("Laskusi on lähetetty", ticket)
    assert subject == f"Laskusi on lähetetty [#{ticket.number}]"


def test_delivery_follows_the_mail_and_only_a_failed_one_is_sent_again(
    session: Session, data_dir
) -> None:
    mailbox = factories.mailbox(session)
    mail = outgoing.queue_mail(
        session, mailbox=mailbox, to=["asiakas@example.com"], subject="Hei", text="Hei.\n"
    )
    assert mail.id is not None
    assert outgoing.delivery(session, mail.id) == outgoing.Delivery(DeliveryStatus.queued)
    assert not outgoing.retry_failed(session, outbound_id=mail.id, agent=None)

    # The outbox worker gives up on it, in a statement this session has not seen.
    session.exec(
        update(OutboundMail)
        .where(col(OutboundMail.id) == mail.id)
        .values(status=DeliveryStatus.failed, last_error="550 no such user")
    )
    failed = outgoing.delivery(session, mail.id)
    assert failed == outgoing.Delivery(DeliveryStatus.failed, error="550 no such user")

    assert outgoing.retry_failed(session, outbound_id=mail.id, agent=None)
    assert outgoing.delivery(session, mail.id) == outgoing.Delivery(DeliveryStatus.queued)
    assert outgoing.delivery(session, mail.id + 1000) is None
