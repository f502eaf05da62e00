"""Round trips against the Maventa sandbox served by a real uvicorn on a free local port."""

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from plugins.invoices.maventa.client import MaventaClient, MaventaConfig
from plugins.invoices.maventa.errors import (
    MaventaAuthError,
    MaventaError,
    MaventaNotFoundError,
    MaventaUnavailableError,
)
from plugins.invoices.sandboxes.maventa import (
    SANDBOX_API_KEY,
    SANDBOX_CLIENT_ID,
    SANDBOX_VENDOR_API_KEY,
    MaventaSandboxState,
    create_maventa_sandbox,
    get_sandbox_state,
)

FINVOICE = '<?xml version="1.0" encoding="ISO-8859-15"?>\n<Finvoice Version="3.0"/>'.encode(
    "iso-8859-15"
)


@dataclass
class Sandbox:
    url: str
    state: MaventaSandboxState


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[Sandbox]:
    app = create_maventa_sandbox()
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("sandbox did not start")
        time.sleep(0.02)
    try:
        yield Sandbox(f"http://127.0.0.1:{port}", get_sandbox_state(app))
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def sandbox(server: Sandbox) -> Sandbox:
    server.state.requests.clear()
    server.state.expire_tokens()
    server.state.tokens_issued = 0
    return server


def config(url: str, **changes: str) -> MaventaConfig:
    values = {
        "client_id": SANDBOX_CLIENT_ID,
        "api_key": SANDBOX_API_KEY,
        "vendor_api_key": SANDBOX_VENDOR_API_KEY,
    }
    values.update(changes)
    return MaventaConfig(base_url=url, scope="invoice:send invoice:receive", timeout=5, **values)


def test_config_hides_keys() -> None:
    text = repr(config("http://x", api_key="very-secret", vendor_api_key="also-secret"))
    assert "very-secret" not in text
    assert "also-secret" not in text
    assert SANDBOX_CLIENT_ID in text


def test_upload_get_actions_reroute_round_trip(sandbox: Sandbox) -> None:
    with MaventaClient(config(sandbox.url)) as client:
        invoice = client.upload_invoice(
            FINVOICE,
            "100102001.xml",
            routing={
                "recipient_eia": "003723327487",
                "recipient_operator": "003723327487",
                "disabled_routes": ["email", "print"],
            },
        )
        assert invoice.status == "PENDING"
        stored = sandbox.state.invoices[invoice.id]
        assert stored.content == FINVOICE
        assert stored.filename == "100102001.xml"
        assert stored.content_type == "application/xml"
        assert stored.fields["recipient_eia"] == "003723327487"
        assert stored.fields["disabled_routes"] == ["email", "print"]

        sandbox.state.deliver(invoice.id)
        again = client.get_invoice(invoice.id)
        assert again.id == invoice.id
        assert again.status == "SENT"
        assert again.currency == "EUR"

        client.reroute(
            invoice.id,
            "print",
            recipient_name="Äijälän Sähkö Oy",
            recipient_address1="Mäkikatu 1",
            recipient_post_code="00100",
            recipient_post_office="Helsinki",
            recipient_country="FI",
        )
        actions = client.get_actions(invoice.id)
        assert [a.type for a in actions] == ["CREATED", "SENT", "REROUTED"]
        assert actions[-1].channel == "print"
        assert actions[0].happened_at is not None

    token_requests = [r for r in sandbox.state.requests if r.path == "/oauth2/token"]
    assert len(token_requests) == 1
    form = token_requests[0].form
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_id"] == [SANDBOX_CLIENT_ID]
    assert form["client_secret"] == ["***"]
    assert form["scope"] == ["invoice:send invoice:receive"]
    reroute = next(r for r in sandbox.state.requests if r.method == "PUT")
    assert reroute.path == f"/v1/invoices/{invoice.id}/reroute/print"
    assert reroute.json["recipient_name"] == "Äijälän Sähkö Oy"


