"""The outbox on the work queue: no transaction open during SMTP or IMAP, and a worker
that lost its claim mid-send records the server's acceptance but nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import factories
import pytest
from outbox_helpers import wired_mailbox
from sqlalchemy import update
from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.mail.outbound import outbox, sent_folder
from helpdesk.models import DeliveryStatus, Message, OutboundMail, utcnow
from helpdesk.services import replies

pytestmark = pytest.mark.dovecot


def _outbound(session: Session, message: Message) -> OutboundMail:
    row = session.exec(select(OutboundMail).where(OutboundMail.message_row_id == message.id)).one()
    session.refresh(row)
    return row


def _watch(
    monkeypatch: pytest.MonkeyPatch, session: Session, calls: list[tuple[str, bool]]
) -> None:
    """Note, for each SMTP and IMAP call, whether the session had a transaction open."""

    def watched(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append((name, session.in_transaction()))
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(outbox, "send_raw", watched("send_raw", outbox.send_raw))
    for name in ("was_sent", "keep_copy"):
        monkeypatch.setattr(sent_folder, name, watched(name, getattr(sent_folder, name)))


def test_no_transaction_is_open_during_smtp_and_imap(
    session, smtp_server, mail_user, dovecot, data_dir, monkeypatch
):
    box_user, customer = mail_user("asiakaspalvelu"), mail_user("asiakas")
    mailbox = wired_mailbox(session, smtp_server, box_user)
    ticket = factories.ticket(session, mailbox=mailbox, customer=customer.address)
    agent = factories.agent(session)
    replies.reply(session, ticket=ticket, agent=agent, body="Ensimmäinen")
    stale = replies.reply(session, ticket=ticket, agent=agent, body="Toinen", confirm=True)
    row = _outbound(session, stale)
    long_ago = utcnow() - timedelta(hours=1)
    row.status, row.claimed_by = DeliveryStatus.sending, "dead:1:x"
    row.claimed_at, row.claimed_until = long_ago, long_ago + outbox.OUTBOX.lease
    session.add(row)
    session.commit()
    calls: list[tuple[str, bool]] = []
    _watch(monkeypatch, session, calls)

    summary = outbox.flush_due(session=session)
    assert (summary.recovered, summary.sent, summary.copies, summary.errors) == (1, 2, 2, [])
    assert sorted(name for name, _ in calls) == sorted(
        ["send_raw", "keep_copy", "was_sent", "send_raw", "keep_copy"]
    )
    assert not any(open_ for _, open_ in calls)


def test_a_worker_that_lost_its_claim_mid_send_never_lets_the_mail_go_twice(
    session, smtp_server, mail_user, dovecot, data_dir, monkeypatch
):
    customer = mail_user("asiakas")
    mailbox = wired_mailbox(session, smtp_server, None)
    ticket = factories.ticket(session, mailbox=mailbox, customer=customer.address)
    reply = replies.reply(session, ticket=ticket, agent=factories.agent(session), body="Hei")
    real_send = outbox.send_raw

    def slow_send(*args: Any, **kwargs: Any) -> Any:
        # The SMTP server takes so long that the worker's lease runs out: another worker
        # takes the row over and, not knowing its fate, queues it to be reconciled.
        with transaction(session):
            session.exec(
                update(OutboundMail)
                .where(col(OutboundMail.message_row_id) == reply.id)
                .values(
                    claimed_by=None,
                    claimed_until=None,
                    status=DeliveryStatus.queued,
                    reconcile=True,
                )
            )
        return real_send(*args, **kwargs)

    monkeypatch.setattr(outbox, "send_raw", slow_send)
    summary = outbox.flush_due(session=session)
    assert (summary.claimed, summary.sent) == (1, 0)
    assert [e for e in summary.errors if "taken over" in e]
    row = _outbound(session, reply)
    # The server's acceptance is recorded; the rest is left to the row's new holder.
    assert row.smtp_accepted_at is not None
    assert (row.status, row.reconcile, row.claimed_by) == ("queued", True, None)

    monkeypatch.setattr(outbox, "send_raw", real_send)
    assert outbox.flush_due(session=session).sent == 1
    assert len(smtp_server.received) == 1  # finished, not sent again
    assert _outbound(session, reply).status == "sent"
    session.refresh(reply)
    assert reply.delivery_status == "sent"
