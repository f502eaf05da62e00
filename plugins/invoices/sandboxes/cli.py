"""The sandbox commands (``helpdesk netvisor-sandbox``, ``helpdesk maventa-sandbox``) and
the services ``helpdesk dev`` starts from them.

In development, with the Netvisor and Maventa settings at their sandbox defaults,
``helpdesk dev`` (``make run``) starts both sandboxes and fills the queue from Netvisor's
once it answers. The core registers these commands at the start of every ``helpdesk``
command (``hooks.py``), so each imports its sandbox, or the sync, only when it runs.
"""

from __future__ import annotations

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


def netvisor_sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    sync: Annotated[
        bool, typer.Option("--sync", help="Once it answers, sync the helpdesk's queue from it.")
    ] = False,
) -> None:
    """Run the local Netvisor sandbox with the Finnish demo invoices (development only)."""
    from plugins.invoices.sandboxes.netvisor.app import run_sandbox  # when it runs (above)

    if sync:
        threading.Thread(target=_sync_when_up, args=(f"http://{host}:{port}",), daemon=True).start()
    typer.echo(f"Netvisor sandbox on http://{host}:{port}")
    run_sandbox(host, port)


def _sync_when_up(url: str, wait_seconds: float = 20.0) -> None:
    """Fill the demo queue from the sandbox that is starting in this process."""
    from plugins.invoices.sync import run_sync  # when it runs (above)

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
    from plugins.invoices.sandboxes.maventa import run_maventa_sandbox  # when it runs (above)

    typer.echo(f"Maventa sandbox on http://{host}:{port}")
    run_maventa_sandbox(host, port)


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
    """Add the sandbox commands to the ``helpdesk`` CLI."""
    app.command("netvisor-sandbox")(netvisor_sandbox)
    app.command("maventa-sandbox")(maventa_sandbox)
