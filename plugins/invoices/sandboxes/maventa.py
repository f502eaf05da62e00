"""A local stand-in for Maventa AutoXChange (AX), written from Maventa's published documents.

Its shapes are AX's OpenAPI and guides (``plugins/invoices/maventa/API_NOTES.md`` lists
them with their sources), never the plugin's client: an import-linter contract keeps
``plugins.invoices.maventa`` (and so the settings) out of this module, and the tests join
the two. What it does, as the documents describe AX:

- ``POST /oauth2/token``: client credentials, a bearer token for ``token_ttl`` seconds.
- ``POST /v1/invoices`` (multipart): ``file`` (an invoice XML, or a ZIP of the XML and its
  attachments), ``format`` from the documented list, the routing fields, and ``uuid``: the
  invoice's id when given. A uuid that exists already is refused. The documents say only
  that a retry with the same uuid tells the invoice was created; the 409 and the code
  ``invoice_uuid_taken`` are this sandbox's choice.
- Routing as the guides describe it: e-invoice when an address and operator are given,
  then e-mail, then print; ``disabled_routes`` takes routes out. Print needs the
  recipient's full postal address in the invoice (the Finvoice buyer's address).
- ``GET /v1/invoices``: RECEIVED invoices unless ``direction=SENT``; 10 a page unless
  ``per_page`` (at most 100); ``ids[]``, ``number``, ``status[]``, ``created_at_start``
  filter; ``X-Total``, ``X-Total-Pages``, ``X-Page``, ``X-Per-Page``, ``X-Next-Page``.
- ``GET /v1/invoices/{id}`` and ``.../actions``: ``status`` PENDING until the invoice has
  been read ``polls_to_finish`` times, then DELIVERED with a SENT and a DELIVERED action,
  or FAILED with an ERROR action carrying the reason: for the designated failing
  recipients (:data:`FAILING_EIA`, :data:`UNDELIVERABLE_BUYER`), an invoice print cannot
  address, or one a test failed with :meth:`MaventaSandboxState.fail`.
- ``PUT /v1/invoices/{id}/reroute/print|email|einvoice`` (JSON, the documented fields).
- Errors answer ``{"code", "message", "details"}``.

Tests steer it through its state (``fail_next``, ``lose_next_answer``, ``deliver``,
``fail``, ``expire_tokens``). Run it alone with ``python -m plugins.invoices.sandboxes.maventa``
(127.0.0.1:8099).
"""

from __future__ import annotations

import io
import math
import secrets
import threading
import time
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from lxml import etree
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# The credentials the sandbox accepts; the settings spell the same values out on their own.
SANDBOX_CLIENT_ID = "00000000-0000-4000-8000-000000000001"
SANDBOX_API_KEY = "sandbox-api-key"
SANDBOX_VENDOR_API_KEY = "sandbox-vendor-api-key"

#: Documented upload formats (``format``).
FORMATS = frozenset(
    [
        "VISMAXML53",
        "VISMAXML60",
        "SVEFAKTURA10",
        "SEDI",
        "E2B",
        "EHF20",
        "PEPPOLBIS20",
        "PEPPOLBIS30",
        "SIUBL11",
        "SIUBL12",
        "SIUBL20",
        "OIOUBL",
        "VISMAUBL10",
        "VISMAUBL30",
        "FINVOICE13",
        "FINVOICE20",
        "FINVOICE30",
        "TEAPPS27",
        "TEAPPS30",
    ]
)
ROUTES = ("print", "email", "einvoice")
STATUSES = ("PENDING", "DELIVERED", "FAILED")
ACTION_TYPES = ("RECEIVED", "CREATED", "SENT", "DELIVERED", "INFO", "ERROR")
PRINT_FIELDS = (
    "recipient_name",
    "recipient_address1",
    "recipient_post_code",
    "recipient_post_office",
    "recipient_country",
)
REROUTE_FIELDS: dict[str, tuple[str, ...]] = {
    "print": PRINT_FIELDS,
    "email": ("recipient_email",),
    "einvoice": ("recipient_eia", "recipient_operator"),
}
DEFAULT_PER_PAGE, MAX_PER_PAGE, MAX_IDS = 10, 100, 100

