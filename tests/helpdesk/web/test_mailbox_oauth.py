"""Connecting a mailbox with OAuth 2.0 from its page, against the local authorization server.

The whole code flow runs for real: the "Connect" press, the server's sign-in page and its
redirect back, the callback page that only reads, the POST that exchanges the code (PKCE
checked by the server) and saves the grant. The provider's side is driven with httpx as a
browser would; the app's side with the test client.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import factories
import httpx
import pytest
from oauth_server import CLIENT_ID, CLIENT_SECRET, OAuthServer, serve_oauth
from sqlmodel import Session, select
from webclient import Client, login

from helpdesk.crypto import unseal
from helpdesk.models import (
    Mailbox,
    MailboxAuth,
    MailboxOAuth,
    MailboxOAuthRequest,
    OAuthStatus,
    utcnow,
)
from helpdesk.services.oauth import grants
from helpdesk.settings import get_settings

ADDRESS = "asiakaspalvelu@e-tunnus.fi"
LINK = re.compile(r'href="([^"]+)"[^>]*data-navigate-now')
HIDDEN = re.compile(r'<input type="?hidden"? name="([^"]+)" value="([^"]*)"')


@pytest.fixture
def oauth_server() -> Iterator[OAuthServer]:
    with serve_oauth() as server:
        yield server


@pytest.fixture(autouse=True)
def base_url(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(get_settings(), "base_url", "http://testserver")
    return "http://testserver"


@pytest.fixture
def mailbox(session: Session) -> Mailbox:
    return factories.mailbox(session, ADDRESS)


def generic_fields(server: OAuthServer, **changes: str) -> dict[str, str]:
    return {
        "provider": "generic",
        "authorize_url": server.authorize_url,
        "token_url": server.token_url,
        "scopes": "openid email mail",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    } | changes


def press_connect(client: Client, mailbox: Mailbox, fields: dict[str, str]) -> str:
    """The "Connect" button: the provider's authorization URL the answer leads on to."""
    page = client.form(f"/admin/mailboxes/{mailbox.id}/oauth", fields)
    assert page.status_code == 200, page.text
    found = LINK.search(page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def sign_in(url: str, *, account: str, decision: str = "allow") -> str:
    """The admin at the provider: the sign-in page, then Allow or Deny; where it sends back."""
    with httpx.Client() as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        fields = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
        answer = browser.post(
            url.split("?")[0], data=fields | {"account": account, "decision": decision}
        )
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def return_form(page: httpx.Response) -> dict[str, str]:
    """The callback page's form: what it posts on."""
    form = re.search(r'<form method="post" action="/oauth/callback".*?</form>', page.text, re.S)
    assert form, page.text
    return {name: html.unescape(value) for name, value in HIDDEN.findall(form.group(0))}


def come_back(client: Client, location: str) -> httpx.Response:
    """The provider's redirect to the callback, then the page's form posted on."""
    assert location.startswith("http://testserver/oauth/callback?")
    page = client.get(location)
    assert page.status_code == 200, page.text
    fields = return_form(page)
    assert set(fields) == {"state", "code", "csrf_token"}, page.text
    return client.post("/oauth/callback", data=fields, follow_redirects=False)


def connect(
    client: Client, server: OAuthServer, mailbox: Mailbox, *, account: str = ADDRESS, **changes
) -> httpx.Response:
    url = press_connect(client, mailbox, generic_fields(server, **changes))
    return come_back(client, sign_in(url, account=account))


def test_connect_saves_the_grant_and_the_page_shows_the_account(
    session, logged_in, mailbox, oauth_server
):
    url = press_connect(logged_in, mailbox, generic_fields(oauth_server))
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://testserver/oauth/callback"]
    assert query["login_hint"] == [ADDRESS]
    # The state and the verifier stay on the server: the state only as its digest.
    request = session.exec(select(MailboxOAuthRequest)).one()
    assert query["state"][0] not in request.state_sha256
    assert query["code_challenge"][0] not in request.code_verifier_sealed

    done = come_back(logged_in, sign_in(url, account=ADDRESS))

    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/mailboxes/{mailbox.id}#oauth"
    oauth = session.exec(select(MailboxOAuth)).one()
    assert (oauth.status, oauth.account, oauth.provider) == (OAuthStatus.ok, ADDRESS, "generic")
    # The refresh token saved is the one the server issued, and it is sealed.
    assert unseal(oauth.refresh_token_sealed) in oauth_server.active_refresh_tokens(ADDRESS)
    assert oauth.refresh_token_sealed not in oauth_server.refresh_grants
    assert oauth_server.requests == ["authorization_code"]
    assert session.get(Mailbox, mailbox.id).auth == MailboxAuth.xoauth2
    session.refresh(request)
    assert request.used_at is not None
    page = logged_in.get(f"/admin/mailboxes/{mailbox.id}")
    assert re.search(r'data-testid="oauth-status">yhdistetty<', page.text)
    assert f'data-testid="oauth-account">{ADDRESS}<' in page.text
    assert "Yhdistä uudelleen" in page.text
    assert CLIENT_SECRET not in page.text


def test_reconnect_with_the_same_button_keeps_the_secret(session, logged_in, mailbox, oauth_server):
    assert connect(logged_in, oauth_server, mailbox).status_code == 303
    oauth = session.exec(select(MailboxOAuth)).one()
    first = unseal(oauth.refresh_token_sealed)
    grants.mark_needs_reconnect(session, oauth=oauth, reason="invalid_grant")
    page = logged_in.get(f"/admin/mailboxes/{mailbox.id}")
    assert re.search(r'data-testid="oauth-status">yhdistettävä uudelleen<', page.text)

    # The secret field left blank: the stored secret is used for the same client.
    done = connect(logged_in, oauth_server, mailbox, client_secret="")

    assert done.status_code == 303
    session.refresh(oauth)
    assert oauth.status == OAuthStatus.ok
    assert unseal(oauth.refresh_token_sealed) != first
    assert unseal(oauth.client_secret_sealed) == CLIENT_SECRET


def test_refused_consent_is_shown_beside_the_buttons_and_changes_nothing(
    session, logged_in, mailbox, oauth_server
):
    url = press_connect(logged_in, mailbox, generic_fields(oauth_server))
    back = logged_in.get(sign_in(url, account=ADDRESS, decision="deny"))

    assert back.status_code == 200
    assert 'data-testid="oauth-panel"' in back.text
    error = re.search(r'data-testid="oauth-error">(.*?)</div>', back.text).group(1)
    assert "Kirjautuminen peruttiin" in error
    assert session.exec(select(MailboxOAuth)).all() == []
    assert oauth_server.requests == []


def test_another_account_than_the_mailbox_is_refused(session, logged_in, mailbox, oauth_server):
    done = connect(logged_in, oauth_server, mailbox, account="matti@example.com")

    assert done.status_code == 400
    error = re.search(r'data-testid="oauth-error">(.*?)</div>', done.text).group(1)
    assert "matti@example.com" in error and ADDRESS in error
    assert session.exec(select(MailboxOAuth)).all() == []
    assert session.get(Mailbox, mailbox.id).auth == MailboxAuth.password


def test_the_answer_is_good_once_and_only_for_the_login_that_asked(
    session, app, logged_in, admin, mailbox, oauth_server
):
    url = press_connect(logged_in, mailbox, generic_fields(oauth_server))
    location = sign_in(url, account=ADDRESS)
    # Another login (the same admin on another browser) cannot use the answer.
    with Client(app, base_url="http://testserver") as other:
        login(other, admin)
        page = other.get(location)
        assert "toisessa istunnossa" in page.text
        assert 'name="code"' not in page.text
    fields = return_form(logged_in.get(location))
    done = logged_in.post("/oauth/callback", data=fields, follow_redirects=False)
    assert done.status_code == 303
    again = logged_in.post("/oauth/callback", data=fields)
    assert again.status_code == 400
    assert "jo käytetty" in again.text
    assert oauth_server.requests == ["authorization_code"]


def test_an_answer_after_ten_minutes_is_refused(session, logged_in, mailbox, oauth_server):
    url = press_connect(logged_in, mailbox, generic_fields(oauth_server))
    request = session.exec(select(MailboxOAuthRequest)).one()
    request.expires_at = utcnow() - timedelta(seconds=1)
    session.add(request)
    session.commit()

    page = logged_in.get(sign_in(url, account=ADDRESS))

    assert "kauemmin kuin 10 minuuttia" in page.text
    assert 'name="code"' not in page.text


def test_an_unknown_state_is_its_own_page(logged_in):
    page = logged_in.get("/oauth/callback?state=forged&code=abc")
    assert page.status_code == 200
    assert "tuntematon" in page.text
    assert (
        logged_in.post(
            "/oauth/callback", data={"state": "forged", "code": "abc", "csrf_token": logged_in.csrf}
        ).status_code
        == 400
    )


def test_a_token_endpoint_refusal_is_shown(session, logged_in, mailbox, oauth_server):
    url = press_connect(logged_in, mailbox, generic_fields(oauth_server))
    location = sign_in(url, account=ADDRESS)
    oauth_server.codes.clear()  # the code expired at the provider

    done = come_back(logged_in, location)

    assert done.status_code == 400
    assert "invalid_grant" in done.text
    assert session.exec(select(MailboxOAuth)).all() == []


def test_microsoft_asks_its_tenant_for_imap_smtp_and_offline_access(logged_in, mailbox):
    url = press_connect(
        logged_in,
        mailbox,
        {
            "provider": "microsoft",
            "tenant": "e-tunnus.fi",
            "client_id": "app-id",
            "client_secret": "s3cret",
        },
    )
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://login.microsoftonline.com/e-tunnus.fi/oauth2/v2.0/authorize"
    )
    assert query["scope"][0].split() == [
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
        "offline_access",
        "openid",
        "email",
    ]
    assert (query["client_id"], query["response_type"]) == (["app-id"], ["code"])
    assert query["code_challenge_method"] == ["S256"]


