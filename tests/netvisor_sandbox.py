"""The plugin's Netvisor client pointed at the Netvisor sandbox, for tests.

The sandbox (plugins/invoices/sandboxes/netvisor) is written from Netvisor's documents and
never imports the client; joining the two is the tests' business, here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from plugins.invoices.netvisor import NetvisorClient, NetvisorConfig
from plugins.invoices.sandboxes.netvisor.server import SandboxServer, serve_in_thread
from plugins.invoices.sandboxes.netvisor.state import SandboxState


@dataclass
class NetvisorSandbox:
    """A running sandbox, and clients of the plugin configured for it."""

    server: SandboxServer
    clients: list[NetvisorClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def state(self) -> SandboxState:
        return self.server.state

    def wait_for(self, condition: Any, timeout: float = 5.0) -> None:
        self.server.wait_for(condition, timeout)

    def config(self, **overrides: Any) -> NetvisorConfig:
        """A client configuration the sandbox accepts (override e.g. ``timeout``)."""
        known = self.server.credentials
        values: dict[str, Any] = {
            "url": self.url,
            "sender": known.sender,
            "customer_id": known.customer_id,
            "customer_key": known.customer_key,
            "partner_id": known.partner_id,
            "partner_key": known.partner_key,
            "organisation_id": known.organisation_id,
        } | overrides
        return NetvisorConfig(**values)

    def client(
        self, *, max_attempts: int = 3, backoff_seconds: float = 0.01, **overrides: Any
    ) -> NetvisorClient:
        """A client for this sandbox with a short backoff; closed when the server stops."""
        client = NetvisorClient(
            self.config(**overrides), max_attempts=max_attempts, backoff_seconds=backoff_seconds
        )
        self.clients.append(client)
        return client


@contextmanager
def serve_netvisor(state: SandboxState | None = None) -> Iterator[NetvisorSandbox]:
    """A sandbox on a free loopback port (the demo data unless ``state`` says otherwise)."""
    with serve_in_thread(state) as server:
        running = NetvisorSandbox(server)
        try:
            yield running
        finally:
            for client in running.clients:
                client.close()
