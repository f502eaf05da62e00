"""A local stand-in for Maventa AutoXChange, for tests and demos.

It speaks the same shapes as the parts of AX the client uses (token, upload, list,
details, actions, reroute), keeps everything in memory, records each request it receives, and can
be told to fail the next request(s) with :meth:`MaventaSandboxState.fail_next`.

Run it alone with ``python -m plugins.invoices.sandboxes.maventa`` (127.0.0.1:8099).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SANDBOX_CLIENT_ID = "00000000-0000-4000-8000-000000000001"
SANDBOX_API_KEY = "sandbox-api-key"
SANDBOX_VENDOR_API_KEY = "sandbox-vendor-api-key"

CHANNEL_FIELDS: dict[str, tuple[str, ...]] = {
    "print": (
        "recipient_name",
        "recipient_address1",
        "recipient_post_code",
        "recipient_post_office",
        "recipient_country",
    ),
    "email": ("recipient_email",),
    "einvoice": ("recipient_eia", "recipient_operator"),
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sandbox received (secrets in the token form are masked)."""

    method: str
    path: str
    form: dict[str, Any]
    json: Any


@dataclass
class StoredInvoice:
    """An uploaded invoice and what happened to it."""

    id: str
    filename: str
    content_type: str
    content: bytes
    fields: dict[str, Any]
    status: str = "PENDING"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    actions: list[dict[str, Any]] = field(default_factory=list)
    destination: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The AX invoice object."""
        return {
            "id": self.id,
            "status": self.status,
            "reference": self.fields.get("reference"),
            "number": self.fields.get("number"),
            "created_at": self.created_at.isoformat(),
            "source_format": "finvoice" if b"<Finvoice" in self.content[:2000] else "other",
            "sum": None,
            "sum_tax": None,
            "currency": "EUR",
            "destination": self.destination,
            "files": [{"id": f"{self.id}-1", "file": self.filename, "type": self.content_type}],
        }

    def act(self, kind: str, channel: str | None, message: str) -> None:
        """Add a delivery event."""
        self.actions.append(
            {
                "type": kind,
                "channel": channel,
                "message": message,
                "happened_at": datetime.now(UTC).isoformat(),
            }
        )


@dataclass
class _Fault:
    status: int
    message: str
    path_prefix: str
    remaining: int


@dataclass
class MaventaSandboxState:
    """Everything the sandbox knows; tests read it and steer it."""

    client_id: str = SANDBOX_CLIENT_ID
    api_key: str = SANDBOX_API_KEY
    vendor_api_key: str = SANDBOX_VENDOR_API_KEY
    token_ttl: int = 3600
    tokens: dict[str, float] = field(default_factory=dict)
    tokens_issued: int = 0
    invoices: dict[str, StoredInvoice] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self,
        status: int = 500,
        message: str = "Injected failure",
        *,
        path_prefix: str = "/",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests under path_prefix with an error."""
        with self._lock:
            self._faults.append(_Fault(status, message, path_prefix, times))

    def take_fault(self, path: str) -> _Fault | None:
        """Use up one injected fault for this path, if any."""
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def expire_tokens(self) -> None:
        """Make every issued token invalid, as if an hour had passed."""
        with self._lock:
            self.tokens.clear()

    def deliver(self, invoice_id: str, status: str = "SENT") -> None:
        """Pretend Maventa finished delivering the invoice."""
        invoice = self.invoices[invoice_id]
        invoice.status = status
        invoice.act(status, invoice.destination, f"Invoice {status.lower()}")


def _error(status: int, code: str, message: str, details: list[str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "details": details or []}, status)


Endpoint = Callable[[Request], Awaitable[Response]]


def _closing(endpoint: Endpoint) -> Endpoint:
    # Uploaded files are spooled to temporary files; close them whatever the answer.
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        finally:
            await request.close()

    return wrapped


def get_sandbox_state(app: Starlette) -> MaventaSandboxState:
    """Return the state behind a sandbox app made by :func:`create_maventa_sandbox`."""
    state = app.state.maventa
    assert isinstance(state, MaventaSandboxState)
    return state


