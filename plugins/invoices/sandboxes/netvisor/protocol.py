"""How the sandbox authenticates a request, from Netvisor's documents alone.

Written from support.netvisor.fi "Security and authentication" (77000577954) and "API
authentication" (77000557880), not from the plugin's client, which it must hold to the
documents rather than agree with: every request carries the ``X-Netvisor-*`` headers
below; the MAC is HMAC-SHA256 (``MACHashCalculationAlgorithm: HMACSHA256``) in lowercase
hex, keyed with ``CustomerKey&PartnerKey``, over the ``&``-joined request URL (with its
query string), Sender, CustomerId, Timestamp, Language, OrganisationId, TransactionId,
TimestampUnix, CustomerKey and PartnerKey; a transaction id may be used once
(``REQUEST_NOT_UNIQUE``). The keys never travel; only the MAC does.

The MAC is checked over the bytes that arrived (the raw header values and the raw path
and query), so it says nothing of how a client encodes text: it holds only if the client
hashed exactly what it sent.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SENDER = b"x-netvisor-authentication-sender"
CUSTOMER_ID = b"x-netvisor-authentication-customerid"
PARTNER_ID = b"x-netvisor-authentication-partnerid"
TIMESTAMP = b"x-netvisor-authentication-timestamp"
TIMESTAMP_UNIX = b"x-netvisor-authentication-timestampunix"
TRANSACTION_ID = b"x-netvisor-authentication-transactionid"
MAC = b"x-netvisor-authentication-mac"
ALGORITHM = b"x-netvisor-authentication-machashcalculationalgorithm"
LANGUAGE = b"x-netvisor-interface-language"
ORGANISATION_ID = b"x-netvisor-organisation-id"
#: Optional: answer a failure with an HTTP error status instead of 200.
HTTP_STATUS_CODES = b"x-netvisor-authentication-usehttpresponsestatuscodes"

REQUIRED = (
    SENDER,
    CUSTOMER_ID,
    PARTNER_ID,
    TIMESTAMP,
    TIMESTAMP_UNIX,
    TRANSACTION_ID,
    MAC,
    ALGORITHM,
    LANGUAGE,
    ORGANISATION_ID,
)
LANGUAGES = (b"FI", b"EN", b"SE")
#: The names as the documents spell them (HTTP names are case-insensitive).
_SPELLED = {
    SENDER: "X-Netvisor-Authentication-Sender",
    CUSTOMER_ID: "X-Netvisor-Authentication-CustomerId",
    PARTNER_ID: "X-Netvisor-Authentication-PartnerId",
    TIMESTAMP: "X-Netvisor-Authentication-Timestamp",
    TIMESTAMP_UNIX: "X-Netvisor-Authentication-TimestampUnix",
    TRANSACTION_ID: "X-Netvisor-Authentication-TransactionId",
    MAC: "X-Netvisor-Authentication-MAC",
    ALGORITHM: "X-Netvisor-Authentication-MACHashCalculationAlgorithm",
    LANGUAGE: "X-Netvisor-Interface-Language",
    ORGANISATION_ID: "X-Netvisor-Organisation-ID",
}


@dataclass(frozen=True)
class Credentials:
    """What one customer environment of the sandbox accepts (test values, not secrets)."""

    sender: str
    customer_id: str
    customer_key: str
    partner_id: str
    partner_key: str
    organisation_id: str


class Refused(Exception):
    """The request is not let in: ``code`` is Netvisor's error category."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def header_map(raw: Sequence[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """The raw headers by lower-case name (the last one wins)."""
    return {name.lower(): value for name, value in raw}


def expected_mac(
    url: bytes, headers: Mapping[bytes, bytes], customer_key: bytes, partner_key: bytes
) -> str:
    """The documented HMAC-SHA256 over what the request carried."""
    message = b"&".join(
        (
            url,
            headers[SENDER],
            headers[CUSTOMER_ID],
            headers[TIMESTAMP],
            headers[LANGUAGE],
            headers[ORGANISATION_ID],
            headers[TRANSACTION_ID],
            headers[TIMESTAMP_UNIX],
            customer_key,
            partner_key,
        )
    )
    return hmac.new(customer_key + b"&" + partner_key, message, hashlib.sha256).hexdigest()


def authenticate(url: bytes, raw_headers: Sequence[tuple[bytes, bytes]], known: Credentials) -> str:
    """Check one request; returns its language (``FI``, ``EN``, ``SE``) or raises Refused.

    The transaction id's uniqueness is the state's to check (it remembers them).
    """
    headers = header_map(raw_headers)
    missing = [_SPELLED[name] for name in REQUIRED if not headers.get(name)]
    if missing:
        raise Refused("AUTHENTICATION_FAILED", "Puuttuvat otsakkeet: " + ", ".join(missing))
    if headers[ALGORITHM] != b"HMACSHA256":
        raise Refused(
            "AUTHENTICATION_FAILED", "MACHashCalculationAlgorithm: vain HMACSHA256 on käytössä"
        )
    if (
        headers[CUSTOMER_ID] != known.customer_id.encode()
        or headers[PARTNER_ID] != known.partner_id.encode()
        or headers[ORGANISATION_ID] != known.organisation_id.encode()
    ):
        raise Refused("AUTHENTICATION_FAILED", "Tuntematon asiakas, kumppani tai organisaatio")
    language = headers[LANGUAGE].upper()
    if language not in LANGUAGES:
        raise Refused("AUTHENTICATION_FAILED", "Tuntematon kieli (FI, EN tai SE)")
    mac = expected_mac(url, headers, known.customer_key.encode(), known.partner_key.encode())
    if not hmac.compare_digest(mac.encode(), headers[MAC].lower()):
        raise Refused("AUTHENTICATION_FAILED", "MAC-tarkiste ei täsmää")
    return language.decode()