def test_google_asks_for_offline_access_and_consent(logged_in, mailbox):
    url = press_connect(
        logged_in, mailbox, {"provider": "google", "client_id": "g-id", "client_secret": "g"}
    )
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert "https://mail.google.com/" in query["scope"][0].split()
    assert (query["access_type"], query["prompt"]) == (["offline"], ["consent"])


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"provider": "microsoft", "client_id": "a", "client_secret": "b"}, "tenant"),
        ({"provider": "google", "client_id": "a"}, "client_secret"),
        ({"provider": "google", "client_secret": "b"}, "client_id"),
        ({"provider": "generic", "client_id": "a", "token_url": "ftp://x", "scopes": "a"}, ""),
        ({"provider": "yahoo", "client_id": "a"}, ""),
    ],
)
def test_missing_or_wrong_client_settings_are_said_beside_the_buttons(
    session, logged_in, mailbox, fields, field
):
    page = logged_in.form(f"/admin/mailboxes/{mailbox.id}/oauth", fields)
    assert page.status_code == 400
    assert 'data-testid="oauth-error"' in page.text
    assert session.exec(select(MailboxOAuthRequest)).all() == []


def test_only_admins_connect(session, client, mailbox, oauth_server):
    login(client, factories.agent(session))
    response = client.form(f"/admin/mailboxes/{mailbox.id}/oauth", generic_fields(oauth_server))
    assert response.status_code == 403
    assert session.exec(select(MailboxOAuthRequest)).all() == []
    assert client.get("/oauth/callback?state=x&code=y").status_code == 403


def test_production_needs_the_https_base_url_first(logged_in, mailbox, monkeypatch, session):
    monkeypatch.setattr(get_settings(), "environment", "production")
    monkeypatch.setattr(get_settings(), "base_url", "http://127.0.0.1:8000")
    fields = {"provider": "google", "client_id": "g-id", "client_secret": "g"}
    page = logged_in.form(f"/admin/mailboxes/{mailbox.id}/oauth", fields)
    assert page.status_code == 400
    assert "HELPDESK_BASE_URL" in page.text
    assert session.exec(select(MailboxOAuthRequest)).all() == []
    monkeypatch.setattr(get_settings(), "base_url", "https://helpdesk.e-tunnus.fi/")
    url = press_connect(logged_in, mailbox, fields)
    assert parse_qs(urlsplit(url).query)["redirect_uri"] == [
        "https://helpdesk.e-tunnus.fi/oauth/callback"
    ]
