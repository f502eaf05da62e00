"""The invoice plugin's settings: Netvisor, Maventa, the seller and the queue's timing.

- ``HELPDESK_NETVISOR_*`` name the Netvisor environment.
- ``HELPDESK_MAVENTA_*`` name Maventa AutoXChange, which is optional: empty settings mean
  "not configured", and post then goes through Netvisor's own print service while
  e-invoices are offered as a Finvoice file to download.
- ``HELPDESK_INVOICES_*`` tune the sync, the same-day deadline and the links to Netvisor's
  own UI; ``HELPDESK_INVOICES_SELLER_*`` describe E-tunnus, which invoices in its own name,
  so its details go into every Finvoice message.

In development (and in the tests) Netvisor and Maventa default to the local sandboxes
(``helpdesk netvisor-sandbox`` and ``helpdesk maventa-sandbox``, started by ``make run``) and
the test credentials they accept. Those defaults are plain values below, not imports:
production code never loads the sandboxes. In production nothing defaults to a sandbox: a
service left unset is *not configured* (its actions disabled, the rest of the helpdesk
working), and a sandbox URL (on this machine or on a sandbox's port), a sandbox credential
or the demo's example seller values stop the helpdesk from starting
(``production_problems``). Keys are ``SecretStr``: they never appear in a repr, a log line
or a page.
"""

from __future__ import annotations

from datetime import time, timedelta
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk.plugin_api import N_, calendar_from_settings, parse_wall_time
from helpdesk.plugin_api import get_settings as core_settings
from plugins.invoices.finvoice import FinvoiceSeller, PostalAddress
from plugins.invoices.maventa import DEFAULT_SCOPE, MaventaClient, MaventaConfig
from plugins.invoices.netvisor import NetvisorClient, NetvisorConfig, unsafe_characters
from plugins.invoices.rules.deadline import InvoiceDeadline

# The local sandboxes and the test credentials they accept (development defaults only).
NETVISOR_SANDBOX_PORT = 8765
NETVISOR_SANDBOX_URL = f"http://127.0.0.1:{NETVISOR_SANDBOX_PORT}"
NETVISOR_SANDBOX_SENDER = "E-tunnus helpdesk (sandbox)"
NETVISOR_SANDBOX_CUSTOMER_ID = "SANDBOX_CUSTOMER"
NETVISOR_SANDBOX_CUSTOMER_KEY = "sandbox-customer-key"
NETVISOR_SANDBOX_PARTNER_ID = "SANDBOX_PARTNER"
NETVISOR_SANDBOX_PARTNER_KEY = "sandbox-partner-key"
NETVISOR_SANDBOX_ORGANISATION_ID = "1957204-1"
MAVENTA_SANDBOX_PORT = 8099
MAVENTA_SANDBOX_URL = f"http://127.0.0.1:{MAVENTA_SANDBOX_PORT}"
MAVENTA_SANDBOX_CLIENT_ID = "00000000-0000-4000-8000-000000000001"
MAVENTA_SANDBOX_API_KEY = "sandbox-api-key"
MAVENTA_SANDBOX_VENDOR_API_KEY = "sandbox-vendor-api-key"


NETVISOR_SANDBOX_VALUES: dict[str, Any] = {
    "url": NETVISOR_SANDBOX_URL,
    "sender": NETVISOR_SANDBOX_SENDER,
    "customer_id": NETVISOR_SANDBOX_CUSTOMER_ID,
    "customer_key": SecretStr(NETVISOR_SANDBOX_CUSTOMER_KEY),
    "partner_id": NETVISOR_SANDBOX_PARTNER_ID,
    "partner_key": SecretStr(NETVISOR_SANDBOX_PARTNER_KEY),
    "organisation_id": NETVISOR_SANDBOX_ORGANISATION_ID,
}
REQUIRED_NETVISOR = (
    "url",
    "customer_id",
    "customer_key",
    "partner_id",
    "partner_key",
    "organisation_id",
)
#: The demo seller's made-up values; production refuses them in every Finvoice message.
EXAMPLE_SELLER = {"iban": "FI2112345600000785", "street": "Esimerkkikatu 1"}
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104


def _text(value: str | SecretStr | None) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else (value or "")


def is_sandbox_url(url: str | None, sandbox_port: int) -> bool:
    """A URL on this machine or on the sandbox's port: a sandbox, never the real service."""
    if not url:
        return False
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.") or port == sandbox_port


class NetvisorNotConfigured(Exception):
    """The Netvisor settings are missing or refused; ``str()`` is safe to show."""


