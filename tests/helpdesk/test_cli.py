"""The ``helpdesk`` command line against a real (scratch) database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select
from typer.testing import CliRunner

from helpdesk.cli import app
from helpdesk.db import get_engine, reset_engines
from helpdesk.models import Agent, AuditEvent, EtunnusUser, Mailbox, Message, Ticket
from helpdesk.services import access, agents
from helpdesk.settings import get_settings
from helpdesk.web.app import create_app

runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path, monkeypatch) -> str:
    """A scratch SQLite database the commands use through the settings."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(get_settings(), "database_url", url)
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path / "data")
    yield url
    reset_engines()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def _counts(url: str) -> dict[str, int]:
    with Session(get_engine(url)) as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Agent, Mailbox, EtunnusUser, Ticket, Message)
        }


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    # Typer vendors its own click, so groups are recognised by their sub-commands.
    found = [prefix]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", _commands(typer.main.get_command(app)), ids=" ".join)
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_core_commands_exist():
    names = set(_commands(typer.main.get_command(app)))
    for command in [
        ("serve",),
        ("migrate",),
        ("demo",),
        ("agent", "create"),
        ("agent", "token"),
        ("agent", "tokens"),
        ("agent", "revoke-token"),
        ("agent", "deactivate"),
        ("mailbox", "add"),
        ("mailbox", "list"),
    ]:
        assert command in names


def test_migrate_and_demo_is_idempotent(cli_db, monkeypatch):
    monkeypatch.setattr(get_settings(), "environment", "development")  # as make run sets it
    assert "up to date" in run("migrate")
    run("demo")
    first = _counts(cli_db)
    assert first["Mailbox"] >= 2 and first["Ticket"] >= 25 and first["EtunnusUser"] >= 3
    run("demo")
    assert _counts(cli_db) == first
    with Session(get_engine(cli_db)) as session:
        addresses = set(session.exec(select(Mailbox.address)))
        assert {"asiakaspalvelu@e-tunnus.fi", "info@e-tunnus.fi"} <= addresses
        admin = session.exec(select(Agent).where(Agent.role == "admin")).first()
        assert admin is not None


def test_agent_create_and_token_works_on_the_api(cli_db):
    run("migrate")
    out = run(
        "agent", "create", "Liisa@E-tunnus.fi", "--name", "Liisa", "--password", "salasana-123"
    )
    assert "liisa@e-tunnus.fi" in out and "salasana-123" not in out
    duplicate = runner.invoke(
        app, ["agent", "create", "liisa@e-tunnus.fi", "--name", "L", "--password", "salasana-123"]
    )
    assert duplicate.exit_code == 1
    token_out = run("agent", "token", "liisa@e-tunnus.fi")
    lines = token_out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hd_")
    with TestClient(create_app()) as client:
        ok = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {lines[0]}"})
        assert ok.status_code == 200
        assert client.get("/api/v1/tickets").status_code == 401
    assert runner.invoke(app, ["agent", "token", "nobody@e-tunnus.fi"]).exit_code == 1


def test_mailbox_add_and_list_never_print_passwords(cli_db):
    run("migrate")
    out = run(
        "mailbox",
        "add",
        "Info@E-tunnus.fi",
        "--name",
        "E-tunnus info",
        "--imap-host",
        "imap.example.fi",
        "--imap-port",
        "993",
        "--imap-user",
        "info",
        "--imap-password",
        "imap-salaisuus",
        "--smtp-host",
        "smtp.example.fi",
        "--smtp-password",
        "smtp-salaisuus",
        "--smtp-security",
        "ssl",
    )
    assert "info@e-tunnus.fi" in out
    listing = run("mailbox", "list")
    assert "info@e-tunnus.fi" in listing and "imap.example.fi" in listing
    for secret in ("imap-salaisuus", "smtp-salaisuus"):
        assert secret not in out + listing
    with Session(get_engine(cli_db)) as session:
        box = session.exec(select(Mailbox)).one()
        assert (box.imap_password, box.smtp_security) == ("imap-salaisuus", "ssl")
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "mailbox.create")).one()
        assert "salaisuus" not in str(audit.details)
    bad = runner.invoke(app, ["mailbox", "add", "x@e-tunnus.fi", "--imap-security", "tls"])
    assert bad.exit_code != 0


