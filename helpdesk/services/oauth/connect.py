"""The web connect flow: an admin signs in at the provider and the mailbox gets the grant.

The authorization code flow with PKCE (RFC 6749 section 4.1, RFC 7636 with S256), by
authlib. Three steps, each its own request, and only the first and the last write:

1. :func:`start` (the "Connect" button, a POST): a random state and code verifier are
   kept on the server (``mailbox_oauth_request``: the state as its SHA-256, the verifier
   and the client secret sealed), bound to the admin's login session, good once and for
   :data:`REQUEST_LIFETIME`; the answer is the provider's authorization URL.
2. :func:`pending` (the provider's redirect back, a GET): only reads. The page it feeds
   posts the code and state on, because GETs never write in this app.
3. :func:`complete` (that POST): the request is used up first (compare-and-set), then the
   code is exchanged with no transaction open, the account that signed in is read from
   the ID token and must be the mailbox's own, and only then the client settings and the
   grant are saved in one unit of work (``grants.configure`` and ``grants.save_grant``).

Every refusal is a :class:`ConnectError` naming the mailbox when it is known, so the page
can show it beside the buttons.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from joserfc.errors import JoseError
from joserfc.jws import extract_compact
from sqlmodel import Session, col, delete, select, update

from helpdesk.crypto import UnsealError, seal, unseal
from helpdesk.db import end_read, transaction
from helpdesk.i18n import N_
from helpdesk.models import (
    Agent,
    Mailbox,
    MailboxOAuth,
    MailboxOAuthRequest,
    OAuthProvider,
    utcnow,
)
from helpdesk.services.errors import ServiceError
from helpdesk.services.oauth import grants, tokens
from helpdesk.services.oauth.providers import endpoints
from helpdesk.settings import get_settings

#: Where the provider sends the browser back (``HELPDESK_BASE_URL`` in front).
CALLBACK_PATH = "/oauth/callback"
#: How long a "Connect" press waits for the provider's answer.
REQUEST_LIFETIME = timedelta(minutes=10)
#: Longest state or code we look at; providers' are far shorter.
MAX_PARAM = 4096


class ConnectError(ServiceError):
    """A connect that did not succeed; ``mailbox_id`` says whose page shows it, if known."""

    def __init__(
        self,
        message: str,
        *,
        mailbox_id: int | None = None,
        field: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, code="oauth", field=field, params=params)
        self.mailbox_id = mailbox_id


@dataclass(frozen=True)
class ClientSettings:
    """The OAuth client an admin entered beside a "Connect" button (blank: not given)."""

    provider: str
    client_id: str = ""
    client_secret: str = ""
    tenant: str = ""
    authorize_url: str = ""
    token_url: str = ""
    scopes: str = ""


def redirect_uri() -> str:
    """The redirect URI to register with the provider and to send with each request."""
    return get_settings().base_url.rstrip("/") + CALLBACK_PATH


def start(
    session: Session,
    *,
    mailbox: Mailbox,
    client: ClientSettings,
    agent: Agent,
    login_session_id: int | None,
) -> str:
    """Keep a new sign-in request for ``mailbox``; the provider's URL to send the admin to."""
    if login_session_id is None:
        # An API token has no browser to send to the provider, nor a login to bind to.
        raise ConnectError(
            N_("Connect a mailbox from the browser, logged in"), mailbox_id=mailbox.id
        )
    settings = get_settings()
    if settings.environment == "production" and not settings.base_url.startswith("https://"):
        # The provider would send the admin back to a default or plain-http address.
        raise ConnectError(
            N_(
                "Set HELPDESK_BASE_URL to the helpdesk's https:// address first: the provider "
                "sends the browser back to it"
            ),
            mailbox_id=mailbox.id,
        )
    provider = _provider(client.provider, mailbox)
    generic = provider is OAuthProvider.generic
    microsoft = provider is OAuthProvider.microsoft
    try:
        found = endpoints(
            provider,
            tenant=client.tenant,
            authorize_url=(client.authorize_url if generic else "") or None,
            token_url=(client.token_url if generic else "") or None,
            scopes=(client.scopes if generic else "") or None,
        )
    except ServiceError as exc:
        raise ConnectError(
            exc.message, mailbox_id=mailbox.id, field=exc.field, params=exc.params
        ) from None
    if generic and not client.authorize_url.strip():
        raise ConnectError(
            N_("A generic OAuth provider needs its authorization URL"),
            mailbox_id=mailbox.id,
            field="authorize_url",
        )
    client_id = client.client_id.strip()
    if not client_id or len(client_id) > 500:
        raise ConnectError(
            N_("The OAuth client id is required"), mailbox_id=mailbox.id, field="client_id"
        )
    stored = grants.oauth_of(session, mailbox)
    if (
        not client.client_secret
        and not generic
        and _stored_secret(stored, provider, client_id) is None
    ):
        raise ConnectError(
            N_("Enter the client secret"), mailbox_id=mailbox.id, field="client_secret"
        )
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters; RFC 7636 asks for 43 to 128
    callback = redirect_uri()
    with _client(client_id, provider, secret=None, redirect=callback) as oauth:
        url, _ = oauth.create_authorization_url(
            found.authorize_url,
            state=state,
            code_verifier=verifier,
            scope=found.scope,
            login_hint=mailbox.address,
            **found.authorize_params,
        )
    now = utcnow()
    assert mailbox.id is not None and agent.id is not None
    with transaction(session):
        # Requests that were never answered go with the next press (nobody else reads them).
        session.exec(delete(MailboxOAuthRequest).where(col(MailboxOAuthRequest.expires_at) < now))
        session.add(
            MailboxOAuthRequest(
                state_sha256=_digest(state),
                mailbox_id=mailbox.id,
                agent_id=agent.id,
                agent_session_id=login_session_id,
                code_verifier_sealed=seal(verifier),
                provider=provider.value,
                tenant=(client.tenant.strip() or None) if microsoft else None,
                client_id=client_id,
                client_secret_sealed=seal(client.client_secret) if client.client_secret else None,
                authorize_url=found.authorize_url,
                token_url=found.token_url,
                scopes=found.scope,
                redirect_uri=callback,
                created_at=now,
                expires_at=now + REQUEST_LIFETIME,
            )
        )
    return str(url)


