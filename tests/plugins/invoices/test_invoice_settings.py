"""The plugin's settings: development defaults, and what production refuses."""

from __future__ import annotations

import os

import pytest

from helpdesk.plugins import SettingsRefused
from helpdesk.settings import get_settings
from helpdesk.web.app import create_app
from plugins.invoices.sandboxes import maventa as maventa_sandbox
from plugins.invoices.sandboxes.netvisor.app import SANDBOX_CREDENTIALS
from plugins.invoices.settings import (
    NETVISOR_NOT_CONFIGURED,
    MaventaSettings,
    NetvisorNotConfigured,
    NetvisorSettings,
    netvisor_client,
    netvisor_problem,
    netvisor_settings,
    production_problems,
)

#: A production configuration with nothing of the sandboxes or the demo in it.
REAL = {
    "HELPDESK_NETVISOR_URL": "https://isvapi.netvisor.fi",
    "HELPDESK_NETVISOR_CUSTOMER_ID": "ETUNNUS_CUSTOMER",
    "HELPDESK_NETVISOR_CUSTOMER_KEY": "real-customer-key",
    "HELPDESK_NETVISOR_PARTNER_ID": "ETUNNUS_PARTNER",
    "HELPDESK_NETVISOR_PARTNER_KEY": "real-partner-key",
    "HELPDESK_NETVISOR_ORGANISATION_ID": "1957204-1",
    "HELPDESK_INVOICES_SELLER_IBAN": "FI49 5000 9420 0287 30",
    "HELPDESK_INVOICES_SELLER_STREET": "Mannerheimintie 1",
}


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(get_settings(), "environment", "production")
    for name in os.environ:
        if name.startswith(("HELPDESK_NETVISOR_", "HELPDESK_MAVENTA_", "HELPDESK_INVOICES_")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_production_with_real_values_has_no_problems(production: pytest.MonkeyPatch) -> None:
    for name, value in REAL.items():
        production.setenv(name, value)
    assert production_problems() == []
    settings = netvisor_settings()
    assert "real-customer-key" not in repr(settings) and "real-partner-key" not in str(settings)
    assert settings.client_config().customer_key == "real-customer-key"
    assert settings.client_config().sender == "E-tunnus helpdesk"
    assert not MaventaSettings().configured  # optional: left unset, simply not used
    create_app()  # starts


def test_production_leaves_an_unset_netvisor_not_configured(
    production: pytest.MonkeyPatch,
) -> None:
    for name, value in REAL.items():
        if not name.startswith("HELPDESK_NETVISOR_"):
            production.setenv(name, value)
    assert production_problems() == []  # starts: only Netvisor's actions are off
    assert not NetvisorSettings().configured and NetvisorSettings().url == ""
    with pytest.raises(NetvisorNotConfigured, match="not configured"):
        netvisor_client()
    assert netvisor_problem() == NETVISOR_NOT_CONFIGURED
    create_app()


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("HELPDESK_NETVISOR_URL", "http://127.0.0.1:8765", "HELPDESK_NETVISOR_URL"),
        ("HELPDESK_NETVISOR_URL", "http://localhost:9000/", "HELPDESK_NETVISOR_URL"),
        ("HELPDESK_NETVISOR_URL", "https://netvisor.example:8765", "HELPDESK_NETVISOR_URL"),
        ("HELPDESK_NETVISOR_CUSTOMER_KEY", "sandbox-customer-key", "HELPDESK_NETVISOR_URL"),
        ("HELPDESK_NETVISOR_PARTNER_ID", "SANDBOX_PARTNER", "HELPDESK_NETVISOR_URL"),
        ("HELPDESK_NETVISOR_PARTNER_KEY", "", "HELPDESK_NETVISOR_PARTNER_KEY"),
        ("HELPDESK_MAVENTA_URL", "http://127.0.0.1:8099", "HELPDESK_MAVENTA_URL"),
        ("HELPDESK_MAVENTA_URL", "https://ax.maventa.com", "HELPDESK_MAVENTA_URL"),
        ("HELPDESK_INVOICES_SELLER_IBAN", "FI21 1234 5600 0007 85", "SELLER_IBAN"),
        ("HELPDESK_INVOICES_SELLER_STREET", "Esimerkkikatu 1", "SELLER_STREET"),
    ],
    ids=[
        "netvisor-sandbox-url",
        "netvisor-localhost",
        "netvisor-sandbox-port",
        "netvisor-sandbox-key",
        "netvisor-sandbox-partner",
        "netvisor-in-part",
        "maventa-sandbox-url",
        "maventa-in-part",
        "example-iban",
        "example-street",
    ],
)
def test_production_refuses_to_start_with_sandbox_or_example_values(
    production: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    for name, real in REAL.items():
        production.setenv(name, real)
    production.setenv(variable, value)
    problems = production_problems()
    assert len(problems) == 1 and named in problems[0]
    assert "real-customer-key" not in problems[0] and "sandbox-customer-key" not in problems[0]
    with pytest.raises(SettingsRefused, match=named):
        create_app()


def test_production_refuses_the_demos_seller_by_default(production: pytest.MonkeyPatch) -> None:
    problems = production_problems()
    assert any("HELPDESK_INVOICES_SELLER_IBAN" in p for p in problems)


def test_outside_production_nothing_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_NETVISOR_URL", "http://127.0.0.1:8765")
    assert production_problems() == []


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