def test_commands_honour_helpdesk_database_url(tmp_path):
    # A real process: the URL comes only from the environment.
    db = tmp_path / "env.db"
    env = os.environ | {"HELPDESK_DATABASE_URL": f"sqlite:///{db}"}
    helpdesk = [sys.executable, "-m", "helpdesk"]
    root = Path(__file__).resolve().parents[2]
    for args in (["migrate"], ["mailbox", "add", "env@e-tunnus.fi"], ["mailbox", "list"]):
        done = subprocess.run(
            [*helpdesk, *args], env=env, cwd=root, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
    assert "env@e-tunnus.fi" in done.stdout
    assert db.exists()


def test_agent_tokens_are_listed_revoked_and_ended_by_deactivation(cli_db):
    run("migrate")
    run("agent", "create", "pekka@e-tunnus.fi", "--name", "Pekka", "--password", "salasana-123")
    kept = run("agent", "token", "pekka@e-tunnus.fi", "--name", "raportit").strip()
    dropped = run("agent", "token", "pekka@e-tunnus.fi", "--name", "vanha", "--days", "30").strip()
    lines = run("agent", "tokens", "pekka@e-tunnus.fi").splitlines()
    assert [line.split("\t")[1] for line in lines] == ["vanha", "raportit"]
    assert all(line.endswith("\tactive") and "last_used=never" in line for line in lines)
    assert "expires=never" in lines[1] and "expires=never" not in lines[0]
    assert kept not in "".join(lines) and dropped not in "".join(lines)

    dropped_id = lines[0].split("\t")[0]
    assert "revoked token" in run("agent", "revoke-token", dropped_id)
    assert "\trevoked " in run("agent", "tokens", "pekka@e-tunnus.fi").splitlines()[0]
    assert runner.invoke(app, ["agent", "revoke-token", "999999"]).exit_code == 1

    with Session(get_engine(cli_db)) as session:
        agent = agents.get_by_email(session, "pekka@e-tunnus.fi")
        cookie_id = access.start_session(session, agent=agent, ip="192.0.2.1")
        assert access.live_session(session, cookie_id) is not None
    with TestClient(create_app()) as client:

        def status(token: str) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            return client.get("/api/v1/tickets", headers=headers).status_code

        assert (status(kept), status(dropped)) == (200, 401)
        assert "deactivated pekka@e-tunnus.fi" in run("agent", "deactivate", "pekka@e-tunnus.fi")
        assert status(kept) == 401
    with Session(get_engine(cli_db)) as session:
        assert access.live_session(session, cookie_id) is None
    assert all(
        "\trevoked " in line for line in run("agent", "tokens", "pekka@e-tunnus.fi").splitlines()
    )
    assert runner.invoke(app, ["agent", "deactivate", "nobody@e-tunnus.fi"]).exit_code == 1


@pytest.mark.parametrize("command", ["demo", "dev"])
def test_demo_and_dev_refuse_outside_development(cli_db, command):
    result = runner.invoke(app, [command])
    assert result.exit_code == 2
    assert "HELPDESK_ENVIRONMENT=development" in result.stderr


def _helpdesk(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    return subprocess.run(
        [sys.executable, "-m", "helpdesk", *args],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_by_default_refuses_the_development_secret_clearly(tmp_path):
    done = _helpdesk("migrate", HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    assert done.returncode == 2
    assert "HELPDESK_SECRET_KEY" in done.stderr and "in production" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_and_worker_refuse_a_sandbox_in_production(tmp_path):
    env = {
        "HELPDESK_SECRET_KEY": "k" * 40,
        "HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "HELPDESK_NETVISOR_URL": "http://127.0.0.1:8765",
    }
    for command in ("serve", "worker"):
        done = _helpdesk(command, **env)
        assert done.returncode == 2, done.stderr
        assert "HELPDESK_NETVISOR_URL" in done.stderr and "sandbox" in done.stderr
        assert "Traceback" not in done.stderr


def test_make_run_is_development():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "run: export HELPDESK_ENVIRONMENT := development" in makefile
