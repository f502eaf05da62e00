"""The MAC and headers, checked against the documented algorithm computed here by hand."""

from __future__ import annotations

import calendar
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from plugins.invoices.netvisor import auth
from plugins.invoices.netvisor.config import NetvisorConfig, unsafe_characters

CONFIG = NetvisorConfig(
    url="https://isvapi.netvisor.fi",
    sender="E-tunnus helpdesk",
    customer_id="ETU_123",
    customer_key="customer-key-1",
    partner_id="PARTNER_9",
    partner_key="partner-key-2",
    organisation_id="1957204-1",
)
MOMENT = datetime(2026, 11, 24, 13, 5, 9, 123456, tzinfo=UTC)
TXID = "0123456789abcdef0123456789abcdef"
URL = "https://isvapi.netvisor.fi/salesinvoicelist.nv?invoicestatus=unsent"


def independent_mac(url: str, timestamp: str, timestamp_unix: str) -> str:
    message = "&".join(
        [
            url,
            "E-tunnus helpdesk",
            "ETU_123",
            timestamp,
            "FI",
            "1957204-1",
            TXID,
            timestamp_unix,
            "customer-key-1",
            "partner-key-2",
        ]
    )
    return hmac.new(b"customer-key-1&partner-key-2", message.encode(), hashlib.sha256).hexdigest()


def test_headers_match_the_documented_algorithm() -> None:
    headers = auth.build_headers(CONFIG, URL, now=MOMENT, transaction_id=TXID)

    assert headers["X-Netvisor-Authentication-Timestamp"] == "2026-11-24 13:05:09.123"
    unix = str(calendar.timegm(MOMENT.utctimetuple()))
    assert unix == "1795525509"
    assert headers["X-Netvisor-Authentication-TimestampUnix"] == unix
    assert headers["X-Netvisor-Authentication-TransactionId"] == TXID
    assert headers["X-Netvisor-Authentication-MACHashCalculationAlgorithm"] == "HMACSHA256"
    assert headers["X-Netvisor-Authentication-Sender"] == "E-tunnus helpdesk"
    assert headers["X-Netvisor-Authentication-CustomerId"] == "ETU_123"
    assert headers["X-Netvisor-Authentication-PartnerId"] == "PARTNER_9"
    assert headers["X-Netvisor-Interface-Language"] == "FI"
    assert headers["X-Netvisor-Organisation-ID"] == "1957204-1"
    expected = independent_mac(URL, "2026-11-24 13:05:09.123", "1795525509")
    assert headers["X-Netvisor-Authentication-MAC"] == expected
    # Pinned so an accidental change to the message is caught even if both sides drift.
    assert expected == "fc6a544147933c6c10bd351c0a4482d60c6c9320bc95d904ad8447a3517ba847"
    assert "X-Netvisor-Authentication-UseHTTPResponseStatusCodes" not in headers
    assert "customer-key-1" not in headers.values()
    assert "partner-key-2" not in headers.values()


def test_naive_datetime_is_taken_as_utc() -> None:
    naive = MOMENT.replace(tzinfo=None)
    assert auth.build_headers(CONFIG, URL, now=naive, transaction_id=TXID) == auth.build_headers(
        CONFIG, URL, now=MOMENT, transaction_id=TXID
    )


def test_each_request_gets_a_new_transaction_id() -> None:
    first = auth.build_headers(CONFIG, URL)
    second = auth.build_headers(CONFIG, URL)
    txid = first["X-Netvisor-Authentication-TransactionId"]
    assert len(txid) == 32 and int(txid, 16) >= 0
    assert txid != second["X-Netvisor-Authentication-TransactionId"]


