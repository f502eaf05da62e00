"""Fixtures for the invoice plugin: a real Netvisor sandbox served over loopback HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from maventa_sandbox import MaventaServer, serve_maventa
from netvisor_sandbox import NetvisorSandbox, serve_netvisor

from plugins.invoices.sandboxes.netvisor.state import SandboxState
from plugins.invoices.settings import invoice_settings


@pytest.fixture
def sandbox() -> Iterator[NetvisorSandbox]:
    """A fresh sandbox with the demo data, on a free loopback port."""
    with serve_netvisor() as server:
        yield server


@pytest.fixture
def netvisor_env(sandbox: NetvisorSandbox, monkeypatch: pytest.MonkeyPatch) -> NetvisorSandbox:
    """Point the plugin's Netvisor settings at the test sandbox (its test credentials)."""
    monkeypatch.setenv("HELPDESK_NETVISOR_URL", sandbox.url)
    return sandbox


# --- dispatch: a Netvisor sandbox without the demo invoices, and a Maventa sandbox ---


@pytest.fixture
def bare_sandbox() -> Iterator[NetvisorSandbox]:
    """A Netvisor sandbox holding only what the test adds."""
    with serve_netvisor(SandboxState(demo=False)) as server:
        yield server


@pytest.fixture
def maventa() -> Iterator[MaventaServer]:
    """A Maventa AutoXChange sandbox on a free loopback port."""
    with serve_maventa() as server:
        yield server


@pytest.fixture
def invoice_settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change HELPDESK_INVOICES_* for one test (the settings are cached per process)."""
    invoice_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    invoice_settings.cache_clear()


# The dispatch tests send through the real SMTP server into Dovecot.
_TESTS_DIR = str(Path(__file__).resolve().parents[2])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from mailservers import *  # noqa: E402, F403
