"""Email dispatch end to end: Netvisor PDF → outbox → real SMTP → Dovecot, finalise, notice."""

from __future__ import annotations

import email
import os
import subprocess
import sys
from datetime import timedelta
from email.message import Message as EmailMessage
from pathlib import Path

import factories
import pytest
from invoice_dispatch import (
    add_invoice,
    clients,
    customer,
    dispatch_of,
    etunnus_user,
    run_steps,
    synced,
)
from outbox_helpers import wired_mailbox
from sqlmodel import Session, select

from helpdesk.db import new_session
from helpdesk.mail.outbound.outbox import flush_due
from helpdesk.models import AuditEvent, OutboundMail, Ticket, TicketLink, utcnow
from helpdesk.workqueue import CRASH_ENV
from plugins.invoices.dispatch import start_dispatch
from plugins.invoices.dispatch.runner import run_due
from plugins.invoices.models import CommentState, InvoiceEvent, NetvisorComment
from plugins.invoices.sandboxes.netvisor.answers import invoice_pdf

pytestmark = pytest.mark.dovecot
ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def world(bare_sandbox, smtp_server, mail_user, invoice_settings_env, data_dir):
    """Mail users, laskut@ and asiakaspalvelu@ wired to the test servers, the settings."""
    users = {
        name: mail_user(name) for name in ("laskut", "asiakaspalvelu", "vastaanottaja", "tiina")
    }
    invoice_settings_env.setenv("HELPDESK_INVOICES_SENDER_MAILBOX", users["laskut"].address)
    invoice_settings_env.setenv("HELPDESK_INVOICES_NOTIFY_MAILBOX", users["asiakaspalvelu"].address)
    invoice_settings_env.setenv("HELPDESK_NETVISOR_URL", bare_sandbox.url)
    return users


def _setup(session: Session, world, sandbox, smtp_server):
    wired_mailbox(session, smtp_server, world["laskut"], display_name="E-tunnus laskutus")
    wired_mailbox(session, smtp_server, world["asiakaspalvelu"])
    etunnus_user(session, world["tiina"].address)
    added = add_invoice(sandbox, "email", buyer=customer(email=world["vastaanottaja"].address))
    invoice = synced(session, sandbox, added.invoice_number)
    return added, invoice