#: A test recipient whose operator refuses every e-invoice: a well-formed address (OVT 0037 and
#: a Y-tunnus with a valid check digit), so our own checks let it go and only Maventa refuses.
FAILING_EIA = "003799999992"
FAILING_EIA_REASON = "Recipient's operator rejected the invoice: unknown e-invoice address"
#: A test buyer the print service cannot deliver to.
UNDELIVERABLE_BUYER = "Tuntematon Vastaanottaja Oy"
UNDELIVERABLE_REASON = "Print service: recipient address not found"
NO_ADDRESS_REASON = "Print service: recipient postal address is incomplete"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sandbox received (secrets in the token form are masked)."""

    method: str
    path: str
    form: dict[str, Any]
    json: Any
    query: dict[str, list[str]] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class Buyer:
    """What print needs of the invoice: the buyer's name and postal address (Finvoice)."""

    name: str = ""
    street: str = ""
    postcode: str = ""
    town: str = ""
    country: str = ""

    @property
    def addressable(self) -> bool:
        return all(v.strip() for v in (self.name, self.street, self.postcode, self.town))


@dataclass
class StoredInvoice:
    """An uploaded invoice and what happened to it."""

    id: str
    filename: str
    content_type: str
    content: bytes
    fields: dict[str, Any]
    xml: bytes = b""
    attachments: list[tuple[str, str]] = field(default_factory=list)
    number: str | None = None
    reference: str | None = None
    buyer: Buyer = field(default_factory=Buyer)
    status: str = "PENDING"
    route: str | None = None
    #: Why it will fail once processed (None: it will be delivered).
    outcome_error: str | None = None
    reads: int = 0
    created_at: datetime = field(default_factory=_now)
    actions: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The invoice object (OpenAPI ``InvoicesHttpApiEntitiesInvoice``)."""
        files = [
            {
                "id": f"{self.id}-{n}",
                "filename": name,
                "type": kind,
                "mimetype": mime,
                "href": f"/v1/invoices/{self.id}/files/{self.id}-{n}",
            }
            for n, (name, kind, mime) in enumerate(self._files(), start=1)
        ]
        return {
            "id": self.id,
            "status": self.status,
            "reference": self.reference,
            "number": self.number,
            "sender": {"eia": "003719572041", "bid": "1957204-1", "name": "E-tunnus Oy"},
            "recipient": {
                "eia": self.fields.get("recipient_eia"),
                "name": self.buyer.name or None,
                "country": self.buyer.country or None,
                "operator": self.fields.get("recipient_operator"),
            },
            "created_at": _stamp(self.created_at),
            "source_format": self.fields.get("format") or "FINVOICE30",
            "sum": 0.0,
            "sum_tax": 0.0,
            "currency": "EUR",
            "origin": "INTERNAL",
            "destination": self.route.upper() if self.route else None,
            "comment": None,
            "files": files,
            "actions": list(self.actions),
        }

    def _files(self) -> list[tuple[str, str, str]]:
        files = [(self.filename, "INVOICE", self.content_type)]
        files += [(name, "ATTACHMENT", mime) for name, mime in self.attachments]
        return files

    def act(self, kind: str, channel: str | None, message: str | None) -> None:
        """Add a delivery event (OpenAPI ``InvoicesHttpApiEntitiesInvoiceAction``)."""
        self.actions.append(
            {
                "type": kind,
                "channel": channel.upper() if channel else None,
                "message": message,
                "happened_at": _stamp(_now()),
            }
        )


@dataclass
class _Fault:
    status: int
    message: str
    path_prefix: str
    remaining: int
    method: str | None = None


@dataclass
class MaventaSandboxState:
    """Everything the sandbox knows; tests read it and steer it."""

    client_id: str = SANDBOX_CLIENT_ID
    api_key: str = SANDBOX_API_KEY
    vendor_api_key: str = SANDBOX_VENDOR_API_KEY
    token_ttl: int = 3600
    #: How many reads of an invoice (details or actions) before it is processed.
    polls_to_finish: int = 2
    tokens: dict[str, float] = field(default_factory=dict)
    tokens_issued: int = 0
    invoices: dict[str, StoredInvoice] = field(default_factory=dict)
    #: RECEIVED invoices: what ``GET /v1/invoices`` lists without ``direction=SENT``.
    received: list[dict[str, Any]] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _lose_answers: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.received:
            self.received = [_received_invoice(n) for n in range(1, 4)]

    def fail_next(
        self,
        status: int = 500,
        message: str = "Injected failure",
        *,
        path_prefix: str = "/",
        times: int = 1,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests under ``path_prefix`` with an error."""
        with self._lock:
            self._faults.append(_Fault(status, message, path_prefix, times, method))

    def take_fault(self, method: str, path: str) -> _Fault | None:
        """Use up one injected fault for this request, if any."""
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix) and fault.method in (None, method):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def lose_next_answer(self, times: int = 1) -> None:
        """Store the next upload(s) but answer 504, as if the answer was lost on the way."""
        with self._lock:
            self._lose_answers += times

    def take_lost_answer(self) -> bool:
        with self._lock:
            if self._lose_answers <= 0:
                return False
            self._lose_answers -= 1
            return True

    def expire_tokens(self) -> None:
        """Make every issued token invalid, as if an hour had passed."""
        with self._lock:
            self.tokens.clear()

    def deliver(self, invoice_id: str) -> None:
        """Finish the invoice's delivery now (DELIVERED)."""
        self._finish(self.invoices[invoice_id], None)

    def fail(self, invoice_id: str, reason: str) -> None:
        """Fail the invoice's delivery now (FAILED, with ``reason`` in an ERROR action)."""
        self._finish(self.invoices[invoice_id], reason)

    def read(self, invoice: StoredInvoice) -> None:
        """One read of a pending invoice: after ``polls_to_finish`` of them it is processed."""
        invoice.reads += 1
        if invoice.status == "PENDING" and invoice.reads >= self.polls_to_finish:
            self._finish(invoice, invoice.outcome_error)

    def _finish(self, invoice: StoredInvoice, error: str | None) -> None:
        if error is not None:
            invoice.status = "FAILED"
            invoice.act("ERROR", invoice.route, error)
            return
        invoice.status = "DELIVERED"
        invoice.act("SENT", invoice.route, f"Invoice sent via {invoice.route}")
        invoice.act("DELIVERED", invoice.route, _delivered_words(invoice.route))


