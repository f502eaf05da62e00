"""The ``helpdesk`` command line: serve, migrate, demo, agents, mailboxes (plugins add more)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import Annotated

import typer
import uvicorn
from sqlmodel import Session

from helpdesk import migrate as migrations
from helpdesk.cli import devserver
from helpdesk.cli import mail as mail_cli
from helpdesk.cli.outbox import outbox_app
from helpdesk.cli.search import search_app
from helpdesk.cli.startup import refuse_unfit_settings, require_development, settings_or_exit
from helpdesk.cli.users import users_app
from helpdesk.db import session_scope
from helpdesk.models import Agent, Security, utcnow
from helpdesk.plugins import hook
from helpdesk.services import access, agents, mailboxes
from helpdesk.services import demo as demo_service
from helpdesk.services.errors import ServiceError

app = typer.Typer(
    help="E-tunnus helpdesk: shared mailboxes, tickets, calls and invoices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
agent_app = typer.Typer(help="Manage agents (the people who log in).", no_args_is_help=True)
mailbox_app = typer.Typer(help="Manage shared mailboxes.", no_args_is_help=True)
app.add_typer(agent_app, name="agent")
app.add_typer(mailbox_app, name="mailbox")
app.add_typer(outbox_app, name="outbox")
app.add_typer(users_app, name="users")
app.add_typer(search_app, name="search")
mail_cli.register(app)  # helpdesk mail fetch|import|reprocess, helpdesk worker


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        # A line per HTTP request (httpx) or SMTP connection (aiosmtpd's mail.log) is
        # noise; our own loggers say what matters. --verbose shows them again.
        for name in ("alembic", "httpx", "httpcore", "mail.log"):
            logging.getLogger(name).setLevel(logging.WARNING)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="Port to listen on (env PORT).")] = 8000,
    workers: Annotated[int, typer.Option(help="Web worker processes.")] = 1,
) -> None:
    """Serve the web UI and the JSON API."""
    refuse_unfit_settings()
    uvicorn.run(
        "helpdesk.web.main:app",
        host=host,
        port=port,
        workers=workers,
        # X-Forwarded-For is read by the app, from HELPDESK_TRUSTED_PROXIES only.
        proxy_headers=False,
        log_level="info",
    )


@app.command()
def dev(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(envvar="PORT", help="Port to listen on (env PORT; 0: a free one).")
    ] = 8000,
) -> None:
    """Run the demo: the web server plus the worker and the local sandboxes (make run).

    Development only (HELPDESK_ENVIRONMENT=development, which make run sets).
    """
    require_development("dev")
    devserver.run(host, port)


@app.command()
def migrate() -> None:
    """Apply every database migration (core and plugins) to HELPDESK_DATABASE_URL."""
    migrations.upgrade()
    typer.echo("database is up to date")


@app.command()
def demo() -> None:
    """Seed demo data (mailboxes, tickets, users, the admin agent). Safe to run again.

    Development only: the demo admin's password is printed in the README.
    """
    require_development("demo")
    with session_scope() as session:
        summary = demo_service.seed(session)
    typer.echo(json.dumps(summary))


@agent_app.command("create")
def agent_create(
    email: str,
    name: Annotated[str, typer.Option(help="Full name shown on replies and notes.")],
    password: Annotated[str, typer.Option(help="At least 8 characters.")],
    admin: Annotated[bool, typer.Option("--admin", help="Give admin rights.")] = False,
    language: Annotated[str, typer.Option(help="UI language: fi or en.")] = "fi",
) -> None:
    """Create an agent who can log in."""
    with session_scope() as session:
        try:
            agent = agents.create_agent(
                session, email=email, name=name, password=password, admin=admin, language=language
            )
        except ServiceError as exc:
            fail(str(exc))
        typer.echo(f"created {agent.role} {agent.email}")


@agent_app.command("token")
def agent_token(
    email: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    days: Annotated[
        int | None, typer.Option(min=1, help="Expire after this many days (default: never).")
    ] = None,
) -> None:
    """Print a new API token for the agent (only the token, for scripts)."""
    with session_scope() as session:
        agent = agents.get_by_email(session, email)
        if agent is None or not agent.active:
            fail(f"no active agent {email}")
            return
        typer.echo(agents.create_token(session, agent=agent, name=name, valid_days=days))


def _agent(session: Session, email: str) -> Agent:
    agent = agents.get_by_email(session, email)
    if agent is None:
        fail(f"no agent {email}")
        raise AssertionError  # fail() exits
    return agent


def _when(value: datetime | None, empty: str = "-") -> str:
    return value.isoformat(timespec="seconds") if value else empty


@agent_app.command("tokens")
def agent_tokens(email: str) -> None:
    """List the agent's API tokens: id, name, created, last used, expires, state."""
    with session_scope() as session:
        agent = _agent(session, email)
        now = utcnow()
        for token in access.tokens_of(session, agent):
            if token.revoked_at:
                state = f"revoked {_when(token.revoked_at)}"
            elif token.expires_at and token.expires_at <= now:
                state = "expired"
            else:
                state = "active"
            typer.echo(
                f"{token.id}\t{token.name or '-'}\tcreated={_when(token.created_at)}"
                f"\tlast_used={_when(token.last_used_at, 'never')}"
                f"\texpires={_when(token.expires_at, 'never')}\t{state}"
            )


