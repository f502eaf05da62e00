"""Run the Netvisor sandbox in a background thread, for tests and local demos."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from plugins.invoices.sandboxes.netvisor.app import SANDBOX_CREDENTIALS, create_sandbox_app
from plugins.invoices.sandboxes.netvisor.protocol import Credentials
from plugins.invoices.sandboxes.netvisor.state import SandboxState


@dataclass
class SandboxServer:
    """A sandbox listening on ``url``; ``state`` is the live state it serves.

    ``credentials`` are what it accepts; the client a test points at it is the test's own
    business (the sandbox never imports the plugin's client).
    """

    url: str
    state: SandboxState
    credentials: Credentials = SANDBOX_CREDENTIALS

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``condition`` holds (e.g. the server finished what a client gave up on)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("sandbox condition not reached in time")
            time.sleep(0.02)


@contextmanager
def serve_in_thread(
    state: SandboxState | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[SandboxServer]:
    """Serve a sandbox with uvicorn in a daemon thread (port 0: a free port) until exit."""
    sandbox_state = state if state is not None else SandboxState()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_sandbox_app(sandbox_state), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="netvisor-sandbox", daemon=True
    )
    thread.start()
    running = SandboxServer(url=f"http://{host}:{bound_port}", state=sandbox_state)
    try:
        running.wait_for(lambda: server.started or not thread.is_alive(), timeout=10)
        if not server.started:
            raise RuntimeError("the Netvisor sandbox did not start")
        yield running
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
