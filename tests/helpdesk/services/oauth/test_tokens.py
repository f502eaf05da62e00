"""Access tokens for XOAUTH2: cached, refreshed once at a time, refusals and outages."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import factories
import pytest
from authlib.integrations.requests_client import OAuthError
from oauth_mailboxes import use_test_provider
from oauth_server import OAuthServer
from sqlmodel import Session

from helpdesk.db import new_session, transaction
from helpdesk.models import JobLock, Mailbox, OAuthStatus, utcnow
from helpdesk.services.oauth import grants, tokens


def _connected(session: Session, server: OAuthServer, account: str) -> Mailbox:
    """A connected mailbox; ``account`` is made unique (the server lives for the session)."""
    account = f"{account}-{uuid.uuid4().hex[:8]}"
    mailbox = factories.mailbox(session, f"{account}@example.fi")
    use_test_provider(session, mailbox, server, account=account)
    return mailbox


def test_the_cached_token_serves_until_shortly_before_it_ends(
    session: Session, oauth_server: OAuthServer
) -> None:
    mailbox = _connected(session, oauth_server, "cache")
    first = tokens.access_token(mailbox.id)
    assert tokens.access_token(mailbox.id) == first
    assert oauth_server.refreshes() == 1
    assert oauth_server.token_info(first.token)["username"] == mailbox.address.split("@")[0]
    # Within the margin before its end a token is renewed ahead of time.
    oauth = grants.require_oauth(session, mailbox)
    with transaction(session):
        oauth.access_token_expires_at = utcnow() + timedelta(seconds=60)
        session.add(oauth)
    assert tokens.access_token(mailbox.id) != first
    assert oauth_server.refreshes() == 2
    # A token the server refused is replaced even though our clock says it is good.
    current = tokens.access_token(mailbox.id)
    assert tokens.access_token(mailbox.id, stale=current.token) != current
    assert oauth_server.refreshes() == 3


def test_invalid_grant_marks_the_mailbox_and_asks_no_more(
    session: Session, oauth_server: OAuthServer
) -> None:
    mailbox = _connected(session, oauth_server, "revoked")
    oauth_server.fail_next_refresh("invalid_grant")
    with pytest.raises(tokens.NeedsReconnect) as refused:
        tokens.access_token(mailbox.id)
    assert "invalid_grant" in refused.value.reason
    oauth = grants.require_oauth(session, mailbox)
    session.refresh(oauth)
    assert oauth.status == OAuthStatus.needs_reconnect and oauth.status_at is not None
    asked = len(oauth_server.requests)
    with pytest.raises(tokens.NeedsReconnect):
        tokens.access_token(mailbox.id)
    assert len(oauth_server.requests) == asked


def test_an_outage_is_temporary_and_keeps_the_grant(
    session: Session, oauth_server: OAuthServer
) -> None:
    mailbox = _connected(session, oauth_server, "outage")
    oauth_server.fail_next_refresh("temporarily_unavailable")
    with pytest.raises(tokens.TokenUnavailable):
        tokens.access_token(mailbox.id)
    oauth = grants.require_oauth(session, mailbox)
    with transaction(session):
        oauth.token_url = "http://127.0.0.1:9/token"  # nothing listens there
        session.add(oauth)
    with pytest.raises(tokens.TokenUnavailable, match="unreachable"):
        tokens.access_token(mailbox.id)
    session.refresh(oauth)
    assert oauth.status == OAuthStatus.ok and grants.refresh_token(oauth)


def test_a_mailbox_never_connected_needs_a_connect(session: Session) -> None:
    mailbox = factories.mailbox(session)
    grants.configure(
        session,
        mailbox=mailbox,
        provider="google",
        client_id="x.apps.googleusercontent.com",
        client_secret="s",
    )
    with pytest.raises(tokens.NeedsReconnect, match="not been connected"):
        tokens.access_token(mailbox.id)


def test_two_workers_at_once_make_one_refresh_and_rotation_is_committed_first(
    committed_url: str, oauth_server: OAuthServer
) -> None:
    oauth_server.rotate = True
    oauth_server.delay = 0.5
    with new_session() as session:
        mailbox = _connected(session, oauth_server, "together")
        mailbox_id, account = mailbox.id, mailbox.address.split("@")[0]
    got: list[str] = []

    def worker() -> None:
        got.append(tokens.access_token(mailbox_id).token)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(got) == 3 and len(set(got)) == 1
    assert oauth_server.refreshes() == 1
    # The rotated refresh token is the one stored (a fresh session reads it).
    with new_session() as session:
        stored = grants.refresh_token(grants.require_oauth(session, mailbox_id))
    assert oauth_server.active_refresh_tokens(account) == [stored]


def test_a_refresh_by_another_process_is_waited_for_and_used(
    committed_url: str, oauth_server: OAuthServer
) -> None:
    with new_session() as session:
        mailbox_id = _connected(session, oauth_server, "elsewhere").id
        with transaction(session):
            session.add(
                JobLock(
                    name=f"oauth-refresh:{mailbox_id}",
                    locked_by="another-host:4242:abcdef12",
                    locked_until=utcnow() + timedelta(minutes=1),
                    last_started_at=utcnow(),
                )
            )

    def other_process_finishes() -> None:
        time.sleep(0.5)
        with new_session() as other:
            grants.save_refreshed(
                other,
                oauth=grants.require_oauth(other, mailbox_id),
                access_token="at-from-the-other-worker",
                expires_at=utcnow() + timedelta(hours=1),
            )

    helper = threading.Thread(target=other_process_finishes)
    helper.start()
    try:
        assert tokens.access_token(mailbox_id).token == "at-from-the-other-worker"
    finally:
        helper.join(10)
    assert oauth_server.refreshes() == 0


def test_the_code_flow_with_pkce_through_the_same_client(
    session: Session, oauth_server: OAuthServer
) -> None:
    mailbox = factories.mailbox(session)
    use_test_provider(session, mailbox, oauth_server, account=None)
    oauth = grants.require_oauth(session, mailbox)
    found = grants.endpoints_of(oauth)
    redirect = "http://testserver/admin/mailboxes/oauth/callback"
    verifier = secrets.token_urlsafe(48)
    client = tokens.client_for(
        oauth, client_secret=grants.client_secret(oauth), redirect_uri=redirect
    )
    url, state = client.create_authorization_url(
        found.authorize_url, code_verifier=verifier, scope=found.scope
    )
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["code_challenge_method"] == "S256" and query["state"] == state
    code = oauth_server.add_code(
        client_id=query["client_id"],
        redirect_uri=query["redirect_uri"],
        code_challenge=query["code_challenge"],
        account="yhdistaja@example.fi",
        scope="mail openid email",
    )
    with pytest.raises(OAuthError):  # a wrong verifier fails PKCE
        client.fetch_token(found.token_url, code=code, code_verifier="x" * 48)
    code = oauth_server.add_code(
        client_id=query["client_id"],
        redirect_uri=query["redirect_uri"],
        code_challenge=query["code_challenge"],
        account="yhdistaja@example.fi",
        scope="mail openid email",
    )
    token = client.fetch_token(found.token_url, code=code, code_verifier=verifier)
    client.close()
    assert token["refresh_token"] and token["id_token"]
    grants.save_grant(
        session,
        mailbox=mailbox,
        grant=grants.Grant(token["refresh_token"], account="yhdistaja@example.fi"),
    )
    assert tokens.access_token(mailbox.id).token
