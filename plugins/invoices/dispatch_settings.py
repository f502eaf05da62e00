"""Settings for sending invoices on: Maventa (``HELPDESK_MAVENTA_*``) and the seller.

Maventa is optional. Empty settings mean "not configured": post then goes through
Netvisor's own print service and e-invoices are offered as a Finvoice file to download.
In development, with nothing set, Maventa points at the local sandbox
(``helpdesk maventa-sandbox``, started by ``make run``) so the demo can send all three
ways; production refuses the sandbox's test keys.

The seller (``HELPDESK_INVOICES_SELLER_*``) is E-tunnus itself: it invoices in its own
name, so its details go into every Finvoice message.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk.settings import get_settings as core_settings
from plugins.invoices.finvoice import FinvoiceSeller, PostalAddress
from plugins.invoices.maventa.client import DEFAULT_SCOPE, MaventaConfig
from plugins.invoices.maventa.sandbox import (
    SANDBOX_API_KEY,
    SANDBOX_CLIENT_ID,
    SANDBOX_VENDOR_API_KEY,
)

MAVENTA_SANDBOX_PORT = 8099
MAVENTA_SANDBOX_URL = f"http://127.0.0.1:{MAVENTA_SANDBOX_PORT}"


class MaventaSettings(BaseSettings):
    """Maventa AutoXChange credentials; all empty means not configured."""

    model_config = SettingsConfigDict(env_prefix="HELPDESK_MAVENTA_", env_file=None, extra="ignore")

    url: str | None = None
    client_id: str | None = None
    api_key: SecretStr | None = None
    vendor_api_key: SecretStr | None = None
    scope: str = DEFAULT_SCOPE
    timeout_seconds: float = 60.0

    @model_validator(mode="after")
    def _defaults(self) -> MaventaSettings:
        environment = core_settings().environment
        untouched = self.url is None and self.client_id is None and self.api_key is None
        if untouched and environment == "development":
            self.url = MAVENTA_SANDBOX_URL
            self.client_id = SANDBOX_CLIENT_ID
            self.api_key = SecretStr(SANDBOX_API_KEY)
            self.vendor_api_key = SecretStr(SANDBOX_VENDOR_API_KEY)
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError("HELPDESK_MAVENTA_URL must be an http(s) URL")
        if environment == "production" and self.uses_sandbox:
            raise ValueError("Maventa settings still hold the sandbox's test keys")
        return self

    @property
    def uses_sandbox(self) -> bool:
        """True when the URL or the key is the local sandbox's."""
        key = self.api_key.get_secret_value() if self.api_key else ""
        return self.url == MAVENTA_SANDBOX_URL or key == SANDBOX_API_KEY

    @property
    def configured(self) -> bool:
        """Whether the helpdesk can send through Maventa at all."""
        return bool(self.url and self.client_id and self.api_key and self.vendor_api_key)

    def client_config(self) -> MaventaConfig:
        """The client's configuration (the only place the keys are revealed)."""
        if not self.configured:
            raise ValueError("Maventa is not configured")
        return MaventaConfig(
            base_url=(self.url or "").rstrip("/"),
            client_id=self.client_id or "",
            api_key=self.api_key.get_secret_value() if self.api_key else "",
            vendor_api_key=self.vendor_api_key.get_secret_value() if self.vendor_api_key else "",
            scope=self.scope,
            timeout=self.timeout_seconds,
        )


class SellerSettings(BaseSettings):
    """E-tunnus as the seller of a Finvoice message (``HELPDESK_INVOICES_SELLER_*``)."""

    model_config = SettingsConfigDict(
        env_prefix="HELPDESK_INVOICES_SELLER_", env_file=None, extra="ignore"
    )

    name: str = "E-tunnus Oy"
    business_id: str = "1957204-1"
    street: str = "Esimerkkikatu 1"
    postcode: str = "00100"
    town: str = "Helsinki"
    iban: str = "FI2112345600000785"
    bic: str = "NDEAFIHH"
    #: Our e-invoice address; empty derives it from the business ID (0037 + digits).
    ovt: str = ""
    email: str = "laskut@e-tunnus.fi"

    def seller(self) -> FinvoiceSeller:
        """The seller block of our Finvoice messages."""
        digits = self.business_id.replace("-", "")
        return FinvoiceSeller(
            name=self.name,
            business_id=self.business_id,
            address=PostalAddress(street=self.street, postcode=self.postcode, town=self.town),
            iban=self.iban.replace(" ", ""),
            bic=self.bic,
            ovt=self.ovt or f"0037{digits}",
            email=self.email,
        )


def maventa_settings(**overrides: Any) -> MaventaSettings:
    """The Maventa settings as the environment gives them now."""
    return MaventaSettings(**overrides)
