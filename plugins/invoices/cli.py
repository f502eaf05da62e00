"""Commands the plugin adds: ``helpdesk invoices sync|dispatch-steps``.

The core registers these commands at the start of every ``helpdesk`` command, so each
command imports the sync or the dispatch only when it runs (see ``hooks.py``). The sandbox
commands are the sandboxes' own (``sandboxes/cli.py``).
"""

from __future__ import annotations

import json

import typer

from helpdesk.plugin_api import session_scope

invoices_app = typer.Typer(help="Netvisor's unsent invoices.", no_args_is_help=True)


@invoices_app.command("sync")
def sync_command() -> None:
    """Sync the unsent-invoice queue from Netvisor once (what the worker does every 5 min)."""
    from plugins.invoices.sync import run_sync  # when it runs (module docstring)

    with session_scope() as session:
        result = run_sync(session)
    if not result.ok:
        typer.echo(f"error: {result.error}", err=True)
        if result.detail:
            typer.echo(result.detail, err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(result.counts()))


@invoices_app.command("dispatch-steps")
def dispatch_steps_command() -> None:
    """Run the due dispatch steps once (what the worker does every 2 s); prints a summary."""
    from plugins.invoices.dispatch.runner import run_due  # when it runs (module docstring)

    with session_scope() as session:
        summary = run_due(session)
    typer.echo(json.dumps(summary.as_dict()))


def register(app: typer.Typer) -> None:
    """Add the plugin's commands to the ``helpdesk`` CLI."""
    app.add_typer(invoices_app, name="invoices")
