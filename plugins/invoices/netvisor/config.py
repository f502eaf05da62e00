"""Connection settings for one Netvisor customer environment."""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("FI", "EN", "SE")


@dataclass(frozen=True)
class NetvisorConfig:
    """Credentials and endpoint of one Netvisor environment (the keys never leave this object)."""

    url: str
    sender: str
    customer_id: str
    customer_key: str
    partner_id: str
    partner_key: str
    organisation_id: str
    language: str = "FI"
    timeout: float = 120.0

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}, not {self.language!r}")
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")

    @property
    def base_url(self) -> str:
        """The endpoint without a trailing slash; resources are appended as ``/name.nv``."""
        return self.url.rstrip("/")

    def __repr__(self) -> str:
        return (
            f"NetvisorConfig(url={self.url!r}, sender={self.sender!r}, "
            f"customer_id={self.customer_id!r}, customer_key='***', "
            f"partner_id={self.partner_id!r}, partner_key='***', "
            f"organisation_id={self.organisation_id!r}, language={self.language!r}, "
            f"timeout={self.timeout!r})"
        )

    __str__ = __repr__