def pending(session: Session, *, state: str, login_session_id: int | None) -> MailboxOAuthRequest:
    """The request ``state`` answers, if this login started it, unused and in time; reads only."""
    if not state or len(state) > MAX_PARAM:
        raise ConnectError(N_("This sign-in is unknown: press Connect again"))
    request = session.exec(
        select(MailboxOAuthRequest).where(MailboxOAuthRequest.state_sha256 == _digest(state))
    ).first()
    if request is None:
        raise ConnectError(N_("This sign-in is unknown: press Connect again"))
    if login_session_id is None or request.agent_session_id != login_session_id:
        raise ConnectError(
            N_("This sign-in was started in another login: press Connect again"),
            mailbox_id=request.mailbox_id,
        )
    if request.used_at is not None:
        raise ConnectError(
            N_("This sign-in was used already: press Connect again"), mailbox_id=request.mailbox_id
        )
    if request.expires_at <= utcnow():
        raise ConnectError(
            N_("The sign-in took longer than %(minutes)s minutes: press Connect again"),
            mailbox_id=request.mailbox_id,
            params={"minutes": int(REQUEST_LIFETIME.total_seconds() // 60)},
        )
    return request


def refused(request: MailboxOAuthRequest, error: str, description: str) -> ConnectError:
    """The provider's own refusal (the admin declined consent, a wrong scope...)."""
    if error == "access_denied":
        return ConnectError(
            N_("Sign-in was cancelled or consent was refused: nothing was changed"),
            mailbox_id=request.mailbox_id,
        )
    return ConnectError(
        N_("The provider refused the sign-in: %(error)s"),
        mailbox_id=request.mailbox_id,
        params={"error": _said(error, description)},
    )


def complete(
    session: Session,
    *,
    state: str,
    code: str,
    agent: Agent,
    login_session_id: int | None,
) -> MailboxOAuth:
    """Exchange the provider's code and save the grant for the request's mailbox; commits."""
    request = pending(session, state=state, login_session_id=login_session_id)
    mailbox_id = request.mailbox_id
    if not code or len(code) > MAX_PARAM:
        raise ConnectError(N_("The provider sent no authorization code"), mailbox_id=mailbox_id)
    mailbox = session.get(Mailbox, mailbox_id)
    if mailbox is None:
        raise ConnectError(N_("This sign-in is unknown: press Connect again"))
    try:
        verifier = unseal(request.code_verifier_sealed)
        given_secret = (
            unseal(request.client_secret_sealed) if request.client_secret_sealed else None
        )
        secret = given_secret or _stored_secret(
            grants.oauth_of(session, mailbox), OAuthProvider(request.provider), request.client_id
        )
    except UnsealError:
        raise ConnectError(
            N_("This sign-in is unknown: press Connect again"), mailbox_id=mailbox_id
        ) from None
    with transaction(session):
        # Used up before the code goes anywhere: a second POST of the same answer fails here.
        taken = session.exec(
            update(MailboxOAuthRequest)
            .where(
                col(MailboxOAuthRequest.id) == request.id,
                col(MailboxOAuthRequest.used_at).is_(None),
            )
            .values(used_at=utcnow())
        )
        if taken.rowcount != 1:
            raise ConnectError(
                N_("This sign-in was used already: press Connect again"), mailbox_id=mailbox_id
            )
    end_read(session)
    token = _exchange(request, secret=secret, code=code, verifier=verifier)
    refresh = str(token.get("refresh_token") or "")
    if not refresh:
        raise ConnectError(
            N_("The provider gave no refresh token: check that the app may ask for offline access"),
            mailbox_id=mailbox_id,
        )
    account = signed_in_account(token, client_id=request.client_id)
    if account is None and request.provider != OAuthProvider.generic:
        raise ConnectError(
            N_("The provider did not say which account signed in (the openid and email scopes)"),
            mailbox_id=mailbox_id,
        )
    if account is not None and not _same_account(account, mailbox):
        raise ConnectError(
            N_(
                "You signed in as %(account)s, but this mailbox is %(address)s: sign in with "
                "the mailbox's own account. Nothing was changed."
            ),
            mailbox_id=mailbox_id,
            params={"account": account, "address": mailbox.address},
        )
    grant = grants.Grant(
        refresh_token=refresh,
        access_token=str(token.get("access_token") or "") or None,
        expires_at=_expires_at(token),
        account=account,
    )
    generic = request.provider == OAuthProvider.generic
    with transaction(session):
        grants.configure(
            session,
            mailbox=mailbox,
            provider=request.provider,
            client_id=request.client_id,
            client_secret=given_secret,
            tenant=request.tenant,
            authorize_url=request.authorize_url if generic else None,
            token_url=request.token_url if generic else None,
            scopes=request.scopes if generic else None,
            by=agent,
        )
        return grants.save_grant(session, mailbox=mailbox, grant=grant, by=agent)


def signed_in_account(token: Mapping[str, Any], *, client_id: str) -> str | None:
    """Who signed in, from the ID token's ``email`` (else ``preferred_username``).

    The ID token came straight from the token endpoint over TLS, which OpenID Connect Core
    (3.1.3.7, item 6) accepts in place of checking its signature; its audience must still
    be our client, and Google's ``email_verified: false`` is no account.
    """
    id_token = token.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        return None
    try:
        claims = json.loads(extract_compact(id_token.encode("ascii")).payload)
    except (JoseError, ValueError, UnicodeError):
        return None
    if not isinstance(claims, dict):
        return None
    audience = claims.get("aud")
    if client_id not in (audience if isinstance(audience, list) else [audience]):
        return None
    if claims.get("email_verified") is False:
        return None
    for claim in ("email", "preferred_username", "upn"):
        value = claims.get(claim)
        if isinstance(value, str) and "@" in value and len(value) <= 254:
            return value.strip()
    return None


def _exchange(
    request: MailboxOAuthRequest, *, secret: str | None, code: str, verifier: str
) -> dict[str, Any]:
    """The token endpoint's answer to the code (network; no transaction may be open)."""
    oauth = _client(
        request.client_id,
        OAuthProvider(request.provider),
        secret=secret,
        redirect=request.redirect_uri,
    )
    try:
        with oauth:
            token = oauth.fetch_token(
                request.token_url,
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
                timeout=get_settings().oauth_timeout_seconds,
            )
    except AuthlibBaseError as exc:
        raise ConnectError(
            N_("The provider refused the sign-in: %(error)s"),
            mailbox_id=request.mailbox_id,
            params={"error": _said(str(exc.error or ""), str(exc.description or ""))},
        ) from None
    except (requests.RequestException, ValueError) as exc:
        raise ConnectError(
            N_("The provider's token endpoint could not be reached: %(error)s"),
            mailbox_id=request.mailbox_id,
            params={"error": type(exc).__name__},
        ) from None
    return dict(token)


def _client(
    client_id: str, provider: OAuthProvider, *, secret: str | None, redirect: str
) -> OAuth2Session:
    """The same authlib client the refresh uses (``tokens.client_for``: S256, the secret in
    the form body), so connecting and refreshing authenticate alike. The client settings
    are not the mailbox's yet, so an unsaved row carries them."""
    app = MailboxOAuth(
        mailbox_id=0, provider=provider, client_id=client_id, authorize_url="", token_url=""
    )
    return tokens.client_for(app, client_secret=secret, redirect_uri=redirect)


def _provider(value: str, mailbox: Mailbox) -> OAuthProvider:
    try:
        return OAuthProvider(value)
    except ValueError:
        raise ConnectError(
            N_("Unknown OAuth provider %(provider)s (microsoft, google, generic)"),
            mailbox_id=mailbox.id,
            field="provider",
            params={"provider": value[:40]},
        ) from None


def _stored_secret(
    stored: MailboxOAuth | None, provider: OAuthProvider, client_id: str
) -> str | None:
    """The secret saved for this very client, which a blank field keeps."""
    if stored is None or stored.provider != provider or stored.client_id != client_id:
        return None
    return grants.client_secret(stored)


def _same_account(account: str, mailbox: Mailbox) -> bool:
    names = {mailbox.address, mailbox.imap_user or "", mailbox.smtp_user or ""}
    return account.casefold() in {n.strip().casefold() for n in names if n}


def _expires_at(token: Mapping[str, Any]) -> datetime | None:
    value = token.get("expires_at")
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def _said(error: str, description: str) -> str:
    """The provider's words, short (they are shown to the admin, escaped)."""
    text = f"{error}: {description}" if description else error
    return " ".join(text.split())[:300] or "?"


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()
