"""``helpdesk dev``: the demo set-up of ``make run`` — web server plus the background services.

Each background service is a ``helpdesk`` subcommand run as a child process; all of them stop
when the web server stops (Ctrl-C). The core's are below; plugins add theirs through the
``helpdesk_dev_services`` hook (the invoice plugin's Netvisor and Maventa sandboxes).

A service asking for ``--port 0`` gets a free loopback port at start (``plan``), and its
``env`` (e.g. ``HELPDESK_NETVISOR_URL``) points the web app and the other children at it;
the demo mailboxes are pointed at the mail sink's port. So two checkouts run side by side.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace

import uvicorn

from helpdesk.db import session_scope
from helpdesk.hookspecs import DevService
from helpdesk.plugins import collect, hook
from helpdesk.services.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, point_at_mail_sink

LOOPBACK = "127.0.0.1"
MAIL_SINK = "mail-sink"

CORE_SERVICES = (
    # The worker fetches the demo mailboxes (IDLE) and runs the scheduled jobs.
    DevService("worker", ("worker",)),
    # The demo mailboxes send through a local SMTP sink (var/mail-sink/*.eml); see demo.py.
    DevService(MAIL_SINK, (MAIL_SINK, "--port", "0")),
)


def background() -> list[DevService]:
    """The services started beside the web server: the core's, then the plugins'."""
    return [*CORE_SERVICES, *collect(hook().helpdesk_dev_services())]


def banner(host: str, port: int) -> str:
    """The URL and the demo login, as printed by ``helpdesk dev``."""
    return (
        "\n"
        f"  E-tunnus helpdesk: http://{host}:{port}/\n"
        f"  Log in as {DEMO_ADMIN_EMAIL} with the password {DEMO_ADMIN_PASSWORD}\n"
        "  (Ctrl-C stops everything)\n"
    )


def port_of(service: DevService) -> int | None:
    """The port in the service's ``--port N`` (0: not chosen yet), or None without one."""
    args = service.args
    if "--port" not in args[:-1]:
        return None
    return int(args[args.index("--port") + 1])


@contextlib.contextmanager
def _held_ports() -> Iterator[list[socket.socket]]:
    # Each chosen port stays bound until all are chosen, so no two services get the same.
    held: list[socket.socket] = []
    try:
        yield held
    finally:
        for sock in held:
            sock.close()


def _free_port(held: list[socket.socket], avoid: Collection[int] = ()) -> int:
    while True:
        sock = socket.socket()
        held.append(sock)
        sock.bind((LOOPBACK, 0))
        port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with _held_ports() as held:
        return _free_port(held)


def plan(
    services: Sequence[DevService], avoid: Collection[int] = ()
) -> tuple[list[DevService], dict[str, str]]:
    """The services with every ``--port 0`` replaced by a free loopback port (none in
    ``avoid``), and the environment their ``env`` asks for (``{port}`` filled in)."""
    resolved: list[DevService] = []
    env: dict[str, str] = {}
    with _held_ports() as held:
        for service in services:
            port = port_of(service)
            if port == 0:
                port = _free_port(held, avoid)
                at = service.args.index("--port") + 1
                args = (*service.args[:at], str(port), *service.args[at + 1 :])
                service = replace(service, args=args)
            for name, value in service.env.items():
                env[name] = value.replace("{port}", str(port))
            resolved.append(service)
    return resolved, env


def service_ports(
    host: str, port: int, services: Sequence[DevService] | None = None
) -> list[tuple[str, int]]:
    """Where the web server and each background service with a ``--port`` listen."""
    ports = [(host, port)]
    for service in background() if services is None else services:
        service_port = port_of(service)
        if service_port is not None:
            ports.append((LOOPBACK, service_port))
    return ports


def wait_for_ports(ports: Sequence[tuple[str, int]], timeout: float = 30.0) -> bool:
    """True once every (host, port) accepts a connection, False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    for address in ports:
        while True:
            try:
                socket.create_connection(address, timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.2)
    return True


def _announce_when_ready(host: str, port: int, services: Sequence[DevService]) -> None:
    # The services' start-up lines scroll the first banner away; repeat it once all listen.
    if wait_for_ports(service_ports(host, port, services)):
        time.sleep(0.5)  # let the last start-up lines print first
        print(banner(host, port), flush=True)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # Linux: the child gets SIGTERM when `helpdesk dev` dies, even by SIGKILL, so no
    # worker or sandbox is left running without its web server.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    # uvicorn shuts down on SIGTERM and then raises the signal again; exiting through
    # SystemExit (not the default action) lets `run` stop the background services.
    raise SystemExit(0)


def prepare(web_port: int) -> list[DevService]:
    """Choose the services' ports and point this process (the web app), its children and
    the demo mailboxes at them; the services to start."""
    services, env = plan(background(), avoid=(web_port,))
    os.environ.update(env)  # the web app runs in this process; children copy it
    for service in services:
        sink_port = port_of(service)
        if service.name == MAIL_SINK and sink_port:
            with session_scope() as session:
                point_at_mail_sink(session, sink_port)
    return services


def run(host: str, port: int) -> None:
    """Start the background services, then serve until interrupted (``port`` 0: a free one)."""
    children: list[subprocess.Popen[bytes]] = []
    command = [sys.executable, "-m", "helpdesk"]
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    port = port or free_port()
    services = prepare(port)
    for service in services:
        print(f"starting {service.name}: helpdesk {' '.join(service.args)}", flush=True)
        children.append(
            subprocess.Popen([*command, *service.args], env=os.environ.copy(), preexec_fn=preexec)
        )
    print(banner(host, port), flush=True)
    threading.Thread(target=_announce_when_ready, args=(host, port, services), daemon=True).start()
    try:
        uvicorn.run(
            "helpdesk.web.main:app", host=host, port=port, log_level="info", proxy_headers=False
        )
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
