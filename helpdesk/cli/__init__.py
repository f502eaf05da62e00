"""The ``helpdesk`` command line: serve, migrate, demo, agents, mailboxes (plugins add more)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import Annotated, Any

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
from helpdesk.models import Agent, MailboxAuth, OAuthProvider, OAuthStatus, Security, utcnow
from helpdesk.plugins import hook
from helpdesk.services import access, agents, mailboxes
from helpdesk.services import demo as demo_service
from helpdesk.services.errors import ServiceError
from helpdesk.services.oauth import grants

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
    auth: Annotated[
        MailboxAuth,
        typer.Option(help="How IMAP and SMTP sign in: a password, or OAuth 2.0 (XOAUTH2)."),
    ] = MailboxAuth.password,
    oauth_provider: Annotated[
        OAuthProvider,
        typer.Option(
            help="microsoft and google fill in the endpoints, scopes and mail servers; "
            "generic needs --oauth-token-url and --oauth-scopes."
        ),
    ] = OAuthProvider.generic,
    oauth_tenant: Annotated[
        str | None, typer.Option(help="Microsoft Entra tenant: directory id or domain.")
    ] = None,
    oauth_client_id: Annotated[str | None, typer.Option(help="The app's client id.")] = None,
    oauth_client_secret: Annotated[
        str | None,
        typer.Option(envvar="HELPDESK_OAUTH_CLIENT_SECRET", help="The app's client secret."),
    ] = None,
    oauth_refresh_token: Annotated[
        str | None,
        typer.Option(
            envvar="HELPDESK_OAUTH_REFRESH_TOKEN",
            help="A refresh token of the mailbox's account; without it, connect the mailbox "
            "from its settings page.",
        ),
    ] = None,
    oauth_account: Annotated[
        str | None, typer.Option(help="The account the refresh token belongs to (shown).")
    ] = None,
    oauth_token_url: Annotated[
        str | None, typer.Option(help="Token endpoint (generic; overrides the provider's).")
    ] = None,
    oauth_authorize_url: Annotated[
        str | None, typer.Option(help="Authorization endpoint (generic; overrides too).")
    ] = None,
    oauth_scopes: Annotated[
        str | None, typer.Option(help="Space-separated scopes (generic; overrides too).")
    ] = None,
) -> None:
    """Add a shared mailbox with its IMAP (mail in) and SMTP (mail out) settings.

    With --auth xoauth2 the mailbox signs in with OAuth 2.0 instead of a password; the
    secrets are stored encrypted. Example (Microsoft 365):
    helpdesk mailbox add info@e-tunnus.fi --auth xoauth2 --oauth-provider microsoft
    --oauth-tenant e-tunnus.fi --oauth-client-id ID --oauth-client-secret SECRET
    --oauth-refresh-token TOKEN
    """
    values: dict[str, Any] = {
        "display_name": name,
        "imap_host": imap_host,
        "imap_port": imap_port,
        "imap_user": imap_user,
        "imap_security": imap_security.value,
        "smtp_host": smtp_host,
        "smtp_port": smtp_port,
        "smtp_user": smtp_user,
        "smtp_security": smtp_security.value,
    }
    with session_scope() as session:
        try:
            if auth is MailboxAuth.xoauth2:
                if imap_password or smtp_password:
                    fail("an xoauth2 mailbox has no password; leave out --imap/smtp-password")
                if not oauth_client_id:
                    fail("--auth xoauth2 needs --oauth-client-id")
                    return
                mailbox = grants.add_xoauth2_mailbox(
                    session,
                    address=address,
                    client=grants.OAuthClient(
                        provider=oauth_provider,
                        client_id=oauth_client_id,
                        client_secret=oauth_client_secret,
                        tenant=oauth_tenant,
                        authorize_url=oauth_authorize_url,
                        token_url=oauth_token_url,
                        scopes=oauth_scopes,
                    ),
                    grant=grants.Grant(
                        oauth_refresh_token, account=oauth_account or address.strip().lower()
                    )
                    if oauth_refresh_token
                    else None,
                    **_given_servers(values),
                )
            else:
                mailbox = mailboxes.add_mailbox(
                    session,
                    address=address,
                    imap_password=imap_password,
                    smtp_password=smtp_password,
                    **values,
                )
        except ServiceError as exc:
            fail(str(exc))
            return
        typer.echo(f"added {mailbox.address}")
        if auth is MailboxAuth.xoauth2 and not oauth_refresh_token:
            typer.echo("not connected yet: connect it from its settings page")


def _given_servers(values: dict[str, Any]) -> dict[str, Any]:
    """The server options given; a provider's own servers fill in the rest."""
    given = {k: v for k, v in values.items() if v is not None}
    for kind in ("imap", "smtp"):
        if values[f"{kind}_host"] is None:
            given.pop(f"{kind}_security", None)
    return given


@mailbox_app.command("connect")
def mailbox_connect(
    address: str,
    oauth_refresh_token: Annotated[
        str,
        typer.Option(envvar="HELPDESK_OAUTH_REFRESH_TOKEN", help="A new refresh token."),
    ],
    oauth_account: Annotated[
        str | None, typer.Option(help="The account the refresh token belongs to (shown).")
    ] = None,
) -> None:
    """Reconnect an xoauth2 mailbox with a new refresh token (headless reconnect).

    Fetching and sending resume; replies that waited for it go at once.
    """
    with session_scope() as session:
        mailbox = mailboxes.by_address(session, address)
        if mailbox is None:
            fail(f"no mailbox {address}")
            return
        try:
            grants.save_grant(
                session,
                mailbox=mailbox,
                grant=grants.Grant(oauth_refresh_token, account=oauth_account),
            )
        except ServiceError as exc:
            fail(str(exc))
            return
        typer.echo(f"connected {mailbox.address}")


@mailbox_app.command("list")
def mailbox_list() -> None:
    """List mailboxes with their sign-in, sync state and errors (secrets are never shown)."""
    with session_scope() as session:
        oauth = {row.mailbox_id: row for row in grants.all_oauth(session)}
        for s in mailboxes.list_with_stats(session):
            m = s.mailbox
            imap = f"{m.imap_user}@{m.imap_host}:{m.imap_port}" if m.imap_host else "-"
            synced = m.last_sync_at.isoformat() if m.last_sync_at else "never"
            sign_in = str(m.auth)
            row = oauth.get(m.id or 0)
            if m.auth == MailboxAuth.xoauth2 and row is not None:
                sign_in += f"/{row.provider}:{row.status}"
                if row.status_reason and row.status != OAuthStatus.ok:
                    sign_in += f" ({row.status_reason})"
            typer.echo(
                f"{m.address}\t{m.display_name}\tauth={sign_in}\timap={imap}"
                f"\tlast_sync={synced}\ttickets={s.tickets}"
                f"\t{'error=' + m.last_error if m.last_error else ''}"
            )


settings_or_exit()  # a clear refusal before the plugins load, not a traceback
hook().helpdesk_cli(app=app)


def run() -> None:  # pragma: no cover - console entry point wrapper
    sys.exit(app())