def create_maventa_sandbox(
    *,
    client_id: str = SANDBOX_CLIENT_ID,
    api_key: str = SANDBOX_API_KEY,
    vendor_api_key: str = SANDBOX_VENDOR_API_KEY,
    token_ttl: int = 3600,
) -> Starlette:
    """Build the sandbox app; its state is ``get_sandbox_state(app)``."""
    state = MaventaSandboxState(
        client_id=client_id, api_key=api_key, vendor_api_key=vendor_api_key, token_ttl=token_ttl
    )

    async def record(request: Request) -> Response | None:
        form: dict[str, Any] = {}
        body: Any = None
        content_type = request.headers.get("content-type", "")
        if "form" in content_type:
            parsed = await request.form()
            for key, value in parsed.multi_items():
                shown: Any = value
                if isinstance(value, UploadFile):
                    shown = f"<file {value.filename}>"
                elif key in {"client_secret", "vendor_api_key"}:
                    shown = "***"
                form.setdefault(key, []).append(shown)
        elif "json" in content_type:
            body = await request.json()
        state.requests.append(RecordedRequest(request.method, request.url.path, form, body))
        fault = state.take_fault(request.url.path)
        if fault is not None:
            return _error(fault.status, "injected", fault.message)
        return None

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        expires = state.tokens.get(token)
        return expires is not None and time.monotonic() < expires

    async def token(request: Request) -> Response:
        if (failed := await record(request)) is not None:
            return failed
        form = await request.form()
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        given = (form.get("client_id"), form.get("client_secret"), form.get("vendor_api_key"))
        expected = (state.client_id, state.api_key, state.vendor_api_key)
        if not all(
            isinstance(value, str) and secrets.compare_digest(value, wanted)
            for value, wanted in zip(given, expected, strict=True)
        ):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Invalid client credentials"},
                401,
            )
        access_token = secrets.token_urlsafe(32)
        state.tokens[access_token] = time.monotonic() + state.token_ttl
        state.tokens_issued += 1
        scope = form.get("scope")
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "bearer",
                "expires_in": state.token_ttl,
                "scope": scope if isinstance(scope, str) and scope else "global company",
            }
        )

    async def upload(request: Request) -> Response:
        if (failed := await record(request)) is not None:
            return failed
        if not authorised(request):
            return _error(401, "unauthorized", "Invalid or expired token")
        form = await request.form()
        file = form.get("file")
        if not isinstance(file, UploadFile):
            return _error(422, "validation_error", "file is missing", ["file is required"])
        fields: dict[str, Any] = {}
        for key, value in form.multi_items():
            if key == "file" or isinstance(value, UploadFile):
                continue
            if key.endswith("[]"):
                fields.setdefault(key[:-2], []).append(value)
            else:
                fields[key] = value
        invoice = StoredInvoice(
            id=str(uuid.uuid4()),
            filename=file.filename or "invoice",
            content_type=file.content_type or "application/octet-stream",
            content=await file.read(),
            fields=fields,
        )
        invoice.act("CREATED", "API", "Invoice uploaded")
        state.invoices[invoice.id] = invoice
        return JSONResponse(invoice.to_json(), 201)

    async def listing(request: Request) -> Response:
        if (failed := await record(request)) is not None:
            return failed
        if not authorised(request):
            return _error(401, "unauthorized", "Invalid or expired token")
        number = request.query_params.get("number")
        found = [
            invoice.to_json()
            for invoice in state.invoices.values()
            if number is None or invoice.fields.get("number") == number
        ]
        return JSONResponse(found)

    def find(request: Request) -> StoredInvoice | Response:
        if not authorised(request):
            return _error(401, "unauthorized", "Invalid or expired token")
        invoice = state.invoices.get(request.path_params["invoice_id"])
        if invoice is None:
            return _error(404, "not_found", "Invoice not found")
        return invoice

    async def show(request: Request) -> Response:
        if (failed := await record(request)) is not None:
            return failed
        found = find(request)
        return found if isinstance(found, Response) else JSONResponse(found.to_json())

    async def actions(request: Request) -> Response:
        if (failed := await record(request)) is not None:
            return failed
        found = find(request)
        return found if isinstance(found, Response) else JSONResponse(found.actions)

    async def reroute(request: Request) -> Response:
        if (failed := await record(request)) is not None:
            return failed
        found = find(request)
        if isinstance(found, Response):
            return found
        channel = request.path_params["channel"]
        if channel not in CHANNEL_FIELDS:
            return _error(404, "not_found", f"Unknown channel {channel}")
        try:
            body = await request.json()  # Starlette keeps the body read by record().
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _error(400, "bad_request", "JSON body expected")
        missing = [name for name in CHANNEL_FIELDS[channel] if not body.get(name)]
        if missing:
            return _error(
                422, "validation_error", "Missing parameters", [f"{m} is missing" for m in missing]
            )
        found.destination = channel
        found.status = "PENDING"
        found.act("REROUTED", channel, f"Invoice rerouted to {channel}")
        return Response(status_code=204)

    app = Starlette(
        routes=[
            Route("/oauth2/token", _closing(token), methods=["POST"]),
            Route("/v1/invoices", _closing(upload), methods=["POST"]),
            Route("/v1/invoices", _closing(listing), methods=["GET"]),
            Route("/v1/invoices/{invoice_id}", _closing(show), methods=["GET"]),
            Route("/v1/invoices/{invoice_id}/actions", _closing(actions), methods=["GET"]),
            Route(
                "/v1/invoices/{invoice_id}/reroute/{channel}", _closing(reroute), methods=["PUT"]
            ),
        ]
    )
    app.state.maventa = state
    return app


def run_maventa_sandbox(host: str = "127.0.0.1", port: int = 8099) -> None:
    """Serve a sandbox with the default credentials until interrupted."""
    # Warnings only: an access line per demo request buries the dev server's own output.
    uvicorn.run(create_maventa_sandbox(), host=host, port=port, log_level="warning")


if __name__ == "__main__":
    run_maventa_sandbox()
