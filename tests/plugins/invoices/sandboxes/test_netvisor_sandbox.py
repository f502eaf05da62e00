"""The sandbox itself: its protocol checks, its demo data and its PDFs."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import httpx
from stdnum.fi import ytunnus

from plugins.invoices.netvisor.auth import build_headers
from plugins.invoices.sandboxes.netvisor.data import (
    DEMO_PROBLEMS,
    DEMO_USERS,
    UNKNOWN_ETUNNUS_NUMBER,
    reference_check_digit,
    reference_for,
)
from plugins.invoices.sandboxes.netvisor.pdf import render_text_pdf
from plugins.invoices.sandboxes.netvisor.server import SandboxServer
from plugins.invoices.sandboxes.netvisor.state import SandboxState


def status_of(body: bytes) -> list[str]:
    return re.findall(r"<Status>([^<]*)</Status>", body.decode())


def test_missing_headers_answer_authentication_failed(sandbox: SandboxServer) -> None:
    response = httpx.get(f"{sandbox.url}/salesinvoicelist.nv")
    assert response.status_code == 200
    first, second = status_of(response.content)
    assert first == "FAILED"
    assert second.startswith("AUTHENTICATION_FAILED :: ")
    assert "X-Netvisor-Authentication-MAC" in second


def test_reused_transaction_id_is_rejected(sandbox: SandboxServer) -> None:
    url = f"{sandbox.url}/getcustomer.nv?id=501"
    headers = build_headers(sandbox.config(), url)
    assert status_of(httpx.get(url, headers=headers).content) == ["OK"]
    again = status_of(httpx.get(url, headers=headers).content)
    assert again[0] == "FAILED" and again[1].startswith("REQUEST_NOT_UNIQUE :: ")


def test_http_status_codes_on_request(sandbox: SandboxServer) -> None:
    url = f"{sandbox.url}/getcustomer.nv?id=501"
    headers = build_headers(sandbox.config(customer_key="wrong"), url, use_http_status_codes=True)
    response = httpx.get(url, headers=headers)
    assert response.status_code == 401
    assert status_of(response.content)[1].startswith("AUTHENTICATION_FAILED")


def test_mac_covers_the_query_string(sandbox: SandboxServer) -> None:
    signed = f"{sandbox.url}/getcustomer.nv?id=501"
    headers = build_headers(sandbox.config(), signed)
    response = httpx.get(f"{sandbox.url}/getcustomer.nv?id=502", headers=headers)
    assert status_of(response.content)[0] == "FAILED"


def test_state_endpoint_and_bad_invoice_post(sandbox: SandboxServer) -> None:
    state = httpx.get(f"{sandbox.url}/_sandbox/state").json()
    assert len(state["invoices"]) == 13
    assert sum(1 for i in state["invoices"] if i["status"] == "unsent") == 12
    bad = httpx.post(f"{sandbox.url}/_sandbox/invoices", json={"customer_key": 501})
    assert bad.status_code == 400


def test_reference_check_digit() -> None:
    assert reference_for("100102001") == "1001020017"
    assert reference_for("1111") == "11112"
    assert reference_for("234823") == "2348236"
    assert reference_check_digit("1001020007") == "1"


def test_demo_data_is_realistic_and_has_the_planted_problems() -> None:
    state = SandboxState(today=date(2026, 3, 10))
    unsent = state.unsent_invoices()
    users = {u.number for u in DEMO_USERS}

    assert len(unsent) == 12
    assert {i.etunnus_number for i in unsent} == users | {UNKNOWN_ETUNNUS_NUMBER}
    assert all(i.invoice_date.year == 2026 for i in unsent)
    for customer in state.customers.values():
        if customer.business_id:
            assert ytunnus.is_valid(customer.business_id), customer.business_id
        for address in (customer.email, customer.email_invoicing_address):
            if address:
                assert address.endswith(("@example.com", "@example.fi")), address
    for user in DEMO_USERS:
        assert user.email.endswith(("@example.com", "@example.fi"))
    by_number = {i.invoice_number: i for i in unsent}
    for number, invoice in by_number.items():
        correct = reference_for(number) == invoice.reference_number
        assert correct == (number != "1003450003"), number
    methods = {i.delivery_method for i in unsent}
    assert {"Posti", "Sähköposti", "Verkkolasku", "sähköposti", "Email"} <= methods
    vat_rates = {row.vat_percent for i in unsent for row in i.rows}
    assert {
        Decimal("25.5"),
        Decimal("13.5"),
        Decimal("10"),
        Decimal("0"),
        Decimal("24"),
    } <= vat_rates
    assert set(DEMO_PROBLEMS) <= set(by_number)
    # The planted problems are really there.
    assert by_number["1003450004"].customer.email is None
    assert len(by_number["1004780021"].customer.post_number) == 4
    einvoice = by_number["1004780022"].customer
    assert einvoice.finvoice_address and not einvoice.finvoice_router_code
    odd = by_number["1005120006"]
    assert odd.amount != sum((row.gross for row in odd.rows), Decimal(0))
    first, duplicate = by_number["1001020007"], by_number["1001020009"]
    assert (first.customer, first.amount) == (duplicate.customer, duplicate.amount)
    assert 0 < (duplicate.invoice_date - first.invoice_date).days <= 7


def test_pdf_is_structurally_valid() -> None:
    pdf = render_text_pdf(["LASKU 1", "Äijälä (Öljy) Oy", "Yhteensä 10,00 €"])
    assert pdf.startswith(b"%PDF-1.4\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF", pdf).group(1))  # type: ignore[union-attr]
    assert pdf[startxref:].startswith(b"xref\n0 7\n")
    offsets = re.findall(rb"(\d{10}) 00000 n", pdf[startxref:])
    for number, offset in enumerate(offsets, start=1):
        assert pdf[int(offset) :].startswith(f"{number} 0 obj".encode())
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))  # type: ignore[union-attr]
    stream_start = pdf.index(b"stream\n") + len(b"stream\n")
    assert pdf[stream_start + length :].startswith(b"endstream")
    assert b"(\\304ij\\344l\\344 \\(\\326ljy\\) Oy)" in pdf
    assert b"\\200" in pdf  # the euro sign in WinAnsi
