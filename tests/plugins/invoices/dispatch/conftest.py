"""Fixtures for the dispatch tests."""

from __future__ import annotations

import factories
import pytest
from invoice_dispatch import etunnus_user
from netvisor_sandbox import NetvisorSandbox
from sqlmodel import Session


@pytest.fixture
def queue_ready(
    session: Session, bare_sandbox: NetvisorSandbox, invoice_settings_env, data_dir
) -> NetvisorSandbox:
    """A bare Netvisor sandbox the plugin reads, the notice mailbox and user ETUNNUS."""
    invoice_settings_env.setenv("HELPDESK_NETVISOR_URL", bare_sandbox.url)
    factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    etunnus_user(session, "tiina@example.fi")
    return bare_sandbox
