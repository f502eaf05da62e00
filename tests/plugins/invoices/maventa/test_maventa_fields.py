"""The client's requests field by field, as AX's OpenAPI names them (API_NOTES.md), and
its paging, seen through an httpx mock transport."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import httpx
import pytest

from plugins.invoices.maventa import FINVOICE30, MaventaClient, MaventaConfig

CHOSEN = str(uuid.uuid4())
Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler) -> MaventaClient:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        assert request.headers["authorization"] == "Bearer t"
        return handler(request)

    config = MaventaConfig(
        base_url="https://ax-stage.maventa.com", client_id="c", api_key="k", vendor_api_key="v"
    )
    return MaventaClient(config, transport=httpx.MockTransport(route))


def _invoice(invoice_id: str, **more: object) -> dict[str, object]:
    return {"id": invoice_id, "status": "PENDING", "files": [], "actions": [], **more}


def test_upload_sends_the_documented_multipart_fields() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=_invoice(CHOSEN))

    routing = {
        "format": FINVOICE30,
        "recipient_eia": "003727345615",
        "recipient_operator": "003721291126",
        "disabled_routes": ["email", "print"],
    }
    with _client(handler) as client:
        client.upload_invoice(b"<Finvoice/>", "l.xml", uuid=CHOSEN.upper(), routing=routing)
    [request] = seen
    assert (request.method, request.url.path) == ("POST", "/v1/invoices")
    body = request.read().decode()
    for name, value in [
        ("format", "FINVOICE30"),
        ("recipient_eia", "003727345615"),
        ("recipient_operator", "003721291126"),
        ("disabled_routes[]", "email"),
        ("disabled_routes[]", "print"),
        ("uuid", CHOSEN),  # canonical lower case
    ]:
        assert f'name="{name}"\r\n\r\n{value}\r\n' in body
    assert 'name="file"; filename="l.xml"' in body


def test_listing_follows_x_next_page() -> None:
    pages: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        pages.append(params)
        page = int(params["page"])
        following = {"X-Next-Page": "2" if page == 1 else ""}
        return httpx.Response(
            200, json=[_invoice(f"{page}-{n}") for n in range(2)], headers=following
        )

    with _client(handler) as client:
        found = client.list_invoices("SENT", per_page=2)
    assert [i.id for i in found] == ["1-0", "1-1", "2-0", "2-1"]
    assert [p["page"] for p in pages] == ["1", "2"]
    assert {p["direction"] for p in pages} == {"SENT"}


def test_listing_without_paging_headers_stops_at_a_short_page() -> None:
    pages: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = request.url.params["page"]
        pages.append(page)
        count = 3 if page == "1" else 1
        return httpx.Response(200, json=[_invoice(f"{page}-{n}") for n in range(count)])

    with _client(handler) as client:
        assert len(client.list_invoices("SENT", per_page=3)) == 4
    assert pages == ["1", "2"]


def test_find_sent_matches_the_documented_filename_field() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params.get_list("ids[]") == [CHOSEN]
        other = _invoice(str(uuid.uuid4()), files=[{"id": "f", "filename": "mine.xml"}])
        return httpx.Response(200, json=[other])

    with _client(handler) as client:
        found = client.find_sent(CHOSEN, filename="mine.xml")
        assert found is not None and found.filenames == ("mine.xml",)
        assert client.find_sent(CHOSEN, filename="other.xml") is None


@pytest.mark.parametrize(
    ("answer", "delivery", "reason"),
    [
        ({"status": "DELIVERED"}, "delivered", None),
        ({"status": "PENDING", "actions": [{"type": "ERROR", "message": "x"}]}, "pending", None),
        (
            {
                "status": "FAILED",
                "actions": [
                    {"type": "ERROR", "message": "old", "happened_at": "2026-12-01T10:00:00Z"},
                    {"type": "ERROR", "message": "new", "happened_at": "2026-12-02T10:00:00Z"},
                ],
            },
            "failed",
            "new",
        ),
        ({"actions": [{"type": "DELIVERED", "channel": "PRINT"}]}, "delivered", None),
        ({"actions": [{"type": "ERROR", "message": "refused"}]}, "failed", "refused"),
    ],
)
def test_delivery_reads_status_then_actions(
    answer: dict[str, object], delivery: str, reason: str | None
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps({"id": CHOSEN, **answer}))

    with _client(handler) as client:
        invoice = client.get_invoice(CHOSEN)
    assert invoice.delivery() == delivery
    if reason:
        assert invoice.failure_reason() == reason
