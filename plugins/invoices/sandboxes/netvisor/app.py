"""A local stand-in for Netvisor: the same headers, MAC, XML shapes and error answers.

Serves the five resources the invoice plugin uses, keeps what clients change
(statuses, comments) in a ``SandboxState``, and lets tests inject failures, delays
and broken XML. Debug endpoints: ``GET /_sandbox/state`` (JSON) and
``POST /_sandbox/invoices`` (JSON body) to make a new unsent invoice appear.

Run it with ``python -m plugins.invoices.sandboxes.netvisor.app``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import uvicorn
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plugins.invoices.netvisor.auth import (
    CUSTOMER_ID,
    ORGANISATION_ID,
    PARTNER_ID,
    TRANSACTION_ID,
    USE_HTTP_STATUS_CODES,
    missing_headers,
    verify_mac,
)
from plugins.invoices.netvisor.config import NetvisorConfig
from plugins.invoices.sandboxes.netvisor import answers
from plugins.invoices.sandboxes.netvisor.data import SandboxCustomer, SandboxInvoice, SandboxRow
from plugins.invoices.sandboxes.netvisor.state import RESOURCES, RecordedRequest, SandboxState

log = logging.getLogger(__name__)

SANDBOX_SENDER = "E-tunnus helpdesk (sandbox)"
SANDBOX_CUSTOMER_ID = "SANDBOX_CUSTOMER"
SANDBOX_CUSTOMER_KEY = "sandbox-customer-key"
SANDBOX_PARTNER_ID = "SANDBOX_PARTNER"
SANDBOX_PARTNER_KEY = "sandbox-partner-key"
SANDBOX_ORGANISATION_ID = "1957204-1"

#: HTTP statuses used when the client asks for them with UseHTTPResponseStatusCodes: 1.
#: Netvisor's public pages name the switch but not the mapping; this one is our choice.
HTTP_STATUS_FOR_CODE = {
    "AUTHENTICATION_FAILED": 401,
    "INVALID_DATA": 400,
    "INVALID_DATA_SIZE": 400,
    "DUPLICATE_DATA": 409,
    "REQUEST_NOT_UNIQUE": 409,
    "PERIOD_LOCK": 409,
    "SERVICE_ACCESS_ERROR": 403,
    "TECHNICAL_ERROR": 500,
}
LIST_STATUS_FILTER = {
    "open": {"open", "overdue", "reminded", "requested", "collected"},
    "overdue": {"overdue", "reminded", "requested", "collected"},
    "paid": {"paid"},
    "unsent": {"unsent"},
    "creditloss": {"creditloss"},
    "rejected": {"rejected"},
}
UPDATABLE_STATUSES = {"open", "overdue", "reminded", "requested", "collected", "paid", "creditloss"}


def sandbox_config(url: str, **overrides: Any) -> NetvisorConfig:
    """A client configuration that the sandbox's default credentials accept."""
    values: dict[str, Any] = {
        "url": url,
        "sender": SANDBOX_SENDER,
        "customer_id": SANDBOX_CUSTOMER_ID,
        "customer_key": SANDBOX_CUSTOMER_KEY,
        "partner_id": SANDBOX_PARTNER_ID,
        "partner_key": SANDBOX_PARTNER_KEY,
        "organisation_id": SANDBOX_ORGANISATION_ID,
    }
    values.update(overrides)
    return NetvisorConfig(**values)


