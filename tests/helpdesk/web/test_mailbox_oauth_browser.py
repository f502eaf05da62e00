"""Connecting a mailbox with OAuth 2.0 in a real browser, against the local authorization server.

The admin opens the mailbox, presses Connect, signs in and allows on the server's page, comes
back through the callback page (posted on by its script) and sees the account and
"Connected". Then the provider refuses the grant, the page says "Needs reconnecting", and the
same button connects it again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import factories
import pytest
from browser import browser_login
from oauth_server import CLIENT_ID, CLIENT_SECRET, OAuthServer, serve_oauth
from playwright.sync_api import expect

from helpdesk.db import new_session
from helpdesk.models import OAuthStatus
from helpdesk.services.oauth import grants
from helpdesk.settings import get_settings

pytestmark = pytest.mark.browser

ADDRESS = "asiakaspalvelu@e-tunnus.fi"


@pytest.fixture
def oauth_server() -> Iterator[OAuthServer]:
    with serve_oauth() as server:
        yield server


def approve(page, server: OAuthServer) -> None:
    """At the provider's sign-in page: the account is the mailbox's (login_hint); Allow."""
    page.wait_for_url(f"{server.url}/authorize?**")
    expect(page.locator("input[name=account]")).to_have_value(ADDRESS)
    page.get_by_role("button", name="Allow").click()


def test_connect_and_reconnect_a_mailbox(live_server, page, oauth_server, monkeypatch) -> None:
    monkeypatch.setattr(get_settings(), "base_url", live_server.url)
    with new_session() as db:
        admin = factories.agent(db, admin=True, name="Anna Admin")
        mailbox_id = factories.mailbox(db, ADDRESS).id
    browser_login(page, live_server, admin)
    mailbox_page = f"{live_server.url}/admin/mailboxes/{mailbox_id}"

    page.goto(mailbox_page)
    panel = page.get_by_test_id("oauth-panel")
    expect(panel.get_by_test_id("redirect-uri")).to_have_text(f"{live_server.url}/oauth/callback")
    generic = panel.get_by_test_id("oauth-generic")
    generic.locator("summary").click()
    generic.locator("input[name=authorize_url]").fill(oauth_server.authorize_url)
    generic.locator("input[name=token_url]").fill(oauth_server.token_url)
    generic.locator("input[name=scopes]").fill("openid email mail")
    generic.locator("input[name=client_id]").fill(CLIENT_ID)
    generic.locator("input[name=client_secret]").fill(CLIENT_SECRET)
    generic.get_by_test_id("oauth-connect-generic").click()

    approve(page, oauth_server)
    page.wait_for_url(re.compile(re.escape(mailbox_page) + "(#oauth)?$"))
    status = page.get_by_test_id("oauth-status")
    expect(status).to_have_text("yhdistetty")
    expect(page.get_by_test_id("oauth-account")).to_have_text(ADDRESS)
    assert oauth_server.authorize_requests[-1]["code_challenge_method"] == "S256"
    assert oauth_server.requests == ["authorization_code"]

    # The provider refuses the grant (consent withdrawn): the page asks for a reconnect.
    with new_session() as db:
        oauth = grants.require_oauth(db, mailbox_id)
        grants.mark_needs_reconnect(db, oauth=oauth, reason="invalid_grant")
    page.reload()
    expect(status).to_have_text("yhdistettävä uudelleen")
    reconnect = page.get_by_test_id("oauth-connect-generic")
    expect(reconnect).to_have_text("Yhdistä uudelleen")
    reconnect.click()  # the settings are kept, the secret too

    approve(page, oauth_server)
    page.wait_for_url(re.compile(re.escape(mailbox_page) + "(#oauth)?$"))
    expect(status).to_have_text("yhdistetty")
    expect(page.get_by_test_id("oauth-error")).to_have_count(0)
    with new_session() as db:
        oauth = grants.require_oauth(db, mailbox_id)
        assert (oauth.status, oauth.account) == (OAuthStatus.ok, ADDRESS)
        assert grants.refresh_token(oauth) in oauth_server.active_refresh_tokens(ADDRESS)
    assert oauth_server.requests == ["authorization_code", "authorization_code"]


def test_refused_consent_in_the_browser_is_said_beside_the_buttons(
    live_server, page, oauth_server, monkeypatch
) -> None:
    monkeypatch.setattr(get_settings(), "base_url", live_server.url)
    with new_session() as db:
        admin = factories.agent(db, admin=True, name="Anna Admin")
        mailbox_id = factories.mailbox(db, ADDRESS).id
    browser_login(page, live_server, admin)
    page.goto(f"{live_server.url}/admin/mailboxes/{mailbox_id}")
    generic = page.get_by_test_id("oauth-generic")
    generic.locator("summary").click()
    generic.locator("input[name=authorize_url]").fill(oauth_server.authorize_url)
    generic.locator("input[name=token_url]").fill(oauth_server.token_url)
    generic.locator("input[name=scopes]").fill("openid email mail")
    generic.locator("input[name=client_id]").fill(CLIENT_ID)
    generic.get_by_test_id("oauth-connect-generic").click()

    page.wait_for_url(f"{oauth_server.url}/authorize?**")
    page.get_by_role("button", name="Deny").click()

    page.wait_for_url(f"{live_server.url}/oauth/callback?**")
    expect(page.get_by_test_id("oauth-error")).to_contain_text("Kirjautuminen peruttiin")
    expect(page.get_by_test_id("oauth-panel")).to_be_visible()
    expect(page.get_by_test_id("oauth-status")).to_have_count(0)