def test_verify_mac_accepts_the_right_keys_and_rejects_tampering() -> None:
    headers = auth.build_headers(CONFIG, URL)
    lowered = {name.lower(): value for name, value in headers.items()}

    assert auth.verify_mac(URL, headers, "customer-key-1", "partner-key-2")
    assert auth.verify_mac(URL, lowered, "customer-key-1", "partner-key-2")
    assert not auth.verify_mac(URL, headers, "customer-key-1", "wrong")
    assert not auth.verify_mac(URL + "&x=1", headers, "customer-key-1", "partner-key-2")
    tampered = dict(headers, **{"X-Netvisor-Interface-Language": "EN"})
    assert not auth.verify_mac(URL, tampered, "customer-key-1", "partner-key-2")
    missing = {k: v for k, v in headers.items() if k != "X-Netvisor-Authentication-TimestampUnix"}
    assert not auth.verify_mac(URL, missing, "customer-key-1", "partner-key-2")
    md5 = dict(headers, **{"X-Netvisor-Authentication-MACHashCalculationAlgorithm": "MD5"})
    assert not auth.verify_mac(URL, md5, "customer-key-1", "partner-key-2")


def test_missing_headers_lists_what_is_absent() -> None:
    headers = auth.build_headers(CONFIG, URL)
    del headers["X-Netvisor-Authentication-MAC"]
    assert auth.missing_headers(headers) == ["X-Netvisor-Authentication-MAC"]


def test_config_repr_hides_keys() -> None:
    text = repr(CONFIG) + str(CONFIG)
    assert "customer-key-1" not in text
    assert "partner-key-2" not in text
    assert "ETU_123" in text


def test_config_rejects_unknown_language() -> None:
    with pytest.raises(ValueError):
        NetvisorConfig(
            url="https://isvapi.netvisor.fi",
            sender="s",
            customer_id="c",
            customer_key="k",
            partner_id="p",
            partner_key="k",
            organisation_id="o",
            language="DE",
        )


def _config(**values: str) -> NetvisorConfig:
    fields = {
        "url": "https://isvapi.netvisor.fi",
        "sender": "E-tunnus helpdesk",
        "customer_id": "ETU_123",
        "customer_key": "customer-key-1",
        "partner_id": "PARTNER_9",
        "partner_key": "partner-key-2",
        "organisation_id": "1957204-1",
    } | values
    return NetvisorConfig(**fields)


@pytest.mark.parametrize(
    ("value", "unsafe"),
    [
        ("Lähettäjä Åbo Öljy é", []),
        ("Laskut € Oy", ["€"]),
        ("Šárka", ["Š"]),  # ISO-8859-15 has Š, ISO-8859-1 does not
        ("half ½", ["½"]),  # ISO-8859-1 has ½, ISO-8859-15 puts Œ there
        ("tab\there", ["\t"]),
        ("line\r\nbreak", ["\n", "\r"]),
        ("1957204-1 ", [" "]),
        ("北", ["北"]),
    ],
)
def test_unsafe_characters(value: str, unsafe: list[str]) -> None:
    assert unsafe_characters(value) == unsafe


def test_config_refuses_what_a_header_cannot_carry_alike() -> None:
    with pytest.raises(ValueError, match="sender may not contain '€'"):
        _config(sender="Laskut € Oy")
    with pytest.raises(ValueError, match="organisation_id"):
        _config(organisation_id="1957204-1 ")
    with pytest.raises(ValueError, match="customer_key") as caught:
        _config(customer_key="secret€key")
    assert "secret" not in str(caught.value)  # the characters are named, never a key


def test_scandinavian_letters_go_out_and_into_the_mac_as_iso_8859_1() -> None:
    config = _config(sender="Lähettäjä Åbo")
    headers = auth.build_headers(config, URL, now=MOMENT, transaction_id=TXID)
    wire = auth.wire_headers(headers)

    assert wire[b"X-Netvisor-Authentication-Sender"] == b"L\xe4hett\xe4j\xe4 \xc5bo"
    message = b"&".join(
        [
            URL.encode(),
            b"L\xe4hett\xe4j\xe4 \xc5bo",
            b"ETU_123",
            b"2026-11-24 13:05:09.123",
            b"FI",
            b"1957204-1",
            TXID.encode(),
            b"1795525509",
            b"customer-key-1",
            b"partner-key-2",
        ]
    )
    expected = hmac.new(b"customer-key-1&partner-key-2", message, hashlib.sha256).hexdigest()
    assert headers["X-Netvisor-Authentication-MAC"] == expected
    # ISO-8859-15 gives the same bytes for every character the rule lets through.
    assert "Lähettäjä Åbo".encode("iso-8859-15") == b"L\xe4hett\xe4j\xe4 \xc5bo"
