"""Netvisor request authentication: the headers of one request and its MAC.

The MAC is a lowercase hex HMAC-SHA256. Its key is ``CustomerKey&PartnerKey``; its
message is the ``&``-join of, in this order: the full request URL with its query
string, Sender, CustomerId, Timestamp, Language, OrganisationId, TransactionId,
TimestampUnix, CustomerKey, PartnerKey. Cross-checked against Netvisor's own
authentication article and two public clients (generoi/fp-netvisor
``Component/Request.php``; the HMAC test in Heltti/netvisor-api-client), which agree
on the order and key. The keys are never sent; only the MAC is.

Which characters, in which bytes: an HTTP header value travels as bytes, and the only
non-ASCII bytes HTTP has ever given a meaning are ISO-8859-1's (RFC 9110 5.5 "obs-text").
Netvisor documents no encoding for its headers or its MAC; its request bodies are
ISO-8859-15, and the public Python client (Heltti) sends and hashes ISO-8859-1. So every
value that is both sent in a header and hashed (Sender, CustomerId, PartnerId, Language,
OrganisationId) goes out as ISO-8859-1 bytes and is hashed as those same bytes, and may
hold only characters that (1) ISO-8859-1 has, so that the header can carry them at all,
(2) ISO-8859-15 encodes to the same byte, so that the MAC is the same whichever of the two
Netvisor's side uses, and (3) are not control characters nor leading or trailing spaces,
which HTTP forbids or strips. That keeps å, ä, ö, Å, Ä, Ö and é, and refuses €, Š, Ž,
any other letter, and the eight ISO-8859-1 signs ISO-8859-15 replaced (¤ ¦ ¨ ´ ¸ ¼ ½ ¾).
The keys are hashed the same way and held to the same rule. The settings refuse such a
value with a message naming the characters (``config.unsafe_characters``), and so does
:class:`NetvisorConfig`, so a request is never signed with bytes Netvisor may read
differently.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from .config import HEADER_ENCODING, NetvisorConfig

SENDER = "X-Netvisor-Authentication-Sender"
CUSTOMER_ID = "X-Netvisor-Authentication-CustomerId"
PARTNER_ID = "X-Netvisor-Authentication-PartnerId"
TIMESTAMP = "X-Netvisor-Authentication-Timestamp"
TIMESTAMP_UNIX = "X-Netvisor-Authentication-TimestampUnix"
TRANSACTION_ID = "X-Netvisor-Authentication-TransactionId"
MAC = "X-Netvisor-Authentication-MAC"
MAC_ALGORITHM = "X-Netvisor-Authentication-MACHashCalculationAlgorithm"
USE_HTTP_STATUS_CODES = "X-Netvisor-Authentication-UseHTTPResponseStatusCodes"
LANGUAGE = "X-Netvisor-Interface-Language"
ORGANISATION_ID = "X-Netvisor-Organisation-ID"

HMAC_SHA256 = "HMACSHA256"

#: Headers every request must carry (the optional status-code switch is not among them).
REQUIRED_HEADERS: tuple[str, ...] = (
    SENDER,
    CUSTOMER_ID,
    PARTNER_ID,
    TIMESTAMP,
    TIMESTAMP_UNIX,
    TRANSACTION_ID,
    MAC,
    MAC_ALGORITHM,
    LANGUAGE,
    ORGANISATION_ID,
)


def format_timestamp(moment: datetime) -> str:
    """Netvisor's timestamp: UTC, ``YYYY-MM-DD HH:MM:SS.fff``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def unix_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def compute_mac(
    *,
    url: str,
    sender: str,
    customer_id: str,
    timestamp: str,
    language: str,
    organisation_id: str,
    transaction_id: str,
    timestamp_unix: str,
    customer_key: str,
    partner_key: str,
) -> str:
    """The lowercase hex HMAC-SHA256 Netvisor expects in ``X-Netvisor-Authentication-MAC``."""
    message = "&".join(
        (
            url,
            sender,
            customer_id,
            timestamp,
            language,
            organisation_id,
            transaction_id,
            timestamp_unix,
            customer_key,
            partner_key,
        )
    )
    key = f"{customer_key}&{partner_key}"
    return hmac.new(
        key.encode(HEADER_ENCODING), message.encode(HEADER_ENCODING), hashlib.sha256
    ).hexdigest()


def new_transaction_id() -> str:
    """A transaction id Netvisor has never seen: a random UUID as 32 hex digits."""
    return uuid.uuid4().hex


def build_headers(
    config: NetvisorConfig,
    url: str,
    *,
    now: datetime | None = None,
    transaction_id: str | None = None,
    use_http_status_codes: bool = False,
) -> dict[str, str]:
    """All authentication headers for one request to ``url`` (the exact URL sent, with query)."""
    moment = now if now is not None else datetime.now(UTC)
    timestamp = format_timestamp(moment)
    timestamp_unix = str(unix_seconds(moment))
    txid = transaction_id if transaction_id is not None else new_transaction_id()
    headers = {
        SENDER: config.sender,
        CUSTOMER_ID: config.customer_id,
        PARTNER_ID: config.partner_id,
        TIMESTAMP: timestamp,
        TIMESTAMP_UNIX: timestamp_unix,
        TRANSACTION_ID: txid,
        LANGUAGE: config.language,
        ORGANISATION_ID: config.organisation_id,
        MAC_ALGORITHM: HMAC_SHA256,
        MAC: compute_mac(
            url=url,
            sender=config.sender,
            customer_id=config.customer_id,
            timestamp=timestamp,
            language=config.language,
            organisation_id=config.organisation_id,
            transaction_id=txid,
            timestamp_unix=timestamp_unix,
            customer_key=config.customer_key,
            partner_key=config.partner_key,
        ),
    }
    if use_http_status_codes:
        headers[USE_HTTP_STATUS_CODES] = "1"
    return headers


def wire_headers(headers: Mapping[str, str]) -> dict[bytes, bytes]:
    """The headers as the bytes that go on the wire (ISO-8859-1, as the MAC hashed them)."""
    return {name.encode("ascii"): value.encode(HEADER_ENCODING) for name, value in headers.items()}


def missing_headers(headers: Mapping[str, str]) -> list[str]:
    """The required authentication headers absent (or empty) in ``headers``."""
    present = {name.lower() for name, value in headers.items() if value}
    return [name for name in REQUIRED_HEADERS if name.lower() not in present]


def verify_mac(url: str, headers: Mapping[str, str], customer_key: str, partner_key: str) -> bool:
    """Whether ``headers`` carry a correct HMACSHA256 MAC for ``url`` (constant-time compare)."""
    lowered = {name.lower(): value for name, value in headers.items()}

    def get(name: str) -> str:
        return lowered.get(name.lower(), "")

    if missing_headers(headers) or get(MAC_ALGORITHM).upper() != HMAC_SHA256:
        return False
    try:
        expected = compute_mac(
            url=url,
            sender=get(SENDER),
            customer_id=get(CUSTOMER_ID),
            timestamp=get(TIMESTAMP),
            language=get(LANGUAGE),
            organisation_id=get(ORGANISATION_ID),
            transaction_id=get(TRANSACTION_ID),
            timestamp_unix=get(TIMESTAMP_UNIX),
            customer_key=customer_key,
            partner_key=partner_key,
        )
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, get(MAC).lower())
