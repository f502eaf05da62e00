"""A mailbox's OAuth client and grant: set up, connect (save a grant), needs reconnect.

Secrets (the client secret, the refresh token, the cached access token) are sealed with
``helpdesk.crypto`` before they reach the session and opened only where a token is used;
nothing readable lands in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from helpdesk.crypto import seal, unseal
from helpdesk.db import reread, transaction
from helpdesk.i18n import N_
from helpdesk.models import (
    Agent,
    Mailbox,
    MailboxAuth,
    MailboxOAuth,
    OAuthProvider,
    OAuthStatus,
    utcnow,
)
from helpdesk.services import audit, mailboxes, outgoing
from helpdesk.services.errors import NotFound, ServiceError
from helpdesk.services.oauth import providers
from helpdesk.services.oauth.providers import Endpoints, endpoints

#: Longest reason kept for a grant that needs a reconnect (the column's size).
REASON_MAX = 2000


@dataclass(frozen=True)
class Grant:
    """What a token endpoint gave for a mailbox (the connect flow, a refresh, the CLI)."""

    refresh_token: str
    access_token: str | None = None
    expires_at: datetime | None = None
    #: The account that signed in (from the ID token's email, or given by the admin).
    account: str | None = None


def oauth_of(session: Session, mailbox: Mailbox | int) -> MailboxOAuth | None:
    """The mailbox's OAuth row, if it has one."""
    mailbox_id = mailbox if isinstance(mailbox, int) else mailbox.id
    return session.exec(select(MailboxOAuth).where(MailboxOAuth.mailbox_id == mailbox_id)).first()


def all_oauth(session: Session) -> list[MailboxOAuth]:
    """Every mailbox's OAuth row (for lists)."""
    return list(session.exec(select(MailboxOAuth)))


def require_oauth(session: Session, mailbox: Mailbox | int) -> MailboxOAuth:
    row = oauth_of(session, mailbox)
    if row is None:
        raise NotFound(N_("This mailbox has no OAuth settings"))
    return row


def configure(
    session: Session,
    *,
    mailbox: Mailbox,
    provider: OAuthProvider | str,
    client_id: str,
    client_secret: str | None = None,
    tenant: str | None = None,
    authorize_url: str | None = None,
    token_url: str | None = None,
    scopes: str | None = None,
    by: Agent | None = None,
) -> MailboxOAuth:
    """Make ``mailbox`` sign in with XOAUTH2 through this OAuth client; commits.

    A blank ``client_secret`` keeps the stored one. Changing the provider, tenant, client
    or endpoints drops the grant: the old refresh token belongs to the old client.
    """
    found = endpoints(
        provider, tenant=tenant, authorize_url=authorize_url, token_url=token_url, scopes=scopes
    )
    client_id = client_id.strip()
    if not client_id or len(client_id) > 500:
        raise ServiceError(N_("The OAuth client id is required"), field="client_id")
    with transaction(session):
        reread(session, mailbox)
        row = oauth_of(session, mailbox)
        if row is None:
            assert mailbox.id is not None
            row = MailboxOAuth(
                mailbox_id=mailbox.id,
                provider=OAuthProvider(provider),
                client_id=client_id,
                authorize_url=found.authorize_url,
                token_url=found.token_url,
            )
        before = (row.provider, row.tenant, row.client_id, row.token_url, row.authorize_url)
        row.provider = OAuthProvider(provider)
        row.tenant = (tenant or "").strip() or None
        row.client_id = client_id
        row.authorize_url = found.authorize_url
        row.token_url = found.token_url
        row.scopes = found.scope
        if client_secret:
            row.client_secret_sealed = seal(client_secret)
        after = (row.provider, row.tenant, row.client_id, row.token_url, row.authorize_url)
        if row.id is not None and before != after:
            _forget_grant(row, N_("The OAuth client changed: connect the mailbox again"))
        row.updated_at = utcnow()
        mailbox.auth = MailboxAuth.xoauth2
        session.add(row)
        session.add(mailbox)
        session.flush()
        audit.record(
            session,
            action="mailbox.oauth_configure",
            agent=by,
            object_type="mailbox",
            object_id=mailbox.id,
            provider=str(row.provider),
        )
    return row


