"""The invoice plugin's settings: Netvisor credentials and the queue's timing.

``HELPDESK_NETVISOR_*`` name the Netvisor environment; ``HELPDESK_INVOICES_*`` tune the
sync, the same-day deadline and the links to Netvisor's own UI. In development the
Netvisor settings default to the local sandbox (``helpdesk netvisor-sandbox``) and its
test credentials; production refuses those defaults. Keys are ``SecretStr``: they never
appear in a repr, a log line or a page.
"""

from __future__ import annotations

from datetime import time, timedelta
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk.settings import get_settings as core_settings
from helpdesk.values import parse_wall_time
from plugins.invoices.netvisor import NetvisorConfig
from plugins.invoices.netvisor.sandbox import (
    SANDBOX_CUSTOMER_ID,
    SANDBOX_CUSTOMER_KEY,
    SANDBOX_ORGANISATION_ID,
    SANDBOX_PARTNER_ID,
    SANDBOX_PARTNER_KEY,
    SANDBOX_SENDER,
)

SANDBOX_PORT = 8765
SANDBOX_URL = f"http://127.0.0.1:{SANDBOX_PORT}"


class NetvisorNotConfigured(Exception):
    """The Netvisor settings are missing or refused; ``str()`` is safe to show."""


class NetvisorSettings(BaseSettings):
    """One Netvisor customer environment (``HELPDESK_NETVISOR_*``)."""

    model_config = SettingsConfigDict(
        env_prefix="HELPDESK_NETVISOR_", env_file=None, extra="ignore"
    )

    url: str = SANDBOX_URL
    sender: str = SANDBOX_SENDER
    customer_id: str = SANDBOX_CUSTOMER_ID
    customer_key: SecretStr = SecretStr(SANDBOX_CUSTOMER_KEY)
    partner_id: str = SANDBOX_PARTNER_ID
    partner_key: SecretStr = SecretStr(SANDBOX_PARTNER_KEY)
    organisation_id: str = SANDBOX_ORGANISATION_ID
    language: str = "FI"
    timeout_seconds: float = 120.0

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("HELPDESK_NETVISOR_URL must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value.upper() not in ("FI", "EN", "SE"):
            raise ValueError("HELPDESK_NETVISOR_LANGUAGE must be FI, EN or SE")
        return value.upper()

    @model_validator(mode="after")
    def _no_sandbox_in_production(self) -> NetvisorSettings:
        if core_settings().environment == "production" and self.uses_sandbox_defaults:
            raise ValueError(
                "Netvisor settings still point at the development sandbox: set "
                "HELPDESK_NETVISOR_URL, _CUSTOMER_ID, _CUSTOMER_KEY, _PARTNER_ID and "
                "_PARTNER_KEY for production"
            )
        return self

    @property
    def uses_sandbox_defaults(self) -> bool:
        """True when any part of the configuration is the sandbox's test value."""
        return (
            self.url == SANDBOX_URL
            or self.customer_key.get_secret_value() == SANDBOX_CUSTOMER_KEY
            or self.partner_key.get_secret_value() == SANDBOX_PARTNER_KEY
        )

    def client_config(self) -> NetvisorConfig:
        """The client's configuration (the only place the keys are revealed)."""
        return NetvisorConfig(
            url=self.url,
            sender=self.sender,
            customer_id=self.customer_id,
            customer_key=self.customer_key.get_secret_value(),
            partner_id=self.partner_id,
            partner_key=self.partner_key.get_secret_value(),
            organisation_id=self.organisation_id,
            language=self.language,
            timeout=self.timeout_seconds,
        )


class InvoiceSettings(BaseSettings):
    """The queue's timing and links (``HELPDESK_INVOICES_*``)."""

    model_config = SettingsConfigDict(
        env_prefix="HELPDESK_INVOICES_", env_file=None, extra="ignore"
    )

    #: How often the worker syncs during service hours.
    sync_interval_minutes: int = Field(default=5, ge=1, le=24 * 60)
    #: The same-day cutoff (Helsinki wall time); the last check runs at it.
    cutoff: str = "15:00"
    #: Extra time after the cutoff before an invoice counts as late.
    processing_margin_minutes: int = Field(default=0, ge=0, le=8 * 60)
    #: How long before the cutoff the "last look" alert shows.
    alert_window_minutes: int = Field(default=30, ge=0, le=8 * 60)
    #: Link to the invoice in Netvisor's UI, with ``{netvisor_key}`` and ``{number}``;
    #: empty shows no link.
    netvisor_ui_url: str = ""
    #: The mailbox emailed invoices go out from (its own IMAP/SMTP; replies become tickets).
    sender_mailbox: str = "laskut@e-tunnus.fi"
    #: The mailbox the "your invoice went out" notice to the E-tunnus user comes from.
    notify_mailbox: str = "asiakaspalvelu@e-tunnus.fi"
    #: How post goes out: ``netvisor`` (the agent uses Netvisor's print service through
    #: the deep link and confirms) or ``maventa`` (the helpdesk uploads the PDF itself).
    post_mode: Literal["netvisor", "maventa"] = "netvisor"

    @field_validator("cutoff")
    @classmethod
    def _wall_time(cls, value: str) -> str:
        try:
            return parse_wall_time(value)
        except ValueError:
            raise ValueError("HELPDESK_INVOICES_CUTOFF must be HH:MM") from None

    @field_validator("netvisor_ui_url")
    @classmethod
    def _template(cls, value: str) -> str:
        if not value:
            return value
        if not value.startswith("https://") and not value.startswith("http://"):
            raise ValueError("HELPDESK_INVOICES_NETVISOR_UI_URL must be an http(s) URL")
        try:
            value.format(netvisor_key=1, number="1")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                "HELPDESK_INVOICES_NETVISOR_UI_URL may use only {netvisor_key} and {number}"
            ) from exc
        return value

    @property
    def cutoff_time(self) -> time:
        """The cutoff as a wall-clock time."""
        hours, minutes = self.cutoff.split(":")
        return time(int(hours), int(minutes))

    @property
    def margin(self) -> timedelta:
        return timedelta(minutes=self.processing_margin_minutes)

    @property
    def alert_window(self) -> timedelta:
        return timedelta(minutes=self.alert_window_minutes)

    @property
    def sync_interval(self) -> timedelta:
        return timedelta(minutes=self.sync_interval_minutes)

    def netvisor_link(self, netvisor_key: int, number: str) -> str | None:
        """The deep link to the invoice in Netvisor's UI, if one is configured."""
        if not self.netvisor_ui_url:
            return None
        return self.netvisor_ui_url.format(netvisor_key=netvisor_key, number=number)


@lru_cache(maxsize=1)
def invoice_settings() -> InvoiceSettings:
    """The process-wide invoice settings (tests clear the cache after changing them)."""
    return InvoiceSettings()


def netvisor_settings() -> NetvisorSettings:
    """The Netvisor settings, or NetvisorNotConfigured with a reason an agent can act on."""
    try:
        return NetvisorSettings()
    except ValueError as exc:
        # pydantic's message names the field and our reason, never the value of a key.
        reasons = "; ".join(str(err.get("msg", "")) for err in getattr(exc, "errors", lambda: [])())
        raise NetvisorNotConfigured(
            "Netvisor-yhteyttä ei ole määritetty oikein: " + (reasons or type(exc).__name__)
        ) from None
