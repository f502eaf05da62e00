"""One settings object for the whole product, read from ``HELPDESK_*`` environment variables."""

from __future__ import annotations

import base64
import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk.values import parse_closed_day, parse_wall_time

#: The key shipped for development; refused anywhere else.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me"  # noqa: S105


class Settings(BaseSettings):
    """Runtime configuration. Secrets come only from here, never from the code or the UI."""

    model_config = SettingsConfigDict(env_prefix="HELPDESK_", env_file=None, extra="ignore")

    #: Production unless said otherwise: there the helpdesk refuses development secrets,
    #: sandboxes and example values instead of running with them (``make run`` and
    #: ``helpdesk dev`` are development; the tests say ``test``).
    environment: Literal["development", "test", "production"] = "production"
    database_url: str = "sqlite:///var/helpdesk.db"
    secret_key: str = DEVELOPMENT_SECRET_KEY
    data_dir: Path = Path("var/data")
    base_url: str = "http://127.0.0.1:8000"
    default_language: Literal["fi", "en"] = "fi"
    timezone: str = "Europe/Helsinki"

    #: A login session ends this long after the login (absolute timeout) ...
    session_max_age_seconds: int = Field(default=12 * 3600, ge=600)
    #: ... or after this long without a request (idle timeout; noticed within minutes).
    session_idle_seconds: int = Field(default=2 * 3600, ge=600)
    cookie_secure: bool = False
    #: Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or CIDRs, JSON
    #: list). Empty: the client is the peer that connected, whatever headers it sends.
    trusted_proxies: list[str] = Field(default_factory=list)
    login_max_failures: int = 5
    #: Looser limit for one client IP over all addresses (slows guessing many accounts).
    login_max_failures_per_ip: int = 30
    login_window_seconds: int = 900

    # Mail in
    mail_poll_seconds: float = 30.0
    mail_idle_seconds: float = 25 * 60
    mail_fetch_batch: int = 200
    # Mail out
    undo_send_seconds: int = 10
    max_attachment_bytes: int = 20 * 1024 * 1024
    reply_sets_status: Literal["open", "pending", "closed"] = "pending"
    mail_message_id_domain: str = "helpdesk.e-tunnus.fi"

    # Service hours (Europe/Helsinki wall time)
    service_opens: str = "10:00"
    service_closes: str = "15:00"
    #: Extra closed days besides public holidays, Juhannusaatto and Jouluaatto:
    #: ``MM-DD`` every year or ``YYYY-MM-DD`` once (JSON list in the environment).
    service_closed_days: list[str] = Field(default_factory=list)

    plugins_disabled: list[str] = Field(default_factory=list)

    # OAuth 2.0 mailboxes (XOAUTH2)
    #: Fernet keys that encrypt OAuth tokens and client secrets at rest, comma-separated:
    #: the first encrypts, every one decrypts (add a new key in front to rotate). Empty: a
    #: key derived from HELPDESK_SECRET_KEY, so changing that key then means reconnecting.
    token_key: str = Field(default="", repr=False)
    #: An access token is refreshed this long before the provider says it expires.
    oauth_refresh_margin_seconds: int = Field(default=300, ge=0)
    #: Timeout of one call to a provider's token endpoint.
    oauth_timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("HELPDESK_DATABASE_URL must be sqlite:/// or postgresql+psycopg://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("service_opens", "service_closes")
    @classmethod
    def _wall_time(cls, value: str) -> str:
        try:
            return parse_wall_time(value)
        except ValueError:
            raise ValueError("service hours must be HH:MM") from None

    @field_validator("service_closed_days")
    @classmethod
    def _closed_days(cls, value: list[str]) -> list[str]:
        for day in value:
            if day.strip():
                parse_closed_day(day)
        return value

    @field_validator("token_key")
    @classmethod
    def _fernet_keys(cls, value: str) -> str:
        for key in (k.strip() for k in value.split(",")):
            if key and not _is_fernet_key(key):
                raise ValueError(
                    "HELPDESK_TOKEN_KEY must be Fernet keys (32 bytes, url-safe base64), "
                    "comma-separated; make one with: python -c 'from cryptography.fernet "
                    "import Fernet; print(Fernet.generate_key().decode())'"
                )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        proxies = [v.strip() for v in value if v.strip()]
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"HELPDESK_TRUSTED_PROXIES: {proxy!r} is not an IP address or CIDR network"
                ) from None
        return proxies

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development" and (
            self.secret_key == DEVELOPMENT_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError(
                "HELPDESK_SECRET_KEY must be set to a random value of at least 32 characters "
                f"in {self.environment} (for example: {secrets.token_urlsafe(32)!r}); "
                "to run the demo on this machine instead, set HELPDESK_ENVIRONMENT=development "
                "(make run does)"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (ValueError, UnicodeEncodeError):
        return False


def refusal_text(error: ValidationError) -> str:
    """The reasons settings were refused, one line each, without the values given."""
    reasons = [str(e.get("msg", "")).removeprefix("Value error, ") for e in error.errors()]
    return "the settings are refused:\n" + "\n".join(f"  - {reason}" for reason in reasons)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache after changing the environment."""
    return Settings()
