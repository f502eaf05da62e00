"""OAuth mailboxes: providers' endpoints, secrets sealed at rest, saving a grant."""

from __future__ import annotations

from pathlib import Path

import factories
import httpx
import pytest
from cryptography.fernet import Fernet
from oauth_server import CLIENT_ID, CLIENT_SECRET, OAuthServer
from sqlalchemy import text
from sqlmodel import Session

from helpdesk import crypto
from helpdesk.db import new_session
from helpdesk.models import MailboxAuth, OAuthStatus, utcnow
from helpdesk.services.errors import ServiceError
from helpdesk.services.oauth import grants, providers
from helpdesk.settings import get_settings


def test_microsoft_endpoints_are_the_tenants_own() -> None:
    found = providers.endpoints("microsoft", tenant="contoso.onmicrosoft.com")
    base = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0"
    assert (found.authorize_url, found.token_url) == (f"{base}/authorize", f"{base}/token")
    assert {
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
        "offline_access",
    } <= set(found.scopes)
    with pytest.raises(ServiceError) as refused:
        providers.endpoints("microsoft", tenant="")
    assert refused.value.field == "tenant"
    with pytest.raises(ServiceError):
        providers.endpoints("microsoft", tenant="../evil")


def test_google_asks_for_offline_access_and_the_mail_scope() -> None:
    found = providers.endpoints("google")
    assert found.authorize_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert found.token_url == "https://oauth2.googleapis.com/token"
    assert "https://mail.google.com/" in found.scopes
    assert found.authorize_params == {"access_type": "offline", "prompt": "consent"}


def test_a_generic_provider_needs_its_token_url_and_scopes() -> None:
    with pytest.raises(ServiceError) as refused:
        providers.endpoints("generic", scopes="mail")
    assert refused.value.field == "token_url"
    with pytest.raises(ServiceError) as refused:
        providers.endpoints("generic", token_url="https://idp.example/token")
    assert refused.value.field == "scopes"
    with pytest.raises(ServiceError):  # tokens never go to a plain-http host
        providers.endpoints("generic", token_url="http://idp.example/token", scopes="mail")
    with pytest.raises(ServiceError):
        providers.endpoints("sso", token_url="https://idp.example/token", scopes="mail")
    found = providers.endpoints("generic", token_url="https://idp.example/token", scopes="a b")
    assert found.scopes == ("a", "b")


def test_sealed_secrets_open_with_any_listed_key_and_not_without(monkeypatch) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setattr(get_settings(), "token_key", old)
    sealed = crypto.seal("refresh-token-ä")
    assert "refresh" not in sealed
    monkeypatch.setattr(get_settings(), "token_key", f"{new},{old}")  # rotation: new first
    assert crypto.unseal(sealed) == "refresh-token-ä"
    assert Fernet(new.encode()).decrypt(crypto.seal("x").encode()) == b"x"
    monkeypatch.setattr(get_settings(), "token_key", new)
    with pytest.raises(crypto.UnsealError):
        crypto.unseal(sealed)
    # Without a token key the key is derived from the secret key, and differs with it.
    monkeypatch.setattr(get_settings(), "token_key", "")
    derived = crypto.seal("x")
    monkeypatch.setattr(get_settings(), "secret_key", "another-secret-key-of-32-characters!")
    with pytest.raises(crypto.UnsealError):
        crypto.unseal(derived)


def test_settings_refuse_a_token_key_that_is_no_fernet_key(monkeypatch) -> None:
    from pydantic import ValidationError

    from helpdesk.settings import Settings

    monkeypatch.setenv("HELPDESK_TOKEN_KEY", "not-a-key")
    with pytest.raises(ValidationError, match="HELPDESK_TOKEN_KEY"):
        Settings()
    monkeypatch.setenv("HELPDESK_TOKEN_KEY", Fernet.generate_key().decode())
    assert Settings().token_key


def _oauth_mailbox(session: Session, server: OAuthServer | None = None, **values: object):
    mailbox = factories.mailbox(session, smtp_host="127.0.0.1")
    row = grants.configure(
        session,
        mailbox=mailbox,
        provider="generic",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_url=server.token_url if server else "https://idp.example/token",
        authorize_url=server.authorize_url if server else "https://idp.example/authorize",
        scopes="mail",
        **values,
    )
    return mailbox, row


