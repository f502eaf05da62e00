"""Connection settings for one Netvisor customer environment, and which characters they hold."""

from __future__ import annotations

from dataclasses import dataclass

#: How header values go on the wire and into the MAC (``auth``'s docstring says why).
HEADER_ENCODING = "iso-8859-1"
#: The ISO-8859-1 characters that ISO-8859-15 encodes differently (or not at all).
_LATIN_DIFFERENCES = frozenset("\u00a4\u00a6\u00a8\u00b4\u00b8\u00bc\u00bd\u00be")


def unsafe_characters(value: str) -> list[str]:
    """The characters of ``value`` that may not go into a MAC'd header (see ``auth``).

    Leading or trailing whitespace is reported as ``" "``: HTTP strips it from a header.
    """
    found = {
        char
        for char in value
        if not (" " <= char <= "~" or "\u00a0" <= char <= "\u00ff") or char in _LATIN_DIFFERENCES
    }
    if value != value.strip(" \t"):
        found.add(" ")
    return sorted(found)


LANGUAGES = ("FI", "EN", "SE")
#: The values hashed into the MAC (the keys) or also sent in a header: held to the rule of
#: :func:`unsafe_characters` (the reasons are in ``auth``'s docstring).
MACED_FIELDS = (
    "sender",
    "customer_id",
    "customer_key",
    "partner_id",
    "partner_key",
    "organisation_id",
    "language",
)


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
        for name in MACED_FIELDS:
            unsafe = unsafe_characters(getattr(self, name))
            if unsafe:
                # The characters, never the value: it may be a key.
                raise ValueError(
                    f"{name} may not contain {' '.join(repr(c) for c in unsafe)}: "
                    "Netvisor's MAC'd headers take ISO-8859-1 characters only "
                    "(no €, no control characters, no leading or trailing spaces)"
                )
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