def _delivered_words(route: str | None) -> str:
    if route == "print":
        return "Invoice handed over to the print service"
    if route == "einvoice":
        return "Invoice delivered to the recipient's operator"
    return "Invoice delivered"


def _received_invoice(n: int) -> dict[str, Any]:
    created = _now() - timedelta(days=n)
    return {
        "id": str(uuid.UUID(int=0x5EED0000 + n)),
        "status": "DELIVERED",
        "reference": None,
        "number": f"R-{n:04d}",
        "sender": {"name": "Toimittaja Oy", "bid": "0000001-9"},
        "recipient": {"name": "E-tunnus Oy", "bid": "1957204-1"},
        "received_at": _stamp(created),
        "created_at": _stamp(created),
        "source_format": "FINVOICE30",
        "sum": 100.0,
        "sum_tax": 125.5,
        "currency": "EUR",
        "origin": "EXTERNAL",
        "files": [],
        "actions": [],
    }


def _error(status: int, code: str, message: str, details: list[str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "details": details or []}, status)


def _unauthorised() -> JSONResponse:
    return _error(401, "unauthorized", "Invalid or expired token")


def _invalid(*details: str) -> JSONResponse:
    return _error(422, "validation_error", "Invalid parameters", list(details))


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


# --- reading what was uploaded -------------------------------------------------------------

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _unpack(content: bytes) -> tuple[bytes, list[tuple[str, str]]] | str:
    """The invoice XML and the attachments' (name, mime type), or why the file is refused."""
    if not content.startswith(b"PK"):
        return content, []
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            xmls = [n for n in names if n.lower().endswith(".xml")]
            if len(xmls) != 1:
                return "The ZIP must hold exactly one invoice XML"
            others = [(n, "application/pdf" if n.lower().endswith(".pdf") else "") for n in names]
            return archive.read(xmls[0]), [o for o in others if o[0] != xmls[0]]
    except zipfile.BadZipFile:
        return "The file is not a valid ZIP"


