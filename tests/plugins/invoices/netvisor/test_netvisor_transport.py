"""Retry policy, batching and request encoding, with an in-process httpx transport."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from plugins.invoices.netvisor.auth import verify_mac
from plugins.invoices.netvisor.client import NetvisorClient
from plugins.invoices.netvisor.config import NetvisorConfig
from plugins.invoices.netvisor.errors import (
    NetvisorError,
    NetvisorProtocolError,
    NetvisorTransportError,
    RequestNotUnique,
    ServiceAccessError,
    SystemMaintenance,
    concerns_one_record,
)

CONFIG = NetvisorConfig(
    url="https://isvapi.example.fi/",
    sender="test",
    customer_id="C",
    customer_key="ck",
    partner_id="P",
    partner_key="pk",
    organisation_id="1957204-1",
)
OK = b"<Root><ResponseStatus><Status>OK</Status><TimeStamp>1.1.2026</TimeStamp></ResponseStatus></Root>"
LIST = b"<Root><ResponseStatus><Status>OK</Status></ResponseStatus><SalesInvoiceList/></Root>"


def failed(code: str) -> bytes:
    return (
        f"<Root><ResponseStatus><Status>FAILED</Status><Status>{code} :: x</Status>"
        "</ResponseStatus></Root>"
    ).encode()


Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler) -> tuple[NetvisorClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return handler(request)

    client = NetvisorClient(
        CONFIG, transport=httpx.MockTransport(record), backoff_seconds=0, sleep=lambda _: None
    )
    return client, seen


def sequence(*responses: httpx.Response | Exception) -> Handler:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler


def test_every_request_carries_a_valid_mac_over_the_sent_url() -> None:
    client, seen = make_client(sequence(httpx.Response(200, content=LIST)))
    client.list_sales_invoices(above_netvisor_key=5)

    request = seen[0]
    assert str(request.url) == (
        "https://isvapi.example.fi/salesinvoicelist.nv?invoicestatus=unsent"
        "&invoicesabovenetvisorkey=5"
    )
    assert verify_mac(str(request.url), dict(request.headers), "ck", "pk")


def test_status_update_batches_of_100_in_the_query_string() -> None:
    client, seen = make_client(sequence(httpx.Response(200, content=OK)))
    client.update_sales_invoice_status(list(range(1, 151)), "open")

    assert [r.method for r in seen] == ["POST", "POST"]
    first, second = (parse_qs(urlsplit(str(r.url)).query) for r in seen)
    assert first["status"] == ["open"]
    assert first["netvisorkeylist"][0].split(",") == [str(i) for i in range(1, 101)]
    assert second["netvisorkeylist"][0].split(",")[-1] == "150"
    assert seen[0].content == b""
    assert "," in urlsplit(str(seen[0].url)).query  # commas are sent as documented, unescaped


def test_single_status_update_uses_netvisorkey() -> None:
    client, seen = make_client(sequence(httpx.Response(200, content=OK)))
    client.update_sales_invoice_status([7], "paid")
    assert parse_qs(urlsplit(str(seen[0].url)).query) == {"netvisorkey": ["7"], "status": ["paid"]}


def test_details_batches_of_500() -> None:
    empty = b"<Root><ResponseStatus><Status>OK</Status></ResponseStatus><SalesInvoices/></Root>"
    client, seen = make_client(sequence(httpx.Response(200, content=empty)))
    assert client.get_sales_invoices(range(1, 1002)) == []
    sizes = [
        len(parse_qs(urlsplit(str(r.url)).query)["netvisorkeylist"][0].split(",")) for r in seen
    ]
    assert sizes == [500, 500, 1]


def test_comment_body_is_iso_8859_15_with_declaration() -> None:
    client, seen = make_client(sequence(httpx.Response(200, content=OK)))
    client.add_sales_invoice_comment(42, "Äijälä Öljy Oy €")

    body = seen[0].content
    assert body.startswith(b"<?xml version='1.0' encoding='ISO-8859-15'?>")
    assert "Äijälä Öljy Oy €".encode("iso-8859-15") in body
    assert b"<invoicetype>invoice</invoicetype><invoicenetvisorkey>42</invoicenetvisorkey>" in body
    assert seen[0].headers["content-type"] == "text/xml; charset=ISO-8859-15"


def test_server_errors_are_retried_for_get_only() -> None:
    client, seen = make_client(
        sequence(httpx.Response(503, content=b"busy"), httpx.Response(200, content=LIST))
    )
    assert client.list_sales_invoices() == []
    assert len(seen) == 2

    client, seen = make_client(sequence(httpx.Response(502, content=b"bad gateway")))
    with pytest.raises(NetvisorTransportError) as caught:
        client.add_sales_invoice_comment(1, "x")
    assert caught.value.code == "HTTP_502"
    assert len(seen) == 1


def test_throttling_is_retried_even_for_comments() -> None:
    client, seen = make_client(sequence(httpx.Response(429), httpx.Response(200, content=OK)))
    client.add_sales_invoice_comment(1, "x")
    assert len(seen) == 2


def test_connect_errors_are_retried_for_any_method() -> None:
    client, seen = make_client(sequence(httpx.ConnectError("refused")))
    with pytest.raises(NetvisorTransportError) as caught:
        client.add_sales_invoice_comment(1, "x")
    assert caught.value.code == "NETWORK_ERROR"
    assert len(seen) == 3


def test_read_errors_after_sending_are_not_retried_for_comments() -> None:
    client, seen = make_client(sequence(httpx.ReadError("reset")))
    with pytest.raises(NetvisorTransportError):
        client.add_sales_invoice_comment(1, "x")
    assert len(seen) == 1


def test_request_not_unique_is_retried_with_a_new_transaction_id() -> None:
    client, seen = make_client(
        sequence(
            httpx.Response(200, content=failed("REQUEST_NOT_UNIQUE")),
            httpx.Response(200, content=OK),
        )
    )
    client.add_sales_invoice_comment(1, "x")
    txids = {r.headers["X-Netvisor-Authentication-TransactionId"] for r in seen}
    assert len(seen) == 2 and len(txids) == 2

    client, seen = make_client(sequence(httpx.Response(200, content=failed("REQUEST_NOT_UNIQUE"))))
    with pytest.raises(RequestNotUnique):
        client.get_customer(1)
    assert len(seen) == 3


def test_failed_answer_with_http_status_is_still_typed() -> None:
    client, _ = make_client(sequence(httpx.Response(401, content=failed("AUTHENTICATION_FAILED"))))
    with pytest.raises(Exception) as caught:
        client.get_customer(1)
    assert type(caught.value).__name__ == "AuthenticationFailed"


def test_html_error_page_is_protocol_error() -> None:
    client, _ = make_client(sequence(httpx.Response(404, content=b"<html><body>Not found")))
    with pytest.raises(NetvisorProtocolError) as caught:
        client.get_customer(1)
    assert caught.value.code == "HTTP_404"


def test_unexpected_shape_is_protocol_error() -> None:
    client, _ = make_client(sequence(httpx.Response(200, content=OK)))
    with pytest.raises(NetvisorProtocolError):
        client.list_sales_invoices()  # OK but no <SalesInvoiceList>


def test_a_scandinavian_sender_is_sent_as_the_bytes_the_mac_covers() -> None:
    config = replace(CONFIG, sender="Äijälä Öljy -integraatio")
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=LIST)

    with NetvisorClient(config, transport=httpx.MockTransport(record)) as client:
        assert client.list_sales_invoices() == []

    raw = dict(seen[0].headers.raw)
    assert raw[b"X-Netvisor-Authentication-Sender"] == "Äijälä Öljy -integraatio".encode("latin-1")
    # What a server reading the header bytes as ISO-8859-1 gets back verifies.
    received = {k.decode(): v.decode("latin-1") for k, v in seen[0].headers.raw}
    assert verify_mac(str(seen[0].url), received, "ck", "pk")


def test_system_maintenance_is_not_retried_at_once_but_later() -> None:
    client, seen = make_client(sequence(httpx.Response(200, content=failed("SYSTEM_MAINTENANCE"))))
    with pytest.raises(SystemMaintenance) as caught:
        client.list_sales_invoices()
    assert len(seen) == 1  # a maintenance break outlasts any backoff of ours
    assert caught.value.transient  # the next sync (or dispatch step) tries again
    assert not concerns_one_record(caught.value)


def test_service_access_error_is_a_setting_not_a_hiccup() -> None:
    client, seen = make_client(
        sequence(httpx.Response(200, content=failed("SERVICE_ACCESS_ERROR")))
    )
    with pytest.raises(ServiceAccessError) as caught:
        client.get_customer(1)
    assert len(seen) == 1
    assert not caught.value.transient
    assert "rajapinta" in caught.value.detail


@pytest.mark.parametrize(
    ("answer", "about_one_record"),
    [
        (failed("INVALID_DATA"), True),  # e.g. "Customer not found with Netvisor identifier"
        (failed("INVALID_DATA_SIZE"), False),  # too many keys: the request itself
        (failed("AUTHENTICATION_FAILED"), False),
        (failed("REQUEST_NOT_UNIQUE"), False),
        (b"<Root><ResponseStatus><Status>OK</Status></ResponseStatus><SalesInvoice", False),
        (
            b"<Root><ResponseStatus><Status>OK</Status></ResponseStatus><SalesInvoice>"
            b"<SalesInvoiceNumber>1</SalesInvoiceNumber>"
            b"<SalesInvoiceAmount>12,3,4</SalesInvoiceAmount></SalesInvoice></Root>",
            True,  # one invoice's unreadable amount
        ),
    ],
)
def test_which_failures_concern_one_record(answer: bytes, about_one_record: bool) -> None:
    client, _ = make_client(lambda request: httpx.Response(200, content=answer))
    with pytest.raises(NetvisorError) as caught:
        client.get_sales_invoice(7)
    assert concerns_one_record(caught.value) is about_one_record