def _pdf_of(raw: bytes) -> bytes:
    parsed = email.message_from_bytes(raw)
    parts = [p for p in parsed.walk() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


def _text(raw: bytes) -> str:
    parsed: EmailMessage = email.message_from_bytes(raw)
    for part in parsed.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""


def test_email_dispatch_end_to_end(session, world, bare_sandbox, smtp_server, dovecot):
    added, invoice = _setup(session, world, bare_sandbox, smtp_server)
    agent = factories.agent(session, name="Anna Agentti")
    dispatch = start_dispatch(session, invoice=invoice, agent=agent)
    assert (dispatch.state, dispatch.mode, invoice.status) == ("queued", "email", "dispatching")

    run_steps(session, clients(bare_sandbox))

    # The invoice reached the recipient's mailbox once, with the PDF byte for byte.
    [delivered] = dovecot.fetch_all(world["vastaanottaja"].name)
    assert _pdf_of(delivered) == invoice_pdf(added)
    assert email.message_from_bytes(delivered)["From"].endswith(f"<{world['laskut'].address}>")
    # ... and a copy sits in laskut@'s Sent folder.
    assert len(dovecot.fetch_all(world["laskut"].name, "Sent")) == 1
    # Netvisor finalised exactly once, with one comment line saying how, when and by whom.
    assert bare_sandbox.state.status_changes == [(added.netvisor_key, "unsent", "open")]
    [comment] = bare_sandbox.state.comments(added.netvisor_key)
    assert comment.startswith(f"Lähetetty sähköpostilla {world['vastaanottaja'].address} ")
    assert comment.endswith("/ Anna Agentti (E-tunnus helpdesk)")
    # The user was told, from asiakaspalvelu@, and the notice is in a ticket on their page.
    [notice] = dovecot.fetch_all(world["tiina"].name)
    body = _text(notice)
    assert f"Laskusi {invoice.number} on lähetetty asiakkaallesi sähköpostilla osoitteeseen" in body
    assert world["vastaanottaja"].address in body
    dispatch = dispatch_of(session, invoice)
    assert dispatch.state == "user_notified" and dispatch.sent_at and dispatch.finalised_at
    ticket = session.get(Ticket, dispatch.notice_ticket_id)
    assert ticket.user_id == invoice.user_id and ticket.mailbox_id is not None
    assert session.exec(
        select(TicketLink).where(TicketLink.ticket_id == ticket.id, TicketLink.kind == "invoice")
    ).one().target == str(invoice.id)
    session.refresh(invoice)
    assert (invoice.status, invoice.netvisor_status) == ("finalised", "open")
    # Every step is in the invoice's history and the audit log.
    actions = [
        e.details.get("action")
        for e in session.exec(select(InvoiceEvent).where(InvoiceEvent.invoice_id == invoice.id))
        if e.kind == "dispatch"
    ]
    assert actions == ["start", "queued_mail", "sent", "finalised", "user_notified"]
    audited = {a.action for a in session.exec(select(AuditEvent))}
    assert {"invoices.dispatch.start", "invoices.dispatch.finalised"} <= audited
    # Running the worker again changes nothing and sends nothing.
    run_steps(session, clients(bare_sandbox), rounds=2)
    assert len(smtp_server.received) == 2
    assert len(bare_sandbox.state.comments(added.netvisor_key)) == 1


def test_netvisor_failed_on_finalise_is_retried_without_resending(
    session, world, bare_sandbox, smtp_server, dovecot
):
    added, invoice = _setup(session, world, bare_sandbox, smtp_server)
    start_dispatch(session, invoice=invoice, agent=factories.agent(session))
    used = clients(bare_sandbox)
    run_due(session, clients=used)  # PDF fetched, mail queued
    flush_due(session=session)  # the mail goes out
    bare_sandbox.state.fail_next("updatesalesinvoicestatus", "TECHNICAL_ERROR")

    run_due(session, clients=used, now=utcnow() + timedelta(seconds=5))
    dispatch = dispatch_of(session, invoice)
    assert dispatch.state == "sent" and dispatch.finalise_attempts == 1
    assert "TECHNICAL_ERROR" in (dispatch.error or "") or dispatch.error
    assert dispatch.next_attempt_at > utcnow()  # backoff
    assert bare_sandbox.state.status_changes == []

    run_due(session, clients=used, now=utcnow() + timedelta(hours=1))
    flush_due(session=session)
    dispatch = dispatch_of(session, invoice)
    assert dispatch.state == "user_notified"
    assert bare_sandbox.state.status_changes == [(added.netvisor_key, "unsent", "open")]
    invoice_mails = session.exec(select(OutboundMail).where(OutboundMail.kind == "invoice")).all()
    assert len(invoice_mails) == 1
    assert len(dovecot.fetch_all(world["vastaanottaja"].name)) == 1


def test_comment_failed_is_repeated_once_and_a_timeout_never(
    session, world, bare_sandbox, smtp_server
):
    added, invoice = _setup(session, world, bare_sandbox, smtp_server)
    start_dispatch(session, invoice=invoice, agent=factories.agent(session))
    bare_sandbox.state.fail_next("salesinvoicecomment", "INVALID_DATA")
    run_steps(session, clients(bare_sandbox), rounds=3)
    comment = session.exec(select(NetvisorComment)).one()
    assert comment.state == CommentState.done and comment.attempts == 2
    assert len(bare_sandbox.state.comments(added.netvisor_key)) == 1
    # A finalise stays finalised whatever happens to the comment.
    assert dispatch_of(session, invoice).finalised_at is not None


def _env(committed_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HELPDESK_DATABASE_URL": committed_url,
        "HELPDESK_DATA_DIR": str(data_dir),
        **extra,
    }


@pytest.mark.slow
def test_worker_killed_after_smtp_acceptance_sends_the_invoice_once(
    committed_url, world, bare_sandbox, smtp_server, dovecot, data_dir
):
    with new_session() as session:
        added, invoice = _setup(session, world, bare_sandbox, smtp_server)
        invoice_id = invoice.id
        start_dispatch(session, invoice=invoice, agent=factories.agent(session))
        run_due(session, clients=clients(bare_sandbox))  # the mail is queued
    killed = subprocess.run(
        [sys.executable, "-m", "helpdesk", "worker", "--once"],
        env=_env(committed_url, data_dir, **{CRASH_ENV: "outbox:after-accept"}),
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    assert len(smtp_server.received) == 1

    with new_session() as session:
        flush_due(session=session)  # the restarted worker finishes the dead one's mail
        run_steps(session, clients(bare_sandbox))
        assert dispatch_of(session, invoice_id).state == "user_notified"
    assert len(dovecot.fetch_all(world["vastaanottaja"].name)) == 1
    assert bare_sandbox.state.status_changes == [(added.netvisor_key, "unsent", "open")]


@pytest.mark.slow
def test_worker_killed_after_queueing_the_mail_does_not_queue_it_again(
    committed_url, world, bare_sandbox, smtp_server, dovecot, data_dir
):
    with new_session() as session:
        _added, invoice = _setup(session, world, bare_sandbox, smtp_server)
        invoice_id = invoice.id
        start_dispatch(session, invoice=invoice, agent=factories.agent(session))
    killed = subprocess.run(
        [sys.executable, "-m", "helpdesk", "invoices", "dispatch-steps"],
        env=_env(committed_url, data_dir, **{CRASH_ENV: "dispatch:after-queue-mail"}),
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    with new_session() as session:
        run_steps(session, clients(bare_sandbox))
        assert dispatch_of(session, invoice_id).state == "user_notified"
        assert (
            len(session.exec(select(OutboundMail).where(OutboundMail.kind == "invoice")).all()) == 1
        )
    assert len(dovecot.fetch_all(world["vastaanottaja"].name)) == 1
