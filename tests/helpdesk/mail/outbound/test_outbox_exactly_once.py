"""Exactly once with committed data: a worker killed after SMTP acceptance, workers racing."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import factories
import pytest
from outbox_helpers import wired_mailbox
from sqlmodel import select

from helpdesk.db import new_session
from helpdesk.mail.outbound.outbox import flush_due
from helpdesk.models import OutboundMail
from helpdesk.services import replies
from helpdesk.workqueue import CRASH_ENV

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[4]


def _queue_replies(smtp_server, customer, count: int) -> list[str]:
    with new_session() as session:
        mailbox = wired_mailbox(session, smtp_server, None)
        agent = factories.agent(session)
        ticket = factories.ticket(session, mailbox=mailbox, customer=customer.address)
        ids = []
        for n in range(count):
            message = replies.reply(
                session, ticket=ticket, agent=agent, body=f"Vastaus {n}", confirm=True
            )
            ids.append(f"<{message.message_id}>")
        return ids


def test_worker_killed_after_smtp_acceptance_does_not_send_twice(
    committed_url, smtp_server, mail_user, dovecot, data_dir
):
    customer = mail_user("asiakas")
    [message_id] = _queue_replies(smtp_server, customer, 1)
    env = {
        **os.environ,
        "HELPDESK_DATABASE_URL": committed_url,
        "HELPDESK_DATA_DIR": str(data_dir),
        CRASH_ENV: "outbox:after-accept",
    }
    worker = subprocess.run(
        [sys.executable, "-m", "helpdesk", "outbox", "flush"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert worker.returncode == -9, worker.stderr.decode()
    assert len(smtp_server.received) == 1
    with new_session() as session:
        row = session.exec(select(OutboundMail)).one()
        assert row.status == "sending" and row.smtp_accepted_at is not None

    summary = flush_due()  # the restarted worker: the dead one's pid is gone
    assert (summary.recovered, summary.claimed) == (1, 0)
    assert len(smtp_server.received) == 1
    assert [
        email.message_from_bytes(r)["Message-ID"] for r in dovecot.fetch_all(customer.name)
    ] == [message_id]
    with new_session() as session:
        assert session.exec(select(OutboundMail)).one().status == "sent"


def test_concurrent_workers_send_each_mail_once(
    committed_url, smtp_server, mail_user, dovecot, data_dir
):
    customer = mail_user("asiakas")
    expected = _queue_replies(smtp_server, customer, 12)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            flush_due(worker_id=name, limit=5)
            flush_due(worker_id=name, limit=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    flush_due()  # whatever the racing rounds left
    sent = Counter(email.message_from_bytes(m.data)["Message-ID"] for m in smtp_server.received)
    assert sorted(sent) == sorted(expected)
    assert set(sent.values()) == {1}