@agent_app.command("revoke-token")
def agent_revoke_token(token_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    """Revoke one API token (its ID from `helpdesk agent tokens`); it stops working at once."""
    with session_scope() as session:
        try:
            token = access.revoke_token(session, token_id=token_id)
        except ServiceError as exc:
            fail(f"{exc}: {token_id}")
            return
        typer.echo(f"revoked token {token.id} ({token.name or '-'})")


@agent_app.command("deactivate")
def agent_deactivate(email: str) -> None:
    """Deactivate an agent: no more logins; their sessions and API tokens end at once."""
    with session_scope() as session:
        agent = _agent(session, email)
        agents.deactivate(session, agent=agent)
        typer.echo(f"deactivated {agent.email}; every session and API token ended")


@mailbox_app.command("add")
def mailbox_add(
    address: str,
    name: Annotated[str, typer.Option("--name", help="Display name on outgoing mail.")] = "",
    imap_host: Annotated[str | None, typer.Option()] = None,
    imap_port: Annotated[int | None, typer.Option()] = None,
    imap_user: Annotated[str | None, typer.Option()] = None,
    imap_password: Annotated[str | None, typer.Option(envvar="HELPDESK_IMAP_PASSWORD")] = None,
    imap_security: Annotated[Security, typer.Option()] = Security.ssl,
    smtp_host: Annotated[str | None, typer.Option()] = None,
    smtp_port: Annotated[int | None, typer.Option()] = None,
    smtp_user: Annotated[str | None, typer.Option()] = None,
    smtp_password: Annotated[str | None, typer.Option(envvar="HELPDESK_SMTP_PASSWORD")] = None,
    smtp_security: Annotated[Security, typer.Option()] = Security.starttls,
) -> None:
    """Add a shared mailbox with its IMAP (mail in) and SMTP (mail out) settings."""
    with session_scope() as session:
        try:
            mailbox = mailboxes.add_mailbox(
                session,
                address=address,
                display_name=name,
                imap_host=imap_host,
                imap_port=imap_port,
                imap_user=imap_user,
                imap_password=imap_password,
                imap_security=imap_security.value,
                smtp_host=smtp_host,
                smtp_port=smtp_port,
                smtp_user=smtp_user,
                smtp_password=smtp_password,
                smtp_security=smtp_security.value,
            )
        except ServiceError as exc:
            fail(str(exc))
            return
        typer.echo(f"added {mailbox.address}")


@mailbox_app.command("list")
def mailbox_list() -> None:
    """List mailboxes with their sync state (passwords are never shown)."""
    with session_scope() as session:
        for s in mailboxes.list_with_stats(session):
            m = s.mailbox
            imap = f"{m.imap_user}@{m.imap_host}:{m.imap_port}" if m.imap_host else "-"
            synced = m.last_sync_at.isoformat() if m.last_sync_at else "never"
            typer.echo(
                f"{m.address}\t{m.display_name}\timap={imap}\tlast_sync={synced}"
                f"\ttickets={s.tickets}\t{'error=' + m.last_error if m.last_error else ''}"
            )


settings_or_exit()  # a clear refusal before the plugins load, not a traceback
hook().helpdesk_cli(app=app)


def run() -> None:  # pragma: no cover - console entry point wrapper
    sys.exit(app())
