"""The Maventa client against the Maventa sandbox (both written from AX's OpenAPI and guides,
neither from the other), over a real uvicorn on a free loopback port."""

from __future__ import annotations

import io
import socket
import uuid
import zipfile
from collections.abc import Iterator

import httpx
import pytest
from maventa_sandbox import MaventaServer, finvoice, serve_maventa

from plugins.invoices.maventa import (
    FINVOICE30,
    MaventaAuthError,
    MaventaClient,
    MaventaConfig,
    MaventaError,
    MaventaNotFoundError,
    MaventaUnavailableError,
)
from plugins.invoices.sandboxes.maventa import (
    FAILING_EIA,
    FAILING_EIA_REASON,
    NO_ADDRESS_REASON,
    SANDBOX_CLIENT_ID,
    UNDELIVERABLE_BUYER,
    UNDELIVERABLE_REASON,
)

EINVOICE = {
    "format": FINVOICE30,
    "recipient_eia": "003727345615",
    "recipient_operator": "003721291126",
    "disabled_routes": ["email", "print"],
}
PRINT = {"format": FINVOICE30, "disabled_routes": ["email", "einvoice"]}


@pytest.fixture(scope="module")
def server() -> Iterator[MaventaServer]:
    with serve_maventa() as running:
        yield running


@pytest.fixture
def sandbox(server: MaventaServer) -> MaventaServer:
    server.state.requests.clear()
    server.state.invoices.clear()
    server.state.expire_tokens()
    server.state.tokens_issued = 0
    return server


@pytest.fixture
def client(sandbox: MaventaServer) -> MaventaClient:
    return sandbox.client()


def _zip(xml: bytes, pdf: bytes = b"%PDF-1.4 demo") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lasku.xml", xml)
        archive.writestr("lasku.pdf", pdf)
    return buffer.getvalue()


def _new_uuid() -> str:
    return str(uuid.uuid4())


def test_config_hides_keys() -> None:
    config = MaventaConfig(
        base_url="http://x", client_id=SANDBOX_CLIENT_ID, api_key="very-s", vendor_api_key="also-s"
    )
    assert "very-s" not in repr(config) and "also-s" not in repr(config)
    assert SANDBOX_CLIENT_ID in repr(config)


def test_upload_with_our_uuid_then_polling_until_delivered(
    sandbox: MaventaServer, client: MaventaClient
) -> None:
    chosen = _new_uuid()
    uploaded = client.upload_invoice(finvoice(), "lasku-1.xml", uuid=chosen, routing=EINVOICE)
    assert (uploaded.id, uploaded.status, uploaded.delivery()) == (chosen, "PENDING", "pending")
    assert uploaded.filenames == ("lasku-1.xml",)
    assert uploaded.number == "100777001"
    stored = sandbox.state.invoices[chosen]
    assert stored.fields["format"] == "FINVOICE30"
    assert stored.fields["disabled_routes"] == ["email", "print"]
    assert stored.route == "einvoice"

    assert client.get_invoice(chosen).delivery() == "pending"  # first read
    done = client.get_invoice(chosen)  # the sandbox processes it on the second
    assert (done.status, done.delivery()) == ("DELIVERED", "delivered")
    assert done.delivered_at() is not None
    actions = client.get_actions(chosen)
    assert [a.type for a in actions] == ["CREATED", "SENT", "DELIVERED"]
    assert actions[-1].channel == "EINVOICE"
    assert [a.type for a in client.get_actions(chosen, types=["DELIVERED"])] == ["DELIVERED"]

    [form] = [r.form for r in sandbox.state.requests if r.method == "POST" and "uuid" in r.form]
    assert form["uuid"] == [chosen] and form["file"] == ["<file lasku-1.xml>"]


def test_the_designated_failing_recipient_fails_with_its_reason(client: MaventaClient) -> None:
    chosen = _new_uuid()
    routing = EINVOICE | {"recipient_eia": FAILING_EIA}
    client.upload_invoice(finvoice(), "x.xml", uuid=chosen, routing=routing)
    client.get_invoice(chosen)
    failed = client.get_invoice(chosen)
    assert (failed.status, failed.delivery()) == ("FAILED", "failed")
    assert failed.failure_reason() == FAILING_EIA_REASON
    assert failed.failure_reason(client.get_actions(chosen)) == FAILING_EIA_REASON


