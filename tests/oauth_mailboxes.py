"""A mailbox that signs in with XOAUTH2 to the OAuth test Dovecot and SMTP servers."""

from __future__ import annotations

import uuid
from typing import Any

import factories
from dovecot_server import DovecotServer, MailUser
from oauth_server import CLIENT_ID, CLIENT_SECRET, OAuthServer
from smtp_server import SmtpServer
from sqlmodel import Session

from helpdesk.models import Mailbox
from helpdesk.services.oauth import grants


def oauth_user(dovecot: DovecotServer, prefix: str = "oauthbox") -> MailUser:
    """An account on the OAuth Dovecot (its password only for the test's own reading)."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex[:10]}"
    dovecot.add_user(name, password)
    return MailUser(name=name, password=password, host=dovecot.host, port=dovecot.port)


def oauth_mailbox(
    session: Session,
    provider: OAuthServer,
    user: MailUser,
    smtp: SmtpServer | None = None,
    *,
    connect: bool = True,
    **values: Any,
) -> Mailbox:
    """An xoauth2 mailbox for ``user`` (no password anywhere), connected unless told not."""
    smtp_fields: dict[str, Any] = {}
    if smtp is not None:
        smtp_fields = {
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_user": user.name,
            "smtp_security": "none",
        }
    mailbox = factories.mailbox(
        session,
        user.address,
        imap_host=user.host,
        imap_port=user.port,
        imap_user=user.name,
        imap_security="none",
        **smtp_fields,
        **values,
    )
    use_test_provider(session, mailbox, provider, account=user.name if connect else None)
    return mailbox


def use_test_provider(
    session: Session, mailbox: Mailbox, provider: OAuthServer, *, account: str | None
) -> None:
    """Make ``mailbox`` sign in through the local OAuth server; connected as ``account``."""
    grants.configure(
        session,
        mailbox=mailbox,
        provider="generic",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_url=provider.token_url,
        authorize_url=provider.authorize_url,
        scopes="mail",
    )
    if account is not None:
        grants.save_grant(
            session,
            mailbox=mailbox,
            grant=grants.Grant(provider.issue_grant(account), account=account),
        )