def test_saving_a_grant_connects_the_mailbox_and_clears_needs_reconnect(session) -> None:
    mailbox, row = _oauth_mailbox(session)
    assert mailbox.auth == MailboxAuth.xoauth2
    assert row.status == OAuthStatus.not_connected
    grants.mark_needs_reconnect(session, oauth=row, reason="invalid_grant: consent revoked")
    assert [m.address for m, _ in grants.needing_reconnect(session)] == [mailbox.address]

    expires = utcnow().replace(microsecond=0)
    saved = grants.save_grant(
        session,
        mailbox=mailbox,
        grant=grants.Grant("rt-1", access_token="at-1", expires_at=expires, account="a@x.fi"),
    )
    assert saved.status == OAuthStatus.ok and saved.status_reason is None
    assert saved.account == "a@x.fi" and saved.connected_at is not None
    assert grants.refresh_token(saved) == "rt-1"
    assert grants.client_secret(saved) == CLIENT_SECRET
    assert grants.needing_reconnect(session) == []
    with pytest.raises(ServiceError):
        grants.save_grant(session, mailbox=mailbox, grant=grants.Grant(""))


def test_a_new_client_drops_the_old_grant(session) -> None:
    mailbox, _row = _oauth_mailbox(session)
    grants.save_grant(session, mailbox=mailbox, grant=grants.Grant("rt-1"))
    same = grants.configure(
        session,
        mailbox=mailbox,
        provider="generic",
        client_id=CLIENT_ID,
        token_url="https://idp.example/token",
        authorize_url="https://idp.example/authorize",
        scopes="mail",
    )
    assert same.status == OAuthStatus.ok  # nothing changed: the grant stays
    assert grants.client_secret(same) == CLIENT_SECRET  # a blank secret keeps the stored one
    moved = grants.configure(
        session, mailbox=mailbox, provider="microsoft", tenant="contoso.fi", client_id="other"
    )
    assert moved.status == OAuthStatus.needs_reconnect and grants.refresh_token(moved) is None


SECRETS = ("rt-very-secret-refresh", "at-very-secret-access", CLIENT_SECRET)


def test_nothing_readable_lands_in_the_database_or_the_data_folder(
    committed_url: str, data_dir: Path
) -> None:
    with new_session() as session:
        mailbox, _ = _oauth_mailbox(session)
        grants.save_grant(
            session,
            mailbox=mailbox,
            grant=grants.Grant(
                SECRETS[0], access_token=SECRETS[1], expires_at=utcnow(), account="a@x.fi"
            ),
        )
        dumped = " ".join(
            str(v)
            for table in ("mailbox_oauth", "mailbox", "audit_event")
            for row in session.execute(text(f"SELECT * FROM {table}"))
            for v in row
        )
    assert "a@x.fi" in dumped  # the dump does read the rows
    for secret in SECRETS:
        assert secret not in dumped
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    if committed_url.startswith("sqlite"):
        db = Path(committed_url.removeprefix("sqlite:///"))
        files += [p for p in db.parent.glob(db.name + "*") if p.is_file()]
        assert files
    for path in files:
        content = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in content, path


def test_the_local_server_refreshes_rotates_and_introspects(oauth_server: OAuthServer) -> None:
    oauth_server.rotate = True
    first = oauth_server.issue_grant("box@example.fi")
    answer = httpx.post(
        oauth_server.token_url,
        data={"grant_type": "refresh_token", "refresh_token": first},
        auth=(CLIENT_ID, CLIENT_SECRET),
    ).json()
    assert answer["refresh_token"] != first
    info = httpx.post(oauth_server.introspection_url, data={"token": answer["access_token"]})
    assert info.json() | {"exp": 0} == {
        "active": True,
        "username": "box@example.fi",
        "scope": "mail",
        "client_id": CLIENT_ID,
        "token_type": "Bearer",
        "exp": 0,
    }
    again = httpx.post(
        oauth_server.token_url,
        data={"grant_type": "refresh_token", "refresh_token": first},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    oauth_server.expire_access_tokens()
    info = httpx.post(oauth_server.introspection_url, data={"token": answer["access_token"]})
    assert info.json() == {"active": False}