#: Shown where Netvisor's actions are disabled (words in the plugin's catalogs).
NETVISOR_NOT_CONFIGURED = N_(
    "Netvisor is not configured: invoices cannot be synced or sent. An admin sets "
    "HELPDESK_NETVISOR_URL and its credentials."
)


class NetvisorSettings(BaseSettings):
    """One Netvisor customer environment (``HELPDESK_NETVISOR_*``)."""

    model_config = SettingsConfigDict(
        env_prefix="HELPDESK_NETVISOR_", env_file=None, extra="ignore"
    )

    # Empty: not configured. Outside production the sandbox's values fill what is unset.
    url: str = ""
    sender: str = "E-tunnus helpdesk"
    customer_id: str = ""
    customer_key: SecretStr = SecretStr("")
    partner_id: str = ""
    partner_key: SecretStr = SecretStr("")
    organisation_id: str = ""
    language: str = "FI"
    timeout_seconds: float = 120.0

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("HELPDESK_NETVISOR_URL must be an http(s) URL")
        return value.rstrip("/")

    @field_validator(
        "sender", "customer_id", "customer_key", "partner_id", "partner_key", "organisation_id"
    )
    @classmethod
    def _header_characters(cls, value: str | SecretStr, info: ValidationInfo) -> str | SecretStr:
        # These go into the MAC, and all but the keys into a header too: Netvisor must read
        # the very bytes we hashed (the reasons are in plugins/invoices/netvisor/auth.py).
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        unsafe = unsafe_characters(text)
        if unsafe:
            shown = " ".join("space at the start or end" if c == " " else repr(c) for c in unsafe)
            raise ValueError(
                f"HELPDESK_NETVISOR_{str(info.field_name).upper()} may hold only ISO-8859-1 "
                f"letters and signs (å, ä, ö are fine; no €, Š, Ž or control characters), "
                f"no spaces at either end; found {shown}"
            )
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value.upper() not in ("FI", "EN", "SE"):
            raise ValueError("HELPDESK_NETVISOR_LANGUAGE must be FI, EN or SE")
        return value.upper()

    @model_validator(mode="after")
    def _sandbox_outside_production_only(self) -> NetvisorSettings:
        if core_settings().environment != "production":
            for name, value in NETVISOR_SANDBOX_VALUES.items():
                if name not in self.model_fields_set:
                    setattr(self, name, value)
        elif self.uses_sandbox_defaults:
            raise ValueError(
                "HELPDESK_NETVISOR_URL or a Netvisor credential is the development "
                "sandbox's; in production set HELPDESK_NETVISOR_URL, _CUSTOMER_ID, "
                "_CUSTOMER_KEY, _PARTNER_ID and _PARTNER_KEY of the real Netvisor, or leave "
                "them all unset (Netvisor is then shown as not configured)"
            )
        elif self.model_fields_set & set(REQUIRED_NETVISOR) and not self.configured:
            missing = [f"HELPDESK_NETVISOR_{name.upper()}" for name in self.missing]
            raise ValueError("Netvisor is configured only in part; missing " + ", ".join(missing))
        return self

    @property
    def uses_sandbox_defaults(self) -> bool:
        """True when any part of the configuration is the sandbox's test value."""
        return (
            self.url == NETVISOR_SANDBOX_URL
            or is_sandbox_url(self.url, NETVISOR_SANDBOX_PORT)
            or self.customer_id == NETVISOR_SANDBOX_CUSTOMER_ID
            or self.partner_id == NETVISOR_SANDBOX_PARTNER_ID
            or self.customer_key.get_secret_value() == NETVISOR_SANDBOX_CUSTOMER_KEY
            or self.partner_key.get_secret_value() == NETVISOR_SANDBOX_PARTNER_KEY
        )

    @property
    def missing(self) -> list[str]:
        """The settings Netvisor needs that are empty."""
        return [name for name in REQUIRED_NETVISOR if not _text(getattr(self, name))]

    @property
    def configured(self) -> bool:
        """Whether the helpdesk can reach Netvisor at all."""
        return not self.missing

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
            self.client_id = MAVENTA_SANDBOX_CLIENT_ID
            self.api_key = SecretStr(MAVENTA_SANDBOX_API_KEY)
            self.vendor_api_key = SecretStr(MAVENTA_SANDBOX_VENDOR_API_KEY)
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError("HELPDESK_MAVENTA_URL must be an http(s) URL")
        if environment == "production" and self.uses_sandbox:
            raise ValueError(
                "HELPDESK_MAVENTA_URL or a Maventa credential is the development sandbox's; "
                "in production set the real Maventa's URL and keys, or leave them all unset "
                "(Maventa is then not used)"
            )
        given = [self.url, self.client_id, _text(self.api_key), _text(self.vendor_api_key)]
        if environment == "production" and any(given) and not all(given):
            raise ValueError(
                "Maventa is configured only in part: set HELPDESK_MAVENTA_URL, _CLIENT_ID, "
                "_API_KEY and _VENDOR_API_KEY together, or none of them"
            )
        return self

    @property
    def uses_sandbox(self) -> bool:
        """True when the URL (this machine, the sandbox's port) or a key is the sandbox's."""
        return (
            self.url == MAVENTA_SANDBOX_URL
            or is_sandbox_url(self.url, MAVENTA_SANDBOX_PORT)
            or self.client_id == MAVENTA_SANDBOX_CLIENT_ID
            or _text(self.api_key) == MAVENTA_SANDBOX_API_KEY
            or _text(self.vendor_api_key) == MAVENTA_SANDBOX_VENDOR_API_KEY
        )

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
    street: str = EXAMPLE_SELLER["street"]
    postcode: str = "00100"
    town: str = "Helsinki"
    iban: str = EXAMPLE_SELLER["iban"]
    bic: str = "NDEAFIHH"
    #: Our e-invoice address; empty derives it from the business ID (0037 + digits).
    ovt: str = ""
    email: str = "laskut@e-tunnus.fi"

    @model_validator(mode="after")
    def _no_example_in_production(self) -> SellerSettings:
        if core_settings().environment == "production":
            examples = [
                f"HELPDESK_INVOICES_SELLER_{name.upper()}"
                for name, value in EXAMPLE_SELLER.items()
                if getattr(self, name).replace(" ", "") == value.replace(" ", "")
            ]
            if examples:
                raise ValueError(
                    f"{' and '.join(examples)} still hold the demo's example value; set "
                    "E-tunnus's own for the Finvoice messages"
                )
        return self

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


