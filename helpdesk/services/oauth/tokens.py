"""A usable access token for a mailbox's XOAUTH2 login: cached, else refreshed.

The access token is kept sealed in the mailbox's row until shortly before it expires
(``HELPDESK_OAUTH_REFRESH_MARGIN_SECONDS``), so every process and thread shares it. A
refresh goes through authlib's OAuth 2.0 client (``requests`` flavour), never with a
transaction open, and:

- one refresh per mailbox at a time: a thread lock in this process and a job claim
  (``helpdesk.locks``, row ``oauth-refresh:<id>``) across processes; whoever waits reads
  the token the winner saved instead of refreshing again;
- a rotated refresh token is committed before the new access token is handed out;
- ``invalid_grant`` (consent revoked, the token expired or rotated away) and a refused
  client mark the grant "needs reconnect" and raise :class:`NeedsReconnect`: the mailbox
  pauses until an admin connects it again; anything else (the provider unreachable, a
  5xx) raises :class:`TokenUnavailable` and is tried again later.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from sqlmodel import Session, select

from helpdesk import db
from helpdesk.crypto import UnsealError
from helpdesk.locks import Claim, release, try_claim
from helpdesk.models import MailboxOAuth, OAuthProvider, OAuthStatus, utcnow
from helpdesk.services.oauth import grants, notices
from helpdesk.settings import get_settings

log = logging.getLogger(__name__)

#: OAuth errors after which only a new sign-in helps (RFC 6749 5.2).
RECONNECT_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})
#: How often a worker that waits for another's refresh looks at the row again.
WAIT_STEP_SECONDS = 0.1


class NeedsReconnect(Exception):
    """The mailbox's grant is refused or missing: an admin must connect it again."""

    def __init__(self, mailbox_id: int, reason: str) -> None:
        super().__init__(f"mailbox {mailbox_id}: OAuth needs a reconnect: {reason}")
        self.mailbox_id = mailbox_id
        self.reason = reason


class TokenUnavailable(Exception):
    """No access token right now (provider unreachable or failing): try again later."""


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: datetime | None


_local_locks: dict[int, threading.Lock] = {}
_local_locks_guard = threading.Lock()


def _local_lock(mailbox_id: int) -> threading.Lock:
    with _local_locks_guard:
        return _local_locks.setdefault(mailbox_id, threading.Lock())


def access_token(
    mailbox_id: int,
    *,
    stale: str | None = None,
    session_factory: Callable[[], Session] | None = None,
) -> AccessToken:
    """A token the mailbox's IMAP and SMTP logins can use now.

    ``stale``: a token the server just refused (it ended before its time): a new one is
    fetched unless another worker has already replaced it. Opens its own session, so the
    caller's loaded rows are left alone; call it with no transaction open.
    """
    settings = get_settings()
    # Long enough for another worker's refresh with its full timeout.
    deadline = time.monotonic() + 2 * settings.oauth_timeout_seconds + 10
    lock = _local_lock(mailbox_id)
    with contextlib.closing((session_factory or db.new_session)()) as session:
        while True:
            found = _usable(session, mailbox_id, stale)
            if found is not None:
                return found
            if lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                try:
                    claim = _claim(session, mailbox_id)
                    if claim is not None:
                        try:
                            return _usable(session, mailbox_id, stale) or _refresh(
                                session, mailbox_id
                            )
                        finally:
                            db.end_read(session)
                            release(session, claim)
                finally:
                    lock.release()
            if time.monotonic() > deadline:
                raise TokenUnavailable(
                    f"mailbox {mailbox_id}: another worker's token refresh takes too long"
                )
            time.sleep(WAIT_STEP_SECONDS)  # another process is refreshing: read its result


def client_for(
    oauth: MailboxOAuth, *, client_secret: str | None, redirect_uri: str | None = None
) -> OAuth2Session:
    """authlib's client for the mailbox's OAuth app (refresh here; the code flow with PKCE).

    The secret goes in the form body (``client_secret_post``), which Microsoft, Google and
    most others take; a public client (no secret) sends only its id. Close it after use.
    """
    return OAuth2Session(
        client_id=oauth.client_id,
        client_secret=client_secret,
        token_endpoint_auth_method="client_secret_post" if client_secret else "none",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )


def _claim(session: Session, mailbox_id: int) -> Claim | None:
    lease = 2 * get_settings().oauth_timeout_seconds + 10
    return try_claim(session, f"oauth-refresh:{mailbox_id}", lease_seconds=lease)