class _Failure(Exception):
    """Answer with Netvisor's FAILED shape."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _parse_keys(single: str | None, listed: str | None) -> list[int]:
    raw = listed if listed else single
    if not raw:
        raise _Failure("INVALID_DATA", "netvisorkey tai netvisorkeylist puuttuu")
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise _Failure("INVALID_DATA", f"virheellinen tunniste: {raw}") from exc


def _parse_day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip()).date()
    except ValueError as exc:
        raise _Failure("INVALID_DATA", f"virheellinen päivämäärä {name}={value}") from exc


def _decimal(value: object, name: str) -> Decimal:
    try:
        return Decimal(str(value).replace(",", ".").replace(" ", ""))
    except InvalidOperation as exc:
        raise ValueError(f"{name} is not a number: {value!r}") from exc


def create_sandbox_app(
    state: SandboxState | None = None,
    *,
    customer_id: str = SANDBOX_CUSTOMER_ID,
    customer_key: str = SANDBOX_CUSTOMER_KEY,
    partner_id: str = SANDBOX_PARTNER_ID,
    partner_key: str = SANDBOX_PARTNER_KEY,
    organisation_id: str = SANDBOX_ORGANISATION_ID,
) -> Starlette:
    """The sandbox ASGI app; ``app.state.sandbox`` is the ``SandboxState`` it serves."""
    sandbox = state if state is not None else SandboxState()

    def answer(body: bytes, status: int = 200) -> Response:
        return Response(
            body,
            status_code=status,
            media_type=f"text/xml; charset={sandbox.response_encoding}",
        )

    def failure(request: Request, code: str, message: str) -> Response:
        status = 200
        if request.headers.get(USE_HTTP_STATUS_CODES) == "1":
            status = HTTP_STATUS_FOR_CODE.get(code, 400)
        return answer(answers.failed(code, message, sandbox.response_encoding), status)

    def full_url(request: Request) -> str:
        # What the client hashed: scheme, Host header, path and the raw query string.
        host = request.headers.get("host", "")
        query = request.scope.get("query_string", b"").decode("latin-1")
        url = f"{request.url.scheme}://{host}{request.url.path}"
        return f"{url}?{query}" if query else url

    def authenticate(request: Request) -> None:
        missing = missing_headers(request.headers)
        if missing:
            raise _Failure("AUTHENTICATION_FAILED", "Puuttuvat otsakkeet: " + ", ".join(missing))
        headers = request.headers
        if (
            headers[CUSTOMER_ID] != customer_id
            or headers[PARTNER_ID] != partner_id
            or headers[ORGANISATION_ID] != organisation_id
        ):
            raise _Failure("AUTHENTICATION_FAILED", "Tuntematon asiakas, kumppani tai organisaatio")
        if not verify_mac(full_url(request), headers, customer_key, partner_key):
            raise _Failure("AUTHENTICATION_FAILED", "MAC-tarkiste ei täsmää")
        if not sandbox.claim_transaction_id(headers[TRANSACTION_ID]):
            raise _Failure("REQUEST_NOT_UNIQUE", "TransactionId on jo käytetty")

    async def resource(request: Request) -> Response:
        name = request.path_params["name"].lower()
        if name not in RESOURCES:
            return failure(request, "INVALID_DATA", f"Tuntematon resurssi {name}.nv")
        with sandbox.in_flight_request():
            outcome = "ok"
            try:
                authenticate(request)
                # Read the whole request before any delay, like a server that received it
                # and then took its time: a client giving up must not stop the processing.
                await request.body()
                delay = sandbox.take_delay(name)
                if delay:
                    await asyncio.sleep(delay)
                fault = sandbox.take_fault(name)
                if fault is not None and fault.kind == "malformed":
                    outcome = "malformed"
                    return answer(answers.MALFORMED)
                if fault is not None:
                    raise _Failure(fault.code, fault.message)
                return await _dispatch(name, request)
            except _Failure as exc:
                outcome = exc.code
                return failure(request, exc.code, exc.message)
            finally:
                sandbox.record(
                    RecordedRequest(
                        resource=name,
                        method=request.method,
                        url=full_url(request),
                        transaction_id=request.headers.get(TRANSACTION_ID, ""),
                        outcome=outcome,
                    )
                )

    async def _dispatch(name: str, request: Request) -> Response:
        query = request.query_params
        encoding = sandbox.response_encoding
        base_url = f"{request.url.scheme}://{request.headers.get('host', '')}"
        if name == "salesinvoicelist":
            return answer(answers.sales_invoice_list(_filtered(request), base_url, encoding))
        if name == "getsalesinvoice":
            pdf = query.get("pdfimage", "").lower() == "pdf"
            history = query.get("showprocesshistory") == "1"
            keys = _parse_keys(query.get("netvisorkey"), query.get("netvisorkeylist"))
            if query.get("netvisorkeylist"):
                if len(keys) > 500:
                    raise _Failure("INVALID_DATA_SIZE", "Enintään 500 tunnistetta")
                found = [sandbox.invoices[k] for k in keys if k in sandbox.invoices]
                body = answers.sales_invoices(
                    found, pdf=pdf, process_history=history, encoding=encoding
                )
            else:
                body = answers.sales_invoice(
                    sandbox.invoices.get(keys[0]),
                    pdf=pdf,
                    process_history=history,
                    encoding=encoding,
                )
            return answer(body)
        if name == "getcustomer":
            try:
                key = int(query.get("id", ""))
            except ValueError as exc:
                raise _Failure("INVALID_DATA", "id puuttuu tai on virheellinen") from exc
            return answer(answers.customer(sandbox.customers.get(key), encoding))
        if request.method != "POST":
            raise _Failure("INVALID_DATA", f"{name}.nv vaatii POST-pyynnön")
        if name == "updatesalesinvoicestatus":
            status = query.get("status", "").lower()
            if status not in UPDATABLE_STATUSES:
                raise _Failure("INVALID_DATA", f"Tuntematon tila {status!r}")
            keys = _parse_keys(query.get("netvisorkey"), query.get("netvisorkeylist"))
            if len(keys) > 100:
                raise _Failure("INVALID_DATA_SIZE", "Enintään 100 laskua kerralla")
            unknown = sandbox.set_status(keys, status)
            if unknown:
                raise _Failure("INVALID_DATA", f"Tuntemattomat laskut: {unknown}")
            return answer(answers.ok(encoding))
        return await _comment(request, encoding)

    async def _comment(request: Request, encoding: str) -> Response:
        try:
            # lxml honours the body's own XML declaration (ISO-8859-15 from our client).
            root = etree.fromstring(
                await request.body(), etree.XMLParser(resolve_entities=False, no_network=True)
            )
        except etree.XMLSyntaxError as exc:
            raise _Failure("INVALID_DATA", f"XML ei kelpaa: {exc}") from exc
        entries = root.findall("salesinvoicecomments/salesinvoicecomment")
        if root.tag.lower() != "root" or len(entries) != 1:
            raise _Failure(
                "INVALID_DATA", "Odotettiin root/salesinvoicecomments/salesinvoicecomment"
            )
        entry = entries[0]
        invoice_type = (entry.findtext("invoicetype") or "").strip()
        comment = (entry.findtext("comment") or "").strip()
        try:
            key = int((entry.findtext("invoicenetvisorkey") or "").strip())
        except ValueError as exc:
            raise _Failure("INVALID_DATA", "invoicenetvisorkey puuttuu") from exc
        if invoice_type not in {"invoice", "order", "invoicedraft"}:
            raise _Failure("INVALID_DATA", f"Tuntematon invoicetype {invoice_type!r}")
        if not comment or len(comment) > 500:
            raise _Failure("INVALID_DATA", "Kommentin pituus 1–500 merkkiä")
        if not sandbox.add_comment(key, comment):
            raise _Failure("INVALID_DATA", f"Laskua {key} ei löydy")
        return answer(answers.ok(encoding))

    def _filtered(request: Request) -> list[SandboxInvoice]:
        query = {k.lower(): v for k, v in request.query_params.items()}
        status = query.get("invoicestatus", "").lower()
        if status and status not in LIST_STATUS_FILTER:
            raise _Failure("INVALID_DATA", f"Tuntematon invoicestatus {status!r}")
        try:
            above = (
                int(query["invoicesabovenetvisorkey"])
                if query.get("invoicesabovenetvisorkey")
                else None
            )
        except ValueError as exc:
            raise _Failure("INVALID_DATA", "invoicesabovenetvisorkey ei ole luku") from exc
        begin = _parse_day(query.get("begininvoicedate"), "begininvoicedate")
        end = _parse_day(query.get("endinvoicedate"), "endinvoicedate")
        modified_start = _parse_day(query.get("lastmodifiedstart"), "lastmodifiedstart")
        modified_end = _parse_day(query.get("lastmodifiedend"), "lastmodifiedend")
        number = query.get("invoicenumber")
        customer_code = query.get("customercode")
        result = []
        for invoice in sorted(sandbox.invoices.values(), key=lambda i: i.netvisor_key):
            modified = invoice.last_modified.date()
            if (
                (status and invoice.status not in LIST_STATUS_FILTER[status])
                or (above is not None and invoice.netvisor_key <= above)
                or (begin is not None and invoice.invoice_date < begin)
                or (end is not None and invoice.invoice_date > end)
                or (modified_start is not None and modified < modified_start)
                or (modified_end is not None and modified > modified_end)
                or (number and invoice.invoice_number != number)
                or (customer_code and invoice.customer.code != customer_code)
            ):
                continue
            result.append(invoice)
        return result[:500]

    async def state_json(request: Request) -> JSONResponse:
        return JSONResponse(sandbox.snapshot())

    async def add_invoice_json(request: Request) -> JSONResponse:
        try:
            payload = await request.json()
            invoice = _invoice_from_json(sandbox, payload)
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(
            {
                "netvisor_key": invoice.netvisor_key,
                "invoice_number": invoice.invoice_number,
                "reference_number": invoice.reference_number,
                "amount": str(invoice.amount),
            },
            status_code=201,
        )

    app = Starlette(
        routes=[
            Route("/_sandbox/state", state_json, methods=["GET"]),
            Route("/_sandbox/invoices", add_invoice_json, methods=["POST"]),
            Route("/{name:str}.nv", resource, methods=["GET", "POST"]),
        ]
    )
    app.state.sandbox = sandbox
    return app


def _invoice_from_json(sandbox: SandboxState, payload: Any) -> SandboxInvoice:
    """Add the invoice described by a ``POST /_sandbox/invoices`` body."""
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    customer: SandboxCustomer | int
    if "customer" in payload:
        fields = dict(payload["customer"])
        fields.setdefault("netvisor_key", sandbox.next_customer_key())
        fields.setdefault("code", f"A{fields['netvisor_key']}")
        customer = SandboxCustomer(**fields)
    else:
        customer = int(payload["customer_key"])
    rows = [
        SandboxRow(
            product_name=str(row["product_name"]),
            quantity=_decimal(row.get("quantity", 1), "quantity"),
            unit_price=_decimal(row["unit_price"], "unit_price"),
            vat_percent=_decimal(row.get("vat_percent", "25.5"), "vat_percent"),
            unit=str(row.get("unit", "kpl")),
        )
        for row in payload.get("rows", [])
    ]
    amount = payload.get("amount")
    return sandbox.add_invoice(
        etunnus_number=str(payload["etunnus_number"]),
        customer=customer,
        delivery_method=str(payload.get("delivery_method", "Posti")),
        rows=rows,
        invoice_number=payload.get("invoice_number"),
        reference_number=payload.get("reference_number"),
        invoice_date=date.fromisoformat(payload["invoice_date"])
        if payload.get("invoice_date")
        else None,
        due_date=date.fromisoformat(payload["due_date"]) if payload.get("due_date") else None,
        amount=_decimal(amount, "amount") if amount is not None else None,
    )


def run_sandbox(
    host: str = "127.0.0.1", port: int = 8765, state: SandboxState | None = None
) -> None:
    """Serve the sandbox with uvicorn until interrupted."""
    # Warnings only: an access line per demo request buries the dev server's own output.
    uvicorn.run(create_sandbox_app(state), host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Netvisor sandbox with demo invoices")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    print(f"Netvisor sandbox on http://{args.host}:{args.port}")
    print(f"  customer id {SANDBOX_CUSTOMER_ID}, partner id {SANDBOX_PARTNER_ID}")
    print(f"  organisation {SANDBOX_ORGANISATION_ID}; keys: see app.py (test values only)")
    run_sandbox(args.host, args.port)


if __name__ == "__main__":
    main()
