"""Commands the plugin adds: ``helpdesk invoices sync|dispatch-steps``, ``helpdesk
netvisor-sandbox`` and ``helpdesk maventa-sandbox``.

In development, with the Netvisor and Maventa settings at their sandbox defaults,
``helpdesk dev`` (``make run``) also starts both sandboxes and fills the queue from
Netvisor's once it answers.

The core registers these commands at the start of every ``helpdesk`` command, so each
command imports the sync, the dispatch or a sandbox only when it runs (see ``hooks.py``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Annotated

import httpx
import typer

from helpdesk.plugin_api import DevService, get_settings, session_scope
from plugins.invoices.settings import (
    MAVENTA_SANDBOX_PORT,
    MAVENTA_SANDBOX_URL,
    NETVISOR_SANDBOX_PORT,
    NETVISOR_SANDBOX_URL,
    NetvisorNotConfigured,
    maventa_settings,
    netvisor_settings,
)

log = logging.getLogger(__name__)

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


def netvisor_sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    sync: Annotated[
        bool, typer.Option("--sync", help="Once it answers, sync the helpdesk's queue from it.")
    ] = False,
) -> None:
    """Run the local Netvisor sandbox with the Finnish demo invoices (development only)."""
    # Development only: a production process never loads the sandboxes.
    from plugins.invoices.sandboxes.netvisor.app import run_sandbox

    if sync:
        threading.Thread(target=_sync_when_up, args=(f"http://{host}:{port}",), daemon=True).start()
    typer.echo(f"Netvisor sandbox on http://{host}:{port}")
    run_sandbox(host, port)


def _sync_when_up(url: str, wait_seconds: float = 20.0) -> None:
    """Fill the demo queue from the sandbox that is starting in this process."""
    from plugins.invoices.sync import run_sync  # when it runs (module docstring)

    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_sandbox/state", timeout=2)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        log.warning("the Netvisor sandbox did not answer; the queue was not synced")
        return
    try:
        with session_scope() as session:
            result = run_sync(session)
        log.info("demo invoice sync: %s", result.counts() if result.ok else result.error)
    except Exception:  # a demo convenience must never take the sandbox down
        log.exception("demo invoice sync failed")


def maventa_sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8099,
) -> None:
    """Run the local Maventa AutoXChange sandbox (print service and e-invoices; development)."""
    # Development only, as for netvisor-sandbox above.
    from plugins.invoices.sandboxes.maventa import run_maventa_sandbox

    typer.echo(f"Maventa sandbox on http://{host}:{port}")
    run_maventa_sandbox(host, port)


@invoices_app.command("dispatch-steps")
def dispatch_steps_command() -> None:
    """Run the due dispatch steps once (what the worker does every 2 s); prints a summary."""
    from plugins.invoices.dispatch.runner import run_due  # when it runs (module docstring)

    with session_scope() as session:
        summary = run_due(session)
    typer.echo(json.dumps(summary.as_dict()))


def dev_services() -> list[DevService]:
    """The sandboxes ``helpdesk dev`` starts: in development, where the settings name them."""
    if get_settings().environment != "development":
        return []
    services = []
    try:
        if netvisor_settings().url == NETVISOR_SANDBOX_URL:
            port = str(NETVISOR_SANDBOX_PORT)
            args = ("netvisor-sandbox", "--port", port, "--sync")
            services.append(DevService("netvisor-sandbox", args))
    except NetvisorNotConfigured:
        pass
    try:
        if maventa_settings().url == MAVENTA_SANDBOX_URL:
            port = str(MAVENTA_SANDBOX_PORT)
            services.append(DevService("maventa-sandbox", ("maventa-sandbox", "--port", port)))
    except ValueError:
        pass
    return services


def register(app: typer.Typer) -> None:
    """Add the plugin's commands to the ``helpdesk`` CLI."""
    app.add_typer(invoices_app, name="invoices")
    app.command("netvisor-sandbox")(netvisor_sandbox)
    app.command("maventa-sandbox")(maventa_sandbox)