@lru_cache(maxsize=1)
def invoice_settings() -> InvoiceSettings:
    """The process-wide invoice settings (tests clear the cache after changing them)."""
    return InvoiceSettings()


def _reasons(exc: ValueError) -> str:
    # pydantic's message names the field and our reason, never the value of a key.
    errors: list[Any] = getattr(exc, "errors", lambda: [])()
    found = [str(err.get("msg", "")).removeprefix("Value error, ") for err in errors]
    return "; ".join(found) or type(exc).__name__


def netvisor_settings() -> NetvisorSettings:
    """The Netvisor settings, or NetvisorNotConfigured with a reason an agent can act on."""
    try:
        settings = NetvisorSettings()
    except ValueError as exc:
        raise NetvisorNotConfigured(
            "Netvisor-yhteyttä ei ole määritetty oikein: " + _reasons(exc)
        ) from None
    if not settings.configured:
        raise NetvisorNotConfigured(NETVISOR_NOT_CONFIGURED)
    return settings


def netvisor_problem() -> str | None:
    """Why Netvisor's actions are disabled now (a msgid or a settings reason), or None."""
    try:
        netvisor_settings()
    except NetvisorNotConfigured as exc:
        return str(exc)
    return None


def production_problems() -> list[str]:
    """What stops the helpdesk from starting in production (``helpdesk_settings_problems``).

    A sandbox URL or credential, a Netvisor or Maventa configured in part, the demo's
    example seller. A service left wholly unset is no problem: it shows as not configured.
    """
    if core_settings().environment != "production":
        return []
    problems = []
    for model in (NetvisorSettings, MaventaSettings, SellerSettings):
        try:
            model()
        except ValueError as exc:
            problems.append(_reasons(exc))
    return problems


def maventa_settings(**overrides: Any) -> MaventaSettings:
    """The Maventa settings as the environment gives them now."""
    return MaventaSettings(**overrides)


def deadline_rules() -> InvoiceDeadline:
    """The same-day rule from the team's calendar and the plugin's cutoff and margin."""
    settings = invoice_settings()
    return InvoiceDeadline(
        calendar=calendar_from_settings(), cutoff=settings.cutoff_time, margin=settings.margin
    )


def netvisor_client() -> NetvisorClient:
    """A client for the configured Netvisor (NetvisorNotConfigured if it is not)."""
    return NetvisorClient(netvisor_settings().client_config())


def maventa_client() -> MaventaClient:
    """A client for the configured Maventa (ValueError if it is not)."""
    return MaventaClient(maventa_settings().client_config())
