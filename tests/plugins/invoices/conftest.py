"""Fixtures for the invoice plugin: a real Netvisor sandbox served over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from plugins.invoices.netvisor.sandbox_server import SandboxServer, serve_in_thread


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox with the demo data, on a free loopback port."""
    with serve_in_thread() as server:
        yield server