def test_token_is_reused_until_expiry(sandbox: Sandbox) -> None:
    now = [1000.0]
    with MaventaClient(config(sandbox.url), clock=lambda: now[0]) as client:
        first = client.token()
        assert client.token() == first
        client.upload_invoice(FINVOICE, "a.xml")
        client.upload_invoice(FINVOICE, "b.xml")
        assert sandbox.state.tokens_issued == 1
        now[0] += 3600  # past expires_in minus the slack
        assert client.token() != first
        assert sandbox.state.tokens_issued == 2


def test_revoked_token_is_renewed_once(sandbox: Sandbox) -> None:
    with MaventaClient(config(sandbox.url)) as client:
        uploaded = client.upload_invoice(FINVOICE, "a.xml")
        sandbox.state.expire_tokens()
        assert client.get_invoice(uploaded.id).id == uploaded.id
        assert sandbox.state.tokens_issued == 2


def test_bad_credentials_raise_auth_error(sandbox: Sandbox) -> None:
    client = MaventaClient(config(sandbox.url, api_key="wrong"))
    with client, pytest.raises(MaventaAuthError) as caught:
        client.upload_invoice(FINVOICE, "a.xml")
    assert caught.value.status == 401
    assert caught.value.code == "invalid_client"
    assert "wrong" not in str(caught.value)
    assert not any(r.path.startswith("/v1/") for r in sandbox.state.requests)


def test_missing_invoice_raises_not_found(sandbox: Sandbox) -> None:
    client = MaventaClient(config(sandbox.url))
    with client, pytest.raises(MaventaNotFoundError) as caught:
        client.get_invoice("no-such-id")
    assert caught.value.status == 404
    assert caught.value.message == "Invoice not found"


def test_injected_failure_is_typed(sandbox: Sandbox) -> None:
    sandbox.state.fail_next(503, "Maintenance break", path_prefix="/v1/invoices")
    with MaventaClient(config(sandbox.url)) as client:
        with pytest.raises(MaventaUnavailableError) as caught:
            client.upload_invoice(FINVOICE, "a.xml")
        assert caught.value.status == 503
        assert caught.value.message == "Maintenance break"
        # The fault is used up: the next try goes through.
        assert client.upload_invoice(FINVOICE, "a.xml").id


def test_validation_error_from_server(sandbox: Sandbox) -> None:
    sandbox.state.fail_next(422, "Invalid invoice", path_prefix="/v1/invoices", times=2)
    with MaventaClient(config(sandbox.url)) as client:
        for _ in range(2):
            with pytest.raises(MaventaError) as caught:
                client.upload_invoice(FINVOICE, "a.xml")
            assert caught.value.status == 422
            assert type(caught.value) is MaventaError


def test_client_side_argument_checks(sandbox: Sandbox) -> None:
    with MaventaClient(config(sandbox.url)) as client:
        with pytest.raises(ValueError, match="recipient_email"):
            client.reroute("x", "email")
        with pytest.raises(ValueError, match="unknown"):
            client.reroute("x", "email", recipient_email="a@b.fi", extra="1")
        with pytest.raises(ValueError, match="unknown routing"):
            client.upload_invoice(FINVOICE, "a.xml", routing={"recipient_eai": "x"})
    assert sandbox.state.requests == []


def test_unreachable_server_is_unavailable() -> None:
    client = MaventaClient(config(f"http://127.0.0.1:{_free_port()}"))
    with client, pytest.raises(MaventaUnavailableError) as caught:
        client.token()
    assert caught.value.status is None


def test_transport_can_be_injected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        assert request.headers["authorization"] == "Bearer t"
        return httpx.Response(200, json=[{"type": "SENT", "channel": "print"}])

    client = MaventaClient(
        config("https://ax-stage.maventa.com"), transport=httpx.MockTransport(handler)
    )
    with client:
        actions = client.get_actions("abc")
    assert actions[0].type == "SENT"
    assert actions[0].happened_at is None
