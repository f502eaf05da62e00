"""``helpdesk dev``: the demo set-up of ``make run`` — web server plus the background services.

Each background service is a ``helpdesk`` subcommand run as a child process; all of them stop
when the web server stops (Ctrl-C).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from helpdesk.services.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD

#: Background services started beside the web server: (name, helpdesk subcommand).
BACKGROUND: list[tuple[str, list[str]]] = []


def register_background(name: str, args: Sequence[str]) -> None:
    """Plugins and core modules add their demo-time services here."""
    BACKGROUND.append((name, list(args)))


# The worker fetches the demo mailboxes (IDLE) and runs the scheduled jobs.
register_background("worker", ["worker"])
# The demo mailboxes send through a local SMTP sink (var/mail-sink/*.eml); see demo.py.
register_background("mail-sink", ["mail-sink", "--port", "8025"])


def run(host: str, port: int) -> None:
    """Start the background services, then serve until interrupted."""
    children: list[subprocess.Popen[bytes]] = []
    command = [sys.executable, "-m", "helpdesk"]
    for name, args in BACKGROUND:
        print(f"starting {name}: helpdesk {' '.join(args)}", flush=True)
        children.append(subprocess.Popen([*command, *args], env=os.environ.copy()))
    print(
        "\n"
        f"  E-tunnus helpdesk: http://{host}:{port}/\n"
        f"  Log in as {DEMO_ADMIN_EMAIL} with the password {DEMO_ADMIN_PASSWORD}\n"
        "  (Ctrl-C stops everything)\n",
        flush=True,
    )
    try:
        import uvicorn

        uvicorn.run("helpdesk.web.main:app", host=host, port=port, log_level="info")
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