def _load(session: Session, mailbox_id: int) -> MailboxOAuth:
    oauth = session.exec(
        select(MailboxOAuth)
        .where(MailboxOAuth.mailbox_id == mailbox_id)
        .execution_options(populate_existing=True)
    ).first()
    if oauth is None:
        raise NeedsReconnect(mailbox_id, "the mailbox has no OAuth settings")
    return oauth


def _usable(session: Session, mailbox_id: int, stale: str | None) -> AccessToken | None:
    """The cached token if it is good (and not ``stale``); raises when only a reconnect helps."""
    oauth = _load(session, mailbox_id)
    db.end_read(session)
    if oauth.status != OAuthStatus.ok or not oauth.refresh_token_sealed:
        raise NeedsReconnect(
            mailbox_id, oauth.status_reason or "the mailbox has not been connected yet"
        )
    margin = get_settings().oauth_refresh_margin_seconds
    try:
        cached = grants.cached_access_token(oauth, now=utcnow(), margin=margin)
    except UnsealError:
        return None  # sealed under another key: refreshing replaces it
    if cached is None or cached == stale:
        return None
    return AccessToken(cached, oauth.access_token_expires_at)


def _refresh(session: Session, mailbox_id: int) -> AccessToken:
    """Ask the provider for a new access token; saves it (and a rotated refresh token)."""
    oauth = _load(session, mailbox_id)
    try:
        secret = grants.client_secret(oauth)
        refresh = grants.refresh_token(oauth)
    except UnsealError as exc:
        _pause(session, oauth, str(exc))
        raise NeedsReconnect(mailbox_id, str(exc)) from None
    if not refresh:
        raise NeedsReconnect(mailbox_id, oauth.status_reason or "no refresh token")
    db.end_read(session)  # no transaction open while we wait on the provider
    settings = get_settings()
    client = client_for(oauth, client_secret=secret)
    # Microsoft wants the scopes on a refresh too; the others keep the granted ones.
    extra = {"scope": oauth.scopes} if oauth.provider == OAuthProvider.microsoft else {}
    started = utcnow()
    try:
        answer = client.refresh_token(
            oauth.token_url,
            refresh_token=refresh,
            timeout=settings.oauth_timeout_seconds,
            **extra,
        )
    except OAuthError as exc:
        if exc.error in RECONNECT_ERRORS:
            reason = f"{oauth.provider}: {exc.error}" + (
                f" ({exc.description})" if exc.description else ""
            )
            _pause(session, oauth, reason)
            raise NeedsReconnect(mailbox_id, reason) from None
        raise TokenUnavailable(f"mailbox {mailbox_id}: token refresh failed: {exc.error}") from None
    except (requests.RequestException, ValueError) as exc:
        raise TokenUnavailable(
            f"mailbox {mailbox_id}: token endpoint unreachable: {type(exc).__name__}"
        ) from None
    finally:
        client.close()
    token = str(answer.get("access_token") or "")
    if not token:
        raise TokenUnavailable(f"mailbox {mailbox_id}: the token endpoint sent no access token")
    expires_in = answer.get("expires_in")
    expires_at = (
        started + timedelta(seconds=int(expires_in)) if str(expires_in or "").isdigit() else None
    )
    rotated = answer.get("refresh_token")
    grants.save_refreshed(
        session,
        oauth=oauth,
        access_token=token,
        expires_at=expires_at,
        refresh_token=str(rotated) if rotated and rotated != refresh else None,
    )
    return AccessToken(token, expires_at)


def _pause(session: Session, oauth: MailboxOAuth, reason: str) -> None:
    """Mark the grant needing a reconnect, then tell the admins (a failing mail is logged)."""
    grants.mark_needs_reconnect(session, oauth=oauth, reason=reason)
    log.warning("mailbox %s: OAuth grant refused, paused: %s", oauth.mailbox_id, reason)
    try:
        notices.notify_admins(session, oauth=oauth)
    except Exception:
        log.exception("mailbox %s: could not queue the admins' notice", oauth.mailbox_id)
        session.rollback()


def token_source(mailbox_id: int) -> Callable[[str | None], str]:
    """What the IMAP and SMTP clients call for a token; again with the refused one on a refusal."""

    def source(stale: str | None) -> str:
        return access_token(mailbox_id, stale=stale).token

    return source