@dataclass(frozen=True)
class OAuthClient:
    """An OAuth client as an admin gives it (``configure``'s arguments, for one call)."""

    provider: OAuthProvider | str
    client_id: str
    client_secret: str | None = None
    tenant: str | None = None
    authorize_url: str | None = None
    token_url: str | None = None
    scopes: str | None = None


def add_xoauth2_mailbox(
    session: Session,
    *,
    address: str,
    client: OAuthClient,
    grant: Grant | None = None,
    by: Agent | None = None,
    **values: Any,
) -> Mailbox:
    """A new mailbox that signs in with XOAUTH2, in one unit (headless set-up; commits).

    IMAP and SMTP servers and user names default to the provider's and the address.
    """
    servers = providers.MAIL_SERVERS.get(OAuthProvider(client.provider))
    if servers is not None:
        (imap_host, imap_port, imap_security), (smtp_host, smtp_port, smtp_security) = servers
        if not values.get("imap_host"):
            values |= {
                "imap_host": imap_host,
                "imap_port": imap_port,
                "imap_security": imap_security,
            }
        if not values.get("smtp_host"):
            values |= {
                "smtp_host": smtp_host,
                "smtp_port": smtp_port,
                "smtp_security": smtp_security,
            }
    values.setdefault("imap_user", None)
    values.setdefault("smtp_user", None)
    values["imap_user"] = values["imap_user"] or address.strip().lower()
    values["smtp_user"] = values["smtp_user"] or address.strip().lower()
    for secret in mailboxes.SECRETS:
        values.pop(secret, None)  # no password for an xoauth2 mailbox
    with transaction(session):
        mailbox = mailboxes.add_mailbox(session, address=address, by=by, **values)
        configure(
            session,
            mailbox=mailbox,
            provider=client.provider,
            client_id=client.client_id,
            client_secret=client.client_secret,
            tenant=client.tenant,
            authorize_url=client.authorize_url,
            token_url=client.token_url,
            scopes=client.scopes,
            by=by,
        )
        if grant is not None:
            save_grant(session, mailbox=mailbox, grant=grant, by=by)
    return mailbox


def save_grant(
    session: Session, *, mailbox: Mailbox | int, grant: Grant, by: Agent | None = None
) -> MailboxOAuth:
    """Store a new grant for the mailbox (connect, reconnect); commits.

    Clears "needs reconnect", so fetching resumes and the outbox's waiting replies go.
    """
    if not grant.refresh_token:
        raise ServiceError(N_("The provider gave no refresh token"), field="refresh_token")
    with transaction(session):
        row = require_oauth(session, mailbox)
        reread(session, row)
        now = utcnow()
        row.refresh_token_sealed = seal(grant.refresh_token)
        _store_access_token(row, grant.access_token, grant.expires_at)
        if grant.account:
            row.account = grant.account.strip()[:254]
        row.status = OAuthStatus.ok
        row.status_reason = None
        row.status_at = now
        row.connected_at = now
        row.updated_at = now
        session.add(row)
        # Replies that waited for the reconnect go now, not at their last backoff's end.
        outgoing.send_waiting_now(session, mailbox_id=row.mailbox_id)
        audit.record(
            session,
            action="mailbox.oauth_connect",
            agent=by,
            object_type="mailbox",
            object_id=row.mailbox_id,
            account=row.account or "",
        )
    return row


def mark_needs_reconnect(session: Session, *, oauth: MailboxOAuth, reason: str) -> MailboxOAuth:
    """The provider refused the grant: pause the mailbox until an admin reconnects; commits."""
    with transaction(session):
        reread(session, oauth)
        _forget_grant(oauth, reason)
        session.add(oauth)
        audit.record(
            session,
            action="mailbox.oauth_needs_reconnect",
            object_type="mailbox",
            object_id=oauth.mailbox_id,
            reason=oauth.status_reason or "",
        )
    return oauth


