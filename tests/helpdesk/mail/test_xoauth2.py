"""XOAUTH2 mailboxes against real servers: Dovecot's oauth2 passdb and an SMTP server that
takes XOAUTH2 only, both checking tokens at the local OAuth server's introspection."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import factories
import pytest
from dovecot_server import DovecotServer
from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from mailgen import mail
from oauth_mailboxes import oauth_mailbox, oauth_user
from oauth_server import OAuthServer
from smtp_server import SmtpServer
from sqlmodel import Session, select

from helpdesk.mail.inbound.watch import MailboxWatcher, fetch_once, fetchable
from helpdesk.mail.outbound.outbox import flush_due
from helpdesk.models import DeliveryStatus, MailboxOAuth, OAuthStatus, OutboundMail, Ticket
from helpdesk.services import replies
from helpdesk.services.oauth import grants

pytestmark = pytest.mark.dovecot


def test_dovecot_takes_xoauth2_and_oauthbearer_and_refuses_a_dead_token(
    oauth_server: OAuthServer, oauth_dovecot: DovecotServer
) -> None:
    user = oauth_user(oauth_dovecot)
    token = oauth_server.issue_access_token(user.name)
    for mechanism in ("XOAUTH2", "OAUTHBEARER"):
        client = IMAPClient(user.host, user.port, ssl=False, timeout=10)
        if mechanism == "XOAUTH2":
            client.oauth2_login(user.name, token)
        else:
            client.oauthbearer_login(user.name, token)
        assert client.select_folder("INBOX")
        client.logout()
    oauth_server.expire_access_tokens(user.name)
    client = IMAPClient(user.host, user.port, ssl=False, timeout=10)
    with pytest.raises(LoginError):
        client.oauth2_login(user.name, token)
    client.shutdown()
    other = oauth_server.issue_access_token("someone-else")
    client = IMAPClient(user.host, user.port, ssl=False, timeout=10)
    with pytest.raises(LoginError):  # a good token of another account
        client.oauth2_login(user.name, other)
    client.shutdown()


def test_fetching_refreshes_once_and_again_when_the_token_ends_between_fetches(
    session: Session,
    data_dir: Path,
    oauth_server: OAuthServer,
    oauth_dovecot: DovecotServer,
) -> None:
    user = oauth_user(oauth_dovecot)
    box = oauth_mailbox(session, oauth_server, user)
    oauth_dovecot.append(user.name, mail(subject="Ensimmäinen"))

    assert fetch_once().mailboxes == {box.address: "ok"}
    assert oauth_server.refreshes() == 1
    oauth_dovecot.append(user.name, mail(subject="Toinen"))
    assert fetch_once().counts.imported == 1
    assert oauth_server.refreshes() == 1  # the cached token served the second login

    # The provider ends the token before its time: the login is refused, one refresh.
    oauth_server.expire_access_tokens(user.name)
    oauth_dovecot.append(user.name, mail(subject="Kolmas"))
    assert fetch_once().counts.imported == 1
    assert oauth_server.refreshes() == 2
    subjects = sorted(t.subject for t in session.exec(select(Ticket)))
    assert subjects == ["Ensimmäinen", "Kolmas", "Toinen"]


def test_a_rotated_refresh_token_is_kept_and_the_old_one_is_dead(
    session: Session,
    data_dir: Path,
    oauth_server: OAuthServer,
    oauth_dovecot: DovecotServer,
) -> None:
    oauth_server.rotate = True
    user = oauth_user(oauth_dovecot)
    box = oauth_mailbox(session, oauth_server, user)
    oauth = grants.require_oauth(session, box)
    first = grants.refresh_token(oauth)

    assert fetch_once().mailboxes == {box.address: "ok"}
    session.refresh(oauth)
    second = grants.refresh_token(oauth)
    assert second != first and oauth_server.active_refresh_tokens(user.name) == [second]

    oauth_server.expire_access_tokens(user.name)
    assert fetch_once().mailboxes == {box.address: "ok"}
    session.refresh(oauth)
    assert grants.refresh_token(oauth) not in (first, second)
    assert oauth.status == OAuthStatus.ok


def _reply(session: Session, box, customer: str) -> OutboundMail:
    ticket = factories.ticket(session, mailbox=box, customer=customer, subject="Lasku")
    agent = factories.agent(session)
    message = replies.reply(session, ticket=ticket, agent=agent, body="Hei,\n\nlasku lähti.")
    return session.exec(select(OutboundMail).where(OutboundMail.message_row_id == message.id)).one()


def test_smtp_sends_with_xoauth2_and_the_sent_copy_goes_over_imap(
    session: Session,
    data_dir: Path,
    oauth_server: OAuthServer,
    oauth_dovecot: DovecotServer,
    oauth_smtp: SmtpServer,
) -> None:
    user, customer = oauth_user(oauth_dovecot), oauth_user(oauth_dovecot, "asiakas")
    box = oauth_mailbox(session, oauth_server, user, oauth_smtp, sent_folder="Sent")
    _reply(session, box, customer.address)

    summary = flush_due(session=session)

    assert (summary.sent, summary.copies, summary.errors) == (1, 1, [])
    [received] = oauth_smtp.received
    assert received.login == user.name
    assert len(oauth_dovecot.fetch_all(customer.name)) == 1
    assert len(oauth_dovecot.fetch_all(user.name, "Sent")) == 1
    assert oauth_server.refreshes() == 1  # SMTP and IMAP shared the cached token

    # The token ends early: the SMTP server refuses it, one refresh, the mail goes.
    oauth_server.expire_access_tokens(user.name)
    _reply(session, box, customer.address)
    summary = flush_due(session=session)
    assert (summary.sent, summary.errors) == (1, [])
    assert oauth_server.refreshes() == 2
    assert len(oauth_dovecot.fetch_all(customer.name)) == 2


def test_the_smtp_server_refuses_anything_but_a_live_token(
    oauth_server: OAuthServer, oauth_dovecot: DovecotServer, oauth_smtp: SmtpServer
) -> None:
    import smtplib

    user = oauth_user(oauth_dovecot)
    with smtplib.SMTP(oauth_smtp.host, oauth_smtp.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.esmtp_features["auth"].split() == ["XOAUTH2"]
        with pytest.raises(smtplib.SMTPException, match="No suitable authentication"):
            smtp.login(user.name, user.password)
        dead = base64.b64encode(f"user={user.name}\x01auth=Bearer nope\x01\x01".encode())
        code, _ = smtp.docmd("AUTH", "XOAUTH2 " + dead.decode())
        assert code == 334  # the error as a challenge (RFC 7628)
        assert smtp.docmd("")[0] == 535


def test_invalid_grant_pauses_the_mailbox_and_its_mail_waits_for_the_reconnect(
    session: Session,
    data_dir: Path,
    oauth_server: OAuthServer,
    oauth_dovecot: DovecotServer,
    oauth_smtp: SmtpServer,
) -> None:
    user, customer = oauth_user(oauth_dovecot), oauth_user(oauth_dovecot, "asiakas")
    box = oauth_mailbox(session, oauth_server, user, oauth_smtp)
    healthy = oauth_mailbox(session, oauth_server, oauth_user(oauth_dovecot), oauth_smtp)
    admin = factories.agent(session, admin=True, language="en")
    oauth_smtp.route(admin.email, customer.name)  # the admins' notice lands with the customer
    oauth_server.revoke(user.name)  # the admin withdrew consent at the provider
    row = _reply(session, box, customer.address)
    other = _reply(session, healthy, customer.address)

    summary = flush_due(session=session)

    assert (summary.sent, summary.waiting, summary.failed) == (1, 1, 0)  # the other went
    session.refresh(row)
    assert row.status == DeliveryStatus.queued and row.attempts == 0
    assert "connected again" in (row.last_error or "")
    session.refresh(other)
    assert other.status == DeliveryStatus.sent
    oauth = grants.require_oauth(session, box)
    session.refresh(oauth)
    assert oauth.status == OAuthStatus.needs_reconnect
    assert "invalid_grant" in (oauth.status_reason or "")
    assert grants.refresh_token(oauth) is None  # the dead token is not kept
    assert [m.id for m, _ in grants.needing_reconnect(session)] == [box.id]
    assert box.id not in [m.id for m in fetchable(session)]

    # The admins hear of it by mail, through the mailbox that still works.
    notice = session.exec(select(OutboundMail).where(OutboundMail.kind == "notice")).one()
    assert notice.mailbox_id == healthy.id and notice.recipients == [admin.email]
    assert notice.subject == f"Mailbox {box.address} must be connected again"
    assert flush_due(session=session).sent == 1

    # No tight loop: later flushes and fetches leave it alone, without asking the provider.
    asked = len(oauth_server.requests)
    for _ in range(3):
        assert flush_due(session=session).claimed == 0
    assert fetch_once(box.address).mailboxes == {}
    assert len(oauth_server.requests) == asked

    # An admin connects it again: the reply goes at once.
    grants.save_grant(
        session,
        mailbox=box,
        grant=grants.Grant(oauth_server.issue_grant(user.name), account=user.name),
    )
    summary = flush_due(session=session)
    assert summary.sent == 1
    session.refresh(row)
    assert row.status == DeliveryStatus.sent
    assert len(oauth_dovecot.fetch_all(customer.name)) == 3  # two replies and the notice
    assert session.get(MailboxOAuth, oauth.id).status == OAuthStatus.ok


def test_a_watcher_stops_for_a_refused_grant_and_is_not_started_again(
    session: Session,
    data_dir: Path,
    oauth_server: OAuthServer,
    oauth_dovecot: DovecotServer,
) -> None:
    user = oauth_user(oauth_dovecot)
    box = oauth_mailbox(session, oauth_server, user)
    oauth_server.fail_next_refresh("invalid_grant")
    stop = threading.Event()
    guard = threading.Timer(30, stop.set)  # a watcher that loops would be stopped here
    guard.start()
    try:
        MailboxWatcher(box.id, stop).run()  # returns by itself: no retry loop
    finally:
        guard.cancel()
    assert not stop.is_set()
    session.refresh(box)
    assert "invalid_grant" in (box.last_error or "")
    assert box.id not in [m.id for m in fetchable(session)]  # the worker starts none
    assert oauth_server.refreshes() == 1
