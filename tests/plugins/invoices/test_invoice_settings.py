"""The plugin's settings: development defaults, and what production refuses."""

from __future__ import annotations

import pytest

from helpdesk.settings import get_settings
from plugins.invoices.sandboxes import maventa as maventa_sandbox
from plugins.invoices.sandboxes.netvisor.app import SANDBOX_CREDENTIALS
from plugins.invoices.settings import (
    MaventaSettings,
    NetvisorNotConfigured,
    NetvisorSettings,
    netvisor_settings,
)


def test_settings_refuse_sandbox_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "environment", "production")
    with pytest.raises(NetvisorNotConfigured, match="sandbox"):
        netvisor_settings()
    monkeypatch.setenv("HELPDESK_NETVISOR_URL", "https://isvapi.netvisor.fi")
    monkeypatch.setenv("HELPDESK_NETVISOR_CUSTOMER_KEY", "real-customer-key")
    monkeypatch.setenv("HELPDESK_NETVISOR_PARTNER_KEY", "real-partner-key")
    settings = netvisor_settings()
    assert "real-customer-key" not in repr(settings) and "real-partner-key" not in str(settings)
    assert settings.client_config().customer_key == "real-customer-key"


def test_settings_in_development_default_to_the_sandbox() -> None:
    settings = NetvisorSettings()
    assert settings.url == "http://127.0.0.1:8765" and settings.uses_sandbox_defaults


def test_development_defaults_are_what_the_sandboxes_accept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The settings spell the sandboxes' test credentials out rather than import them.
    netvisor = NetvisorSettings()
    config = netvisor.client_config()
    accepted = SANDBOX_CREDENTIALS
    assert (config.url, config.sender, config.customer_id, config.partner_id) == (
        "http://127.0.0.1:8765",
        accepted.sender,
        accepted.customer_id,
        accepted.partner_id,
    )
    assert (config.customer_key, config.partner_key, config.organisation_id) == (
        accepted.customer_key,
        accepted.partner_key,
        accepted.organisation_id,
    )

    monkeypatch.setattr(get_settings(), "environment", "development")
    maventa = MaventaSettings().client_config()
    assert maventa.client_id == maventa_sandbox.SANDBOX_CLIENT_ID
    assert maventa.api_key == maventa_sandbox.SANDBOX_API_KEY
    assert maventa.vendor_api_key == maventa_sandbox.SANDBOX_VENDOR_API_KEY


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("HELPDESK_NETVISOR_SENDER", "Laskut € Oy", "'€'"),
        ("HELPDESK_NETVISOR_ORGANISATION_ID", "1957204-1 ", "space at the start or end"),
        ("HELPDESK_NETVISOR_CUSTOMER_ID", "ETU\n123", "'\\n'"),
        ("HELPDESK_NETVISOR_PARTNER_KEY", "avain–ž", "'ž'"),
    ],
)
def test_maced_header_values_outside_iso_8859_1_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(NetvisorNotConfigured) as caught:
        netvisor_settings()
    message = str(caught.value)
    assert variable in message and "ISO-8859-1" in message and named in message
    assert "avain" not in message  # a key's value is never echoed


def test_scandinavian_letters_in_the_sender_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_NETVISOR_SENDER", "E-tunnus asiakaspalvelu (Åbo/Vähäkyrö)")
    assert netvisor_settings().client_config().sender == "E-tunnus asiakaspalvelu (Åbo/Vähäkyrö)"
