"""The sandbox commands (``helpdesk netvisor-sandbox``, ``helpdesk maventa-sandbox``) and
the services ``helpdesk dev`` starts from them.

In development, with the Netvisor and Maventa settings at their sandbox defaults,
``helpdesk dev`` (``make run``) starts both sandboxes on free ports, points the helpdesk at
them (``HELPDESK_NETVISOR_URL``, ``HELPDESK_MAVENTA_URL``) and fills the queue from
Netvisor's once it answers. Another URL on this machine (``http://127.0.0.1:9000``) starts
the sandbox on that port instead; any other URL starts none. The core registers these
commands at the start of every ``helpdesk`` command (``hooks.py``), so each imports its
sandbox, or the sync, only when it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated
from urllib.parse import urlsplit

import httpx
import typer

from helpdesk.plugin_api import DevService, get_settings, session_scope
from plugins.invoices.settings import (
    LOOPBACK_HOSTS,
    MAVENTA_SANDBOX_API_KEY,
    MAVENTA_SANDBOX_CLIENT_ID,
    MAVENTA_SANDBOX_URL,
    MAVENTA_SANDBOX_VENDOR_API_KEY,
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


def sandbox_port(url: str | None, default: str) -> int | None:
    """Where ``helpdesk dev`` runs a sandbox: 0 (a free port) for the default URL, the
    port of a URL given on this machine, None (no sandbox) for any other URL."""
    if not url:
        return None
    if url == default:
        return 0
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return None
    return port if port and (host in LOOPBACK_HOSTS or host.startswith("127.")) else None


_LOCAL_URL = "http://127.0.0.1:{port}"


def dev_services() -> list[DevService]:
    """The sandboxes ``helpdesk dev`` starts: in development, where the settings name them."""
    if get_settings().environment != "development":
        return []
    services = []
    try:
        netvisor = netvisor_settings()
        port = sandbox_port(netvisor.url, NETVISOR_SANDBOX_URL)
        if port is not None:
            # A port chosen at start (0) reaches the app and the worker through the URL.
            env = {} if port else {"HELPDESK_NETVISOR_URL": _LOCAL_URL}
            netvisor_args = ("netvisor-sandbox", "--port", str(port), "--sync")
            services.append(DevService("netvisor-sandbox", netvisor_args, env))
    except NetvisorNotConfigured:
        pass
    try:
        maventa = maventa_settings()
        port = sandbox_port(maventa.url, MAVENTA_SANDBOX_URL)
        if port is not None:
            args = ("maventa-sandbox", "--port", str(port))
            services.append(DevService("maventa-sandbox", args, _maventa_env(port)))
    except ValueError:
        pass
    return services


def _maventa_env(port: int) -> dict[str, str]:
    # A Maventa URL set alone turns the sandbox's credentials off: set them with it.
    if port:
        return {}
    return {
        "HELPDESK_MAVENTA_URL": _LOCAL_URL,
        "HELPDESK_MAVENTA_CLIENT_ID": MAVENTA_SANDBOX_CLIENT_ID,
        "HELPDESK_MAVENTA_API_KEY": MAVENTA_SANDBOX_API_KEY,
        "HELPDESK_MAVENTA_VENDOR_API_KEY": MAVENTA_SANDBOX_VENDOR_API_KEY,
    }


def register(app: typer.Typer) -> None:
    """Add the sandbox commands to the ``helpdesk`` CLI."""
    app.command("netvisor-sandbox")(netvisor_sandbox)
    app.command("maventa-sandbox")(maventa_sandbox)
