"""Netvisor request authentication: the headers of one request and its MAC.

The MAC is a lowercase hex HMAC-SHA256. Its key is ``CustomerKey&PartnerKey``; its
message is the ``&``-join of, in this order: the full request URL with its query
string, Sender, CustomerId, Timestamp, Language, OrganisationId, TransactionId,
TimestampUnix, CustomerKey, PartnerKey. Cross-checked against Netvisor's own
authentication article and two public clients (generoi/fp-netvisor
``Component/Request.php``; the HMAC test in Heltti/netvisor-api-client), which agree
on the order and key. The keys are never sent; only the MAC is.

Text is hashed as ISO-8859-15, the encoding Netvisor uses for request bodies (the
Heltti client hashes ISO-8859-1; the two agree on ASCII and on å, ä, ö).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from .config import NetvisorConfig

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
MAC_ENCODING = "iso-8859-15"

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
        key.encode(MAC_ENCODING), message.encode(MAC_ENCODING), hashlib.sha256
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
