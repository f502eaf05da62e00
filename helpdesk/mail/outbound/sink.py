"""``helpdesk mail-sink``: a local SMTP server that keeps every mail as an .eml file.

For the demo (``make run``): the demo mailboxes send through it, so replies, emailed
invoices and notices really leave the outbox, and each can be opened from
``var/mail-sink/``. Never for production: it accepts anything from anyone on loopback.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

DEFAULT_PORT = 8025
DEFAULT_FOLDER = Path("var/mail-sink")


class _Store:
    """aiosmtpd handler: write the DATA as ``<time>-<n>.eml`` into the folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data: Any = envelope.original_content or envelope.content or b""
        raw = data if isinstance(data, bytes) else str(data).encode("utf-8")
        with self._lock:
            self.count += 1
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{self.count:04d}.eml"
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / name).write_bytes(raw)
        return "250 Message stored"


def start(host: str, port: int, folder: Path) -> Controller:
    """Start the sink in a background thread; ``stop()`` the result to end it."""
    controller = Controller(_Store(folder), hostname=host, port=port, enable_SMTPUTF8=True)
    controller.start()
    return controller


def run(host: str = "127.0.0.1", port: int = DEFAULT_PORT, folder: Path = DEFAULT_FOLDER) -> None:
    """Serve until interrupted (SIGTERM/Ctrl-C)."""
    controller = start(host, port, folder)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
