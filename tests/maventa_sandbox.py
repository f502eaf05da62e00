"""The plugin's Maventa client pointed at the Maventa sandbox, for tests.

The sandbox (plugins/invoices/sandboxes/maventa.py) is written from Maventa's published
OpenAPI and guides and never imports the client; joining the two is the tests' business,
here.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from plugins.invoices.maventa import MaventaClient, MaventaConfig
from plugins.invoices.sandboxes.maventa import (
    SANDBOX_API_KEY,
    SANDBOX_CLIENT_ID,
    SANDBOX_VENDOR_API_KEY,
    MaventaSandboxState,
    create_maventa_sandbox,
    get_sandbox_state,
)


@dataclass
class MaventaServer:
    """A running sandbox, and clients of the plugin configured for it."""

    url: str
    state: MaventaSandboxState
    clients: list[MaventaClient] = field(default_factory=list)

    def config(self, **overrides: Any) -> MaventaConfig:
        """A client configuration the sandbox accepts (override e.g. ``api_key``)."""
        values: dict[str, Any] = {
            "base_url": self.url,
            "client_id": SANDBOX_CLIENT_ID,
            "api_key": SANDBOX_API_KEY,
            "vendor_api_key": SANDBOX_VENDOR_API_KEY,
            "timeout": 10,
        } | overrides
        return MaventaConfig(**values)

    def client(self, **overrides: Any) -> MaventaClient:
        """A client for this sandbox; closed when the server stops."""
        client = MaventaClient(self.config(**overrides))
        self.clients.append(client)
        return client


@contextmanager
def serve_maventa(**options: Any) -> Iterator[MaventaServer]:
    """The Maventa sandbox served by uvicorn in a daemon thread on a free loopback port."""
    app = create_maventa_sandbox(**options)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the Maventa sandbox did not start"
        time.sleep(0.02)
    running = MaventaServer(f"http://127.0.0.1:{port}", get_sandbox_state(app))
    try:
        yield running
    finally:
        for client in running.clients:
            client.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def finvoice(
    number: str = "100777001",
    *,
    buyer: str = "Testiyhtiö Oy",
    street: str = "Testikatu 1",
    postcode: str = "00100",
    town: str = "Helsinki",
) -> bytes:
    """A small Finvoice 3.0 message with what the sandbox reads (number, buyer, address)."""
    text = f"""<?xml version="1.0" encoding="ISO-8859-15"?>
<Finvoice Version="3.0">
  <BuyerPartyDetails>
    <BuyerOrganisationName>{buyer}</BuyerOrganisationName>
    <BuyerPostalAddressDetails>
      <BuyerStreetName>{street}</BuyerStreetName>
      <BuyerTownName>{town}</BuyerTownName>
      <BuyerPostCodeIdentifier>{postcode}</BuyerPostCodeIdentifier>
      <CountryCode>FI</CountryCode>
    </BuyerPostalAddressDetails>
  </BuyerPartyDetails>
  <InvoiceDetails><InvoiceNumber>{number}</InvoiceNumber></InvoiceDetails>
</Finvoice>
"""
    return text.encode("iso-8859-15")