def _text(root: Any, path: str) -> str:
    found = root.find(path)
    return "" if found is None or found.text is None else " ".join(found.text.split())


def _read_finvoice(xml: bytes) -> tuple[str | None, str | None, Buyer] | str:
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        return f"The invoice XML cannot be read: {exc}"
    if root.tag != "Finvoice":
        return "The file is not a Finvoice message"
    address = "BuyerPartyDetails/BuyerPostalAddressDetails/"
    buyer = Buyer(
        name=_text(root, "BuyerPartyDetails/BuyerOrganisationName"),
        street=_text(root, address + "BuyerStreetName"),
        postcode=_text(root, address + "BuyerPostCodeIdentifier"),
        town=_text(root, address + "BuyerTownName"),
        country=_text(root, address + "CountryCode"),
    )
    number = _text(root, "InvoiceDetails/InvoiceNumber") or None
    reference = _text(root, "EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    return number, reference or None, buyer


def _route(fields: dict[str, Any], buyer: Buyer) -> tuple[str | None, str | None]:
    """The route Maventa takes (e-invoice, e-mail, print) and why it will fail, if it will."""
    disabled = set(fields.get("disabled_routes", []))
    eia, operator = fields.get("recipient_eia"), fields.get("recipient_operator")
    if eia and operator and "einvoice" not in disabled:
        return "einvoice", FAILING_EIA_REASON if eia == FAILING_EIA else None
    if fields.get("recipient_email") and "email" not in disabled:
        return "email", None
    if "print" not in disabled:
        if not buyer.addressable:
            return "print", NO_ADDRESS_REASON
        return "print", UNDELIVERABLE_REASON if buyer.name == UNDELIVERABLE_BUYER else None
    return None, "No route left to deliver the invoice"


def _upload_fields(form: Any) -> dict[str, Any] | JSONResponse:
    fields: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            continue
        if key.endswith("[]"):
            fields.setdefault(key[:-2], []).append(value)
        else:
            fields[key] = value
    problems = []
    if fields.get("format") is not None and fields["format"] not in FORMATS:
        problems.append("format does not have a valid value")
    if set(fields.get("disabled_routes", [])) - set(ROUTES):
        problems.append("disabled_routes does not have a valid value")
    if "uuid" in fields:
        try:
            fields["uuid"] = str(uuid.UUID(fields["uuid"]))
        except ValueError:
            problems.append("uuid is invalid")
    return _invalid(*problems) if problems else fields


# --- the app -------------------------------------------------------------------------------


def create_maventa_sandbox(
    *,
    client_id: str = SANDBOX_CLIENT_ID,
    api_key: str = SANDBOX_API_KEY,
    vendor_api_key: str = SANDBOX_VENDOR_API_KEY,
    token_ttl: int = 3600,
    polls_to_finish: int = 2,
) -> Starlette:
    """Build the sandbox app; its state is ``get_sandbox_state(app)``."""
    state = MaventaSandboxState(
        client_id=client_id,
        api_key=api_key,
        vendor_api_key=vendor_api_key,
        token_ttl=token_ttl,
        polls_to_finish=polls_to_finish,
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
            try:
                body = await request.json()
            except ValueError:
                body = None
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        state.requests.append(RecordedRequest(request.method, request.url.path, form, body, query))
        fault = state.take_fault(request.method, request.url.path)
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
                "scope": scope if isinstance(scope, str) and scope else "eui",
            }
        )

    async def upload(request: Request) -> Response:
        if (failed := await record(request)) is not None:
            return failed
        if not authorised(request):
            return _unauthorised()
        form = await request.form()
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return _invalid("file is missing", "file must have a filename")
        fields = _upload_fields(form)
        if isinstance(fields, Response):
            return fields
        content = await file.read()
        unpacked = _unpack(content)
        if isinstance(unpacked, str):
            return _invalid(unpacked)
        xml, attachments = unpacked
        read = _read_finvoice(xml)
        if isinstance(read, str):
            return _invalid(read)
        number, reference, buyer = read
        invoice_id = fields.get("uuid") or str(uuid.uuid4())
        with state._lock:
            if invoice_id in state.invoices:
                return _error(409, "invoice_uuid_taken", "An invoice with this uuid exists already")
            route, error = _route(fields, buyer)
            invoice = StoredInvoice(
                id=invoice_id,
                filename=file.filename,
                content_type=file.content_type or "application/octet-stream",
                content=content,
                fields=fields,
                xml=xml,
                attachments=attachments,
                number=number,
                reference=reference,
                buyer=buyer,
                route=route,
                outcome_error=error,
            )
            invoice.act("CREATED", None, "Invoice created")
            state.invoices[invoice.id] = invoice
        if state.take_lost_answer():
            return _error(504, "gateway_timeout", "Gateway timeout")
        return JSONResponse(invoice.to_json(), 201)

    async def listing(request: Request) -> Response:
        if (failed := await record(request)) is not None:
            return failed
        if not authorised(request):
            return _unauthorised()
        query = request.query_params
        direction = query.get("direction", "RECEIVED")
        if direction not in ("RECEIVED", "SENT"):
            return _invalid("direction does not have a valid value")
        try:
            page = int(query.get("page", "1"))
            per_page = int(query.get("per_page", str(DEFAULT_PER_PAGE)))
        except ValueError:
            return _invalid("page and per_page must be integers")
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            return _invalid(f"per_page must be within 1..{MAX_PER_PAGE}")
        ids = query.getlist("ids[]")
        statuses = query.getlist("status[]")
        if len(ids) > MAX_IDS or set(statuses) - set(STATUSES):
            return _invalid("ids or status do not have a valid value")
        if direction == "SENT":
            found = [invoice.to_json() for invoice in state.invoices.values()]
        else:
            found = list(state.received)
        start = query.get("created_at_start")
        found = [
            item
            for item in found
            if (not ids or item["id"] in ids)
            and (not statuses or item["status"] in statuses)
            and ("number" not in query or item["number"] == query["number"])
            and (start is None or item["created_at"] >= start.replace("+00:00", "Z"))
        ]
        pages = max(1, math.ceil(len(found) / per_page))
        shown = found[(page - 1) * per_page : page * per_page]
        headers = {
            "X-Total": str(len(found)),
            "X-Total-Pages": str(pages),
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        return JSONResponse(shown, headers=headers)

    def find(request: Request) -> StoredInvoice | Response:
        if not authorised(request):
            return _unauthorised()
        invoice = state.invoices.get(request.path_params["invoice_id"])
        if invoice is None:
            return _error(404, "not_found", "Invoice not found")
        return invoice

    async def show(request: Request) -> Response:
        if (failed := await record(request)) is not None:
            return failed
        found = find(request)
        if isinstance(found, Response):
            return found
        state.read(found)
        return JSONResponse(found.to_json())

    async def actions(request: Request) -> Response:
        if (failed := await record(request)) is not None:
            return failed
        found = find(request)
        if isinstance(found, Response):
            return found
        state.read(found)
        types = request.query_params.getlist("type[]")
        if set(types) - set(ACTION_TYPES):
            return _invalid("type does not have a valid value")
        return JSONResponse([a for a in found.actions if not types or a["type"] in types])

    async def reroute(request: Request) -> Response:
        if (failed := await record(request)) is not None:
            return failed
        found = find(request)
        if isinstance(found, Response):
            return found
        channel = request.path_params["channel"]
        if channel not in REROUTE_FIELDS:
            return _error(404, "not_found", f"Unknown route {channel}")
        try:
            body = await request.json()  # Starlette keeps the body read by record().
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _error(400, "bad_request", "JSON body expected")
        missing = [name for name in REROUTE_FIELDS[channel] if not body.get(name)]
        if missing:
            return _invalid(*(f"{name} is missing" for name in missing))
        found.route = channel
        found.status = "PENDING"
        found.reads = 0
        found.outcome_error = None
        found.act("INFO", channel, f"Invoice rerouted via {channel}")
        return Response(status_code=200)

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