def needing_reconnect(session: Session) -> list[tuple[Mailbox, MailboxOAuth]]:
    """Active xoauth2 mailboxes whose grant the provider refused (for the admins' banner)."""
    rows = session.exec(
        select(Mailbox, MailboxOAuth)
        .join(MailboxOAuth, MailboxOAuth.mailbox_id == Mailbox.id)  # type: ignore[arg-type]
        .where(
            Mailbox.auth == MailboxAuth.xoauth2,
            Mailbox.active == True,  # noqa: E712 - SQL
            MailboxOAuth.status == OAuthStatus.needs_reconnect,
        )
        .order_by(Mailbox.address)
    ).all()
    return [(mailbox, oauth) for mailbox, oauth in rows]


def save_refreshed(
    session: Session,
    *,
    oauth: MailboxOAuth,
    access_token: str,
    expires_at: datetime | None,
    refresh_token: str | None = None,
) -> None:
    """Keep what a refresh gave: a rotated refresh token and the new access token; commits.

    Called before the access token is used, so a rotated refresh token (the old one now
    dead at the provider) is never lost to a crash in between.
    """
    with transaction(session):
        reread(session, oauth)
        if refresh_token:
            oauth.refresh_token_sealed = seal(refresh_token)
        _store_access_token(oauth, access_token, expires_at)
        oauth.updated_at = utcnow()
        session.add(oauth)


def paused_mailboxes() -> SelectOfScalar[int]:
    """The ids of xoauth2 mailboxes whose grant does not work (not connected, or refused).

    A subquery: their fetching and sending wait (``NOT IN`` it) until a grant is saved.
    """
    return (
        select(MailboxOAuth.mailbox_id)
        .join(Mailbox, Mailbox.id == MailboxOAuth.mailbox_id)  # type: ignore[arg-type]
        .where(Mailbox.auth == MailboxAuth.xoauth2, MailboxOAuth.status != OAuthStatus.ok)
    )


def is_paused(session: Session, mailbox_id: int) -> bool:
    return (
        session.exec(paused_mailboxes().where(MailboxOAuth.mailbox_id == mailbox_id)).first()
        is not None
    )


def endpoints_of(oauth: MailboxOAuth) -> Endpoints:
    """The stored row's endpoints and scopes (the connect flow builds its request from them)."""
    return endpoints(
        oauth.provider,
        tenant=oauth.tenant,
        authorize_url=oauth.authorize_url,
        token_url=oauth.token_url,
        scopes=oauth.scopes,
    )


def client_secret(oauth: MailboxOAuth) -> str | None:
    """The client secret, opened (None for a public client)."""
    return unseal(oauth.client_secret_sealed) if oauth.client_secret_sealed else None


def refresh_token(oauth: MailboxOAuth) -> str | None:
    return unseal(oauth.refresh_token_sealed) if oauth.refresh_token_sealed else None


def cached_access_token(oauth: MailboxOAuth, *, now: datetime, margin: float) -> str | None:
    """The cached access token if it is good for at least ``margin`` seconds more."""
    if not oauth.access_token_sealed or oauth.access_token_expires_at is None:
        return None
    if oauth.access_token_expires_at - timedelta(seconds=margin) <= now:
        return None
    return unseal(oauth.access_token_sealed)


def _store_access_token(
    row: MailboxOAuth, access_token: str | None, expires_at: datetime | None
) -> None:
    # A token without an expiry is not cached: we could not know when it stops working.
    if access_token and expires_at is not None:
        row.access_token_sealed = seal(access_token)
        row.access_token_expires_at = expires_at
    else:
        row.access_token_sealed = None
        row.access_token_expires_at = None


def _forget_grant(row: MailboxOAuth, reason: str) -> None:
    now = utcnow()
    row.refresh_token_sealed = None
    row.access_token_sealed = None
    row.access_token_expires_at = None
    row.status = OAuthStatus.needs_reconnect
    row.status_reason = reason[:REASON_MAX]
    row.status_at = now
    row.updated_at = now