@pytest.mark.parametrize(
    ("xml", "outcome", "reason"),
    [
        (finvoice(), "delivered", None),
        (finvoice(buyer=UNDELIVERABLE_BUYER), "failed", UNDELIVERABLE_REASON),
        (finvoice(street=""), "failed", NO_ADDRESS_REASON),
    ],
)
def test_print_route_needs_the_postal_address_in_the_invoice(
    sandbox: MaventaServer, client: MaventaClient, xml: bytes, outcome: str, reason: str | None
) -> None:
    chosen = _new_uuid()
    client.upload_invoice(
        _zip(xml), "lasku.zip", content_type="application/zip", uuid=chosen, routing=PRINT
    )
    stored = sandbox.state.invoices[chosen]
    assert stored.route == "print" and stored.attachments == [("lasku.pdf", "application/pdf")]
    client.get_invoice(chosen)
    final = client.get_invoice(chosen)
    assert final.delivery() == outcome
    if reason:
        assert final.failure_reason() == reason
    else:
        assert client.get_actions(chosen)[-1].channel == "PRINT"


def test_a_lost_answer_is_found_by_its_uuid_and_never_sent_twice(
    sandbox: MaventaServer, client: MaventaClient
) -> None:
    for number in range(12):  # more than one default page of other SENT invoices
        client.upload_invoice(finvoice(f"1007770{number:02d}"), f"o{number}.xml", routing=EINVOICE)
    chosen = _new_uuid()
    sandbox.state.lose_next_answer()
    with pytest.raises(MaventaUnavailableError) as lost:
        client.upload_invoice(finvoice(), "lost.xml", uuid=chosen, routing=EINVOICE)
    assert lost.value.status == 504
    found = client.find_sent(chosen)
    assert found is not None and found.id == chosen and found.filenames == ("lost.xml",)
    # Retried with the same uuid, Maventa refuses the duplicate: still one invoice.
    with pytest.raises(MaventaError) as duplicate:
        client.upload_invoice(finvoice(), "lost.xml", uuid=chosen, routing=EINVOICE)
    assert duplicate.value.status == 409
    assert len(sandbox.state.invoices) == 13
    listing = [r for r in sandbox.state.requests if r.method == "GET" and r.path == "/v1/invoices"]
    assert listing[0].query["direction"] == ["SENT"]
    assert listing[0].query["ids[]"] == [chosen]
    assert listing[0].query["per_page"] == ["100"]


def test_find_sent_answers_none_for_an_upload_that_never_arrived(client: MaventaClient) -> None:
    assert client.find_sent(_new_uuid()) is None


def test_sent_listing_pages_through_and_received_is_the_default(
    sandbox: MaventaServer, client: MaventaClient
) -> None:
    ids = {client.upload_invoice(finvoice(), f"{n}.xml", routing=EINVOICE).id for n in range(23)}
    sandbox.state.requests.clear()
    sent = client.list_invoices("SENT", per_page=10)
    assert {invoice.id for invoice in sent} == ids
    pages = [r.query["page"] for r in sandbox.state.requests if r.path == "/v1/invoices"]
    assert pages == [["1"], ["2"], ["3"]]
    received = client.list_invoices("RECEIVED")
    assert received and not {invoice.id for invoice in received} & ids
    with pytest.raises(ValueError, match="direction"):
        client.list_invoices("OUTGOING")  # type: ignore[arg-type]


def test_token_is_reused_until_expiry(sandbox: MaventaServer) -> None:
    now = [1000.0]
    with MaventaClient(sandbox.config(), clock=lambda: now[0]) as client:
        first = client.token()
        assert client.token() == first
        client.upload_invoice(finvoice(), "a.xml")
        assert sandbox.state.tokens_issued == 1
        now[0] += 3600  # past expires_in minus the slack
        assert client.token() != first
        assert sandbox.state.tokens_issued == 2
    [token_request, *_] = [r for r in sandbox.state.requests if r.path == "/oauth2/token"]
    assert token_request.form["grant_type"] == ["client_credentials"]
    assert token_request.form["client_secret"] == ["***"]


def test_revoked_token_is_renewed_once(sandbox: MaventaServer, client: MaventaClient) -> None:
    uploaded = client.upload_invoice(finvoice(), "a.xml")
    sandbox.state.expire_tokens()
    assert client.get_invoice(uploaded.id).id == uploaded.id
    assert sandbox.state.tokens_issued == 2


