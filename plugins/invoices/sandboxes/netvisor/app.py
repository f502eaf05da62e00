"""A local stand-in for Netvisor, written from its published documents.

Serves the five resources the invoice plugin uses (salesinvoicelist.nv, getsalesinvoice.nv,
getcustomer.nv, updatesalesinvoicestatus.nv, salesinvoicecomment.nv) with their documented
parameters, authentication (``protocol``) and answers (``answers``); keeps what clients
change (statuses, comments) in a ``SandboxState``, and lets tests inject failures, delays
and broken XML. Debug endpoints: ``GET /_sandbox/state`` (JSON) and
``POST /_sandbox/invoices`` (JSON body) to make a new unsent invoice appear.

Our own choices where the documents are silent, so that no one mistakes them for
Netvisor's: the HTTP statuses answered with ``UseHTTPResponseStatusCodes: 1``, the error
messages' wording, and the words of the process history lines.

Run it with ``python -m plugins.invoices.sandboxes.netvisor.app``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import uvicorn
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from plugins.invoices.sandboxes.netvisor import answers
from plugins.invoices.sandboxes.netvisor.data import SandboxCustomer, SandboxInvoice, SandboxRow
from plugins.invoices.sandboxes.netvisor.protocol import (
    HTTP_STATUS_CODES,
    TRANSACTION_ID,
    Credentials,
    Refused,
    authenticate,
    header_map,
)
from plugins.invoices.sandboxes.netvisor.state import RESOURCES, RecordedRequest, SandboxState

log = logging.getLogger(__name__)

SANDBOX_SENDER = "E-tunnus helpdesk (sandbox)"
SANDBOX_CUSTOMER_ID = "SANDBOX_CUSTOMER"
SANDBOX_CUSTOMER_KEY = "sandbox-customer-key"
SANDBOX_PARTNER_ID = "SANDBOX_PARTNER"
SANDBOX_PARTNER_KEY = "sandbox-partner-key"
SANDBOX_ORGANISATION_ID = "1957204-1"
#: The test credentials the sandbox accepts by default (plain values, not secrets).
SANDBOX_CREDENTIALS = Credentials(
    sender=SANDBOX_SENDER,
    customer_id=SANDBOX_CUSTOMER_ID,
    customer_key=SANDBOX_CUSTOMER_KEY,
    partner_id=SANDBOX_PARTNER_ID,
    partner_key=SANDBOX_PARTNER_KEY,
    organisation_id=SANDBOX_ORGANISATION_ID,
)

#: Our choice of HTTP status per error category for ``UseHTTPResponseStatusCodes: 1``
#: (Netvisor's pages name the switch but not the mapping).
HTTP_STATUS_FOR_CODE = {
    "AUTHENTICATION_FAILED": 401,
    "INVALID_DATA": 400,
    "INVALID_DATA_SIZE": 413,
    "DUPLICATE_DATA": 409,
    "REQUEST_NOT_UNIQUE": 409,
    "PERIOD_LOCK": 409,
    "SERVICE_ACCESS_ERROR": 403,
    "SYSTEM_MAINTENANCE": 503,
    "TECHNICAL_ERROR": 500,
}
#: salesinvoicelist.nv's ``invoicestatus`` filter and the statuses each returns.
LIST_STATUS_FILTER = {
    "open": {"open", "overdue", "reminded", "requested", "collected"},
    "overdue": {"overdue", "reminded", "requested", "collected"},
    "paid": {"paid"},
    "unsent": {"unsent"},
    "creditloss": {"creditloss"},
    "rejected": {"rejected"},
}
#: updatesalesinvoicestatus.nv's ``status`` values.
UPDATABLE_STATUSES = {
    "open",
    "overdue",
    "reminded",
    "requested",
    "collected",
    "paid",
    "creditloss",
    "unsent",
}
PDF_IMAGES = {"lastsentprintservice", "pdf", "nopdf"}
DETAILS_MAX = 500
STATUS_MAX = 100
COMMENT_MAX = 500


def _keys(single: str | None, listed: str | None) -> tuple[list[int], bool]:
    """The keys of ``netvisorkey`` or ``netvisorkeylist`` (exactly one), and which was given."""
    if single and listed:
        raise Refused("INVALID_DATA", "Anna joko netvisorkey tai netvisorkeylist, ei molempia")
    raw = listed or single
    if not raw:
        raise Refused("INVALID_DATA", "netvisorkey tai netvisorkeylist puuttuu")
    try:
        return [int(part) for part in raw.split(",") if part.strip()], bool(listed)
    except ValueError as exc:
        raise Refused("INVALID_DATA", f"Virheellinen tunniste: {raw}") from exc


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise Refused("INVALID_DATA", f"Virheellinen päivämäärä {name}={value}") from exc


def _decimal(value: object, name: str) -> Decimal:
    try:
        return Decimal(str(value).replace(",", ".").replace(" ", ""))
    except InvalidOperation as exc:
        raise ValueError(f"{name} is not a number: {value!r}") from exc


def _customer_not_found(key: str, language: str) -> Refused:
    if language == "FI":
        return Refused(
            "INVALID_DATA", f"Virheellinen tieto: asiakasta ei löydy Netvisor-tunnisteella {key}"
        )
    return Refused("INVALID_DATA", f"Invalid data: no customer with Netvisor identifier {key}")


def create_sandbox_app(
    state: SandboxState | None = None, *, credentials: Credentials = SANDBOX_CREDENTIALS
) -> Starlette:
    """The sandbox ASGI app; ``app.state.sandbox`` is the ``SandboxState`` it serves."""
    sandbox = state if state is not None else SandboxState()

    def answer(body: bytes, status: int = 200) -> Response:
        return Response(
            body, status_code=status, media_type=f"text/xml; charset={sandbox.response_encoding}"
        )

    def failure(request: Request, code: str, message: str) -> Response:
        status = 200
        if header_map(request.headers.raw).get(HTTP_STATUS_CODES) == b"1":
            status = HTTP_STATUS_FOR_CODE.get(code, 400)
        return answer(answers.failed(code, message, sandbox.response_encoding), status)

    def signed_url(request: Request) -> bytes:
        # What the client hashed: scheme, Host header, path and query, as they arrived.
        host = header_map(request.headers.raw).get(b"host", b"")
        path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"")
        url = request.url.scheme.encode() + b"://" + host + path
        return url + b"?" + query if query else url

    def admit(request: Request) -> str:
        language = authenticate(signed_url(request), request.headers.raw, credentials)
        transaction = header_map(request.headers.raw)[TRANSACTION_ID].decode("latin-1")
        if not sandbox.claim_transaction_id(transaction):
            raise Refused(
                "REQUEST_NOT_UNIQUE", "Tunniste (TransactionId) on jo käytetty; anna uusi"
            )
        return language

    async def resource(request: Request) -> Response:
        name = request.path_params["name"].lower()
        if name not in RESOURCES:
            return failure(request, "INVALID_DATA", f"Tuntematon resurssi {name}.nv")
        with sandbox.in_flight_request():
            outcome = "ok"
            try:
                language = admit(request)
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
                    raise Refused(fault.code, fault.message)
                return await dispatch(name, request, language)
            except Refused as exc:
                outcome = exc.code
                return failure(request, exc.code, exc.message)
            finally:
                sandbox.record(
                    RecordedRequest(
                        resource=name,
                        method=request.method,
                        url=signed_url(request).decode("latin-1"),
                        transaction_id=request.headers.get(TRANSACTION_ID.decode(), ""),
                        outcome=outcome,
                    )
                )

    async def dispatch(name: str, request: Request, language: str) -> Response:
        query = {key.lower(): value for key, value in request.query_params.items()}
        encoding = sandbox.response_encoding
        if name == "salesinvoicelist":
            base_url = f"{request.url.scheme}://{request.headers.get('host', '')}"
            return answer(answers.sales_invoice_list(_listed(query), base_url, encoding))
        if name == "getsalesinvoice":
            return answer(_sales_invoice(query, encoding))
        if name == "getcustomer":
            return answer(_customer(query, language, encoding))
        if request.method != "POST":
            raise Refused("INVALID_DATA", f"{name}.nv vaatii POST-pyynnön")
        if name == "updatesalesinvoicestatus":
            return answer(_status_update(query, encoding))
        return answer(_comment(await request.body(), encoding))

    def _sales_invoice(query: dict[str, str], encoding: str) -> bytes:
        keys, listed = _keys(query.get("netvisorkey"), query.get("netvisorkeylist"))
        if len(keys) > DETAILS_MAX:
            raise Refused("INVALID_DATA_SIZE", f"Enintään {DETAILS_MAX} tunnistetta")
        image = query.get("pdfimage", "lastsentprintservice").lower()
        if image not in PDF_IMAGES:
            raise Refused("INVALID_DATA", f"Tuntematon pdfimage {image!r}")
        history = query.get("showprocesshistory") == "1"
        comments = query.get("showcommentlines") == "1"

        def pdf_of(invoice: SandboxInvoice) -> bool:
            return image == "pdf" or (image == "lastsentprintservice" and invoice.printed)

        if listed:
            found = [sandbox.invoices[key] for key in keys if key in sandbox.invoices]
            return answers.sales_invoices(
                found,
                pdf_keys=frozenset(i.netvisor_key for i in found if pdf_of(i)),
                process_history=history,
                comment_lines=comments,
                encoding=encoding,
            )
        invoice = sandbox.invoices.get(keys[0])
        return answers.sales_invoice(
            invoice,
            pdf=invoice is not None and pdf_of(invoice),
            process_history=history,
            comment_lines=comments,
            encoding=encoding,
        )

    def _customer(query: dict[str, str], language: str, encoding: str) -> bytes:
        raw = query.get("id", "")
        try:
            key = int(raw)
        except ValueError as exc:
            raise Refused("INVALID_DATA", "id puuttuu tai ei ole luku") from exc
        record = sandbox.customers.get(key)
        if record is None:
            raise _customer_not_found(raw, language)
        return answers.customer(record, encoding)

    def _status_update(query: dict[str, str], encoding: str) -> bytes:
        status = query.get("status", "").lower()
        if status not in UPDATABLE_STATUSES:
            raise Refused("INVALID_DATA", f"Tuntematon tila {status!r}")
        keys, _ = _keys(query.get("netvisorkey"), query.get("netvisorkeylist"))
        if len(keys) > STATUS_MAX:
            raise Refused("INVALID_DATA_SIZE", f"Enintään {STATUS_MAX} laskua kerralla")
        unknown = sandbox.set_status(keys, status)
        if unknown:
            raise Refused("INVALID_DATA", f"Tuntemattomat laskut: {unknown}")
        return answers.ok(encoding)

    def _comment(body: bytes, encoding: str) -> bytes:
        try:
            # lxml reads the body by its own XML declaration (ISO-8859-15 from a client).
            root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            raise Refused("INVALID_DATA", f"XML ei kelpaa: {exc}") from exc
        entries = root.findall("salesinvoicecomments/salesinvoicecomment")
        if root.tag != "root" or len(entries) != 1:
            raise Refused(
                "INVALID_DATA", "Odotettiin root/salesinvoicecomments/salesinvoicecomment"
            )
        entry = entries[0]
        invoice_type = (entry.findtext("invoicetype") or "").strip()
        comment = (entry.findtext("comment") or "").strip()
        try:
            key = int((entry.findtext("invoicenetvisorkey") or "").strip())
        except ValueError as exc:
            raise Refused("INVALID_DATA", "invoicenetvisorkey puuttuu") from exc
        if invoice_type not in {"invoice", "order", "invoicedraft"}:
            raise Refused("INVALID_DATA", f"Tuntematon invoicetype {invoice_type!r}")
        if not comment or len(comment) > COMMENT_MAX:
            raise Refused("INVALID_DATA", f"Kommentin pituus 1–{COMMENT_MAX} merkkiä")
        if not sandbox.add_comment(key, comment):
            raise Refused("INVALID_DATA", f"Laskua {key} ei löydy")
        return answers.ok(encoding)

    def _listed(query: dict[str, str]) -> list[SandboxInvoice]:
        status = query.get("invoicestatus", "").lower()
        if status and status not in LIST_STATUS_FILTER:
            raise Refused("INVALID_DATA", f"Tuntematon invoicestatus {status!r}")
        above_text = query.get("invoicesabovenetvisorkey")
        try:
            above = int(above_text) if above_text else None
        except ValueError as exc:
            raise Refused("INVALID_DATA", "invoicesabovenetvisorkey ei ole luku") from exc
        begin = _day(query.get("begininvoicedate"), "begininvoicedate")
        end = _day(query.get("endinvoicedate"), "endinvoicedate")
        modified_start = _day(query.get("lastmodifiedstart"), "lastmodifiedstart")
        modified_end = _day(query.get("lastmodifiedend"), "lastmodifiedend")
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
        return result[:DETAILS_MAX]

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
            vat_code=str(row.get("vat_code", "KOMY")),
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
