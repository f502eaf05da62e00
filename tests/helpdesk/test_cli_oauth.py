"""``helpdesk mailbox add --auth xoauth2`` and ``mailbox connect``: headless OAuth set-up."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from helpdesk.cli import app
from helpdesk.db import get_engine, reset_engines
from helpdesk.models import Mailbox, MailboxAuth, MailboxOAuth, OAuthStatus
from helpdesk.services.oauth import grants
from helpdesk.settings import get_settings

runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(get_settings(), "database_url", url)
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path / "data")
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    yield url
    reset_engines()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_a_microsoft_mailbox_gets_its_tenants_endpoints_and_servers(cli_db: str) -> None:
    out = run(
        "mailbox", "add", "Info@E-tunnus.fi",
        "--auth", "xoauth2",
        "--oauth-provider", "microsoft",
        "--oauth-tenant", "e-tunnus.fi",
        "--oauth-client-id", "client-123",
        "--oauth-client-secret", "client-salaisuus",
        "--oauth-refresh-token", "refresh-salaisuus",
    )  # fmt: skip
    assert "added info@e-tunnus.fi" in out
    listing = run("mailbox", "list")
    assert "auth=xoauth2/microsoft:ok" in listing
    for secret in ("client-salaisuus", "refresh-salaisuus"):
        assert secret not in out + listing
    with Session(get_engine(cli_db)) as session:
        box = session.exec(select(Mailbox)).one()
        assert box.auth == MailboxAuth.xoauth2 and box.imap_password is None
        assert (box.imap_host, box.imap_port, box.imap_user) == (
            "outlook.office365.com",
            993,
            "info@e-tunnus.fi",
        )
        assert (box.smtp_host, box.smtp_port, box.smtp_security) == (
            "smtp.office365.com",
            587,
            "starttls",
        )
        oauth = session.exec(select(MailboxOAuth)).one()
        assert oauth.token_url == (
            "https://login.microsoftonline.com/e-tunnus.fi/oauth2/v2.0/token"
        )
        assert "https://outlook.office.com/SMTP.Send" in oauth.scopes.split()
        assert oauth.status == OAuthStatus.ok and oauth.account == "info@e-tunnus.fi"
        assert grants.refresh_token(oauth) == "refresh-salaisuus"


def test_a_generic_mailbox_without_a_token_waits_for_a_connect(cli_db: str) -> None:
    out = run(
        "mailbox", "add", "laskut@e-tunnus.fi",
        "--auth", "xoauth2",
        "--imap-host", "mail.example.fi",
        "--smtp-host", "mail.example.fi",
        "--oauth-token-url", "https://idp.example.fi/token",
        "--oauth-scopes", "mail offline",
        "--oauth-client-id", "c",
    )  # fmt: skip
    assert "not connected yet" in out
    assert "xoauth2/generic:not_connected" in run("mailbox", "list")
    out = run("mailbox", "connect", "laskut@e-tunnus.fi", "--oauth-refresh-token", "rt-new")
    assert "connected laskut@e-tunnus.fi" in out
    assert "xoauth2/generic:ok" in run("mailbox", "list")
    with Session(get_engine(cli_db)) as session:
        box = session.exec(select(Mailbox)).one()
        assert (box.imap_host, box.imap_security) == ("mail.example.fi", "ssl")


def test_refusals_say_what_is_missing(cli_db: str) -> None:
    out = run("mailbox", "add", "a@e-tunnus.fi", "--auth", "xoauth2", code=1)
    assert "--oauth-client-id" in out
    out = run(
        "mailbox", "add", "a@e-tunnus.fi", "--auth", "xoauth2",
        "--oauth-provider", "microsoft", "--oauth-client-id", "c", code=1,
    )  # fmt: skip
    assert "tenant" in out
    out = run(
        "mailbox", "add", "a@e-tunnus.fi", "--auth", "xoauth2", "--oauth-provider", "google",
        "--oauth-client-id", "c", "--imap-password", "x", code=1,
    )  # fmt: skip
    assert "no password" in out
    run("mailbox", "connect", "nobody@e-tunnus.fi", "--oauth-refresh-token", "t", code=1)
    with Session(get_engine(cli_db)) as session:
        assert session.exec(select(Mailbox)).all() == []