def test_bad_credentials_raise_auth_error(sandbox: MaventaServer) -> None:
    client = sandbox.client(api_key="wrong")
    with pytest.raises(MaventaAuthError) as caught:
        client.upload_invoice(finvoice(), "a.xml")
    assert (caught.value.status, caught.value.code) == (401, "invalid_client")
    assert "wrong" not in str(caught.value)
    assert not any(r.path.startswith("/v1/") for r in sandbox.state.requests)


def test_missing_invoice_raises_not_found(client: MaventaClient) -> None:
    with pytest.raises(MaventaNotFoundError) as caught:
        client.get_invoice(_new_uuid())
    assert (caught.value.status, caught.value.message) == (404, "Invoice not found")


def test_injected_failures_are_typed(sandbox: MaventaServer, client: MaventaClient) -> None:
    sandbox.state.fail_next(503, "Maintenance break", path_prefix="/v1/invoices")
    with pytest.raises(MaventaUnavailableError) as caught:
        client.upload_invoice(finvoice(), "a.xml")
    assert (caught.value.status, caught.value.message) == (503, "Maintenance break")
    sandbox.state.fail_next(422, "Invalid invoice", path_prefix="/v1/invoices")
    with pytest.raises(MaventaError) as refused:
        client.upload_invoice(finvoice(), "a.xml")
    assert refused.value.status == 422 and type(refused.value) is MaventaError
    assert client.upload_invoice(finvoice(), "a.xml").id  # the faults are used up


def test_sandbox_refuses_what_the_documents_do_not_allow(
    sandbox: MaventaServer, client: MaventaClient
) -> None:
    with pytest.raises(MaventaError) as not_xml:
        client.upload_invoice(b"%PDF-1.4", "a.pdf", content_type="application/pdf")
    assert not_xml.value.status == 422
    headers = {"Authorization": f"Bearer {client.token()}"}
    for query in ({"per_page": "101"}, {"direction": "OUTGOING"}, {"status[]": "SENT"}):
        answer = httpx.get(f"{sandbox.url}/v1/invoices", params=query, headers=headers)
        assert answer.status_code == 422
        assert set(answer.json()) == {"code", "message", "details"}


def test_client_side_argument_checks(sandbox: MaventaServer, client: MaventaClient) -> None:
    with pytest.raises(ValueError, match="recipient_email"):
        client.reroute("x", "email")
    with pytest.raises(ValueError, match="unknown"):
        client.reroute("x", "email", recipient_email="a@b.fi", extra="1")
    with pytest.raises(ValueError, match="unknown routing"):
        client.upload_invoice(finvoice(), "a.xml", routing={"recipient_eai": "x"})
    with pytest.raises(ValueError, match="format"):
        client.upload_invoice(finvoice(), "a.xml", routing={"format": "finvoice"})
    with pytest.raises(ValueError, match="disabled_routes"):
        client.upload_invoice(finvoice(), "a.xml", routing={"disabled_routes": ["paper"]})
    with pytest.raises(ValueError, match="uuid"):
        client.upload_invoice(finvoice(), "a.xml", uuid="dispatch-7")
    with pytest.raises(ValueError, match="per_page"):
        client.list_invoices("SENT", per_page=101)
    assert sandbox.state.requests == []


def test_reroute_to_print_with_the_documented_address_fields(
    sandbox: MaventaServer, client: MaventaClient
) -> None:
    chosen = _new_uuid()
    client.upload_invoice(finvoice(), "a.xml", uuid=chosen, routing=EINVOICE)
    client.reroute(
        chosen,
        "print",
        recipient_name="Äijälän Sähkö Oy",
        recipient_address1="Mäkikatu 1",
        recipient_post_code="00100",
        recipient_post_office="Helsinki",
        recipient_country="FI",
    )
    assert sandbox.state.invoices[chosen].route == "print"
    [put] = [r for r in sandbox.state.requests if r.method == "PUT"]
    assert put.path == f"/v1/invoices/{chosen}/reroute/print"
    assert put.json["recipient_name"] == "Äijälän Sähkö Oy"


def test_unreachable_server_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = MaventaConfig(
        base_url=f"http://127.0.0.1:{port}", client_id="c", api_key="k", vendor_api_key="v"
    )
    with MaventaClient(config) as client, pytest.raises(MaventaUnavailableError) as caught:
        client.token()
    assert caught.value.status is None
