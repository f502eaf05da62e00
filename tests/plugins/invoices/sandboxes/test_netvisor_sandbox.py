"""The Netvisor sandbox itself: its protocol, its documented answer shapes, its demo data.

These talk to it with hand-made requests (hashed here, not by the plugin's client) and
read its raw XML, so that they hold the sandbox to the documents, not to our client.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from lxml import etree
from netvisor_sandbox import NetvisorSandbox
from stdnum.eu import vat as eu_vat
from stdnum.fi import ytunnus

from plugins.invoices.dispatch.einvoice import finvoice_for
from plugins.invoices.finvoice import FinvoiceRefused, validate_finvoice
from plugins.invoices.models import Invoice
from plugins.invoices.netvisor import NetvisorError
from plugins.invoices.netvisor.auth import build_headers
from plugins.invoices.sandboxes.netvisor.data import (
    COUNTRY_NAMES,
    DELETED_CUSTOMER_KEY,
    DEMO_PROBLEMS,
    DEMO_USERS,
    UNKNOWN_ETUNNUS_NUMBER,
    reference_check_digit,
    reference_for,
    user_name,
)
from plugins.invoices.sandboxes.netvisor.pdf import render_text_pdf
from plugins.invoices.sandboxes.netvisor.state import SandboxState
from plugins.invoices.sync.mapping import invoice_values

#: Netvisor's VAT codes (``ProductVatPercentage/@vatcode``) as its documents list them.
NETVISOR_VAT_CODES = {
    "NONE", "KOOS", "EUOS", "EUUO", "EUPO", "100", "KOMY", "EUMY", "EUUM", "EUPM312",
    "EUPM309", "MUUL", "EVTO", "EVPO", "RAMY", "RAOS", "EVRO",
}  # fmt: skip
#: The e-invoices of the demo that are broken on purpose, and how the writer takes them.
BROKEN_EINVOICES = {"1004780023"}  # no street: refused with the reason
UNROUTABLE_EINVOICES = {"1004780022"}  # no operator: a valid message, but a failed check


def status_of(body: bytes) -> list[str]:
    return re.findall(r"<Status>([^<]*)</Status>", body.decode())


def signed_get(sandbox: NetvisorSandbox, url: str, *, sender: bytes = b"Testi", **change: bytes):
    """A GET signed by hand: HMAC-SHA256 over the documented fields, as the bytes sent."""
    known = sandbox.server.credentials
    fields = {
        "X-Netvisor-Authentication-Sender": sender,
        "X-Netvisor-Authentication-CustomerId": known.customer_id.encode(),
        "X-Netvisor-Authentication-PartnerId": known.partner_id.encode(),
        "X-Netvisor-Authentication-Timestamp": b"2026-11-24 13:05:09.123",
        "X-Netvisor-Authentication-TimestampUnix": b"1795525509",
        "X-Netvisor-Authentication-TransactionId": datetime.now(UTC).isoformat().encode(),
        "X-Netvisor-Interface-Language": b"FI",
        "X-Netvisor-Organisation-ID": known.organisation_id.encode(),
        "X-Netvisor-Authentication-MACHashCalculationAlgorithm": b"HMACSHA256",
    }
    keys = (known.customer_key.encode(), known.partner_key.encode())
    message = b"&".join(
        [
            url.encode(),
            *(
                fields[f"X-Netvisor-{name}"]
                for name in (
                    "Authentication-Sender",
                    "Authentication-CustomerId",
                    "Authentication-Timestamp",
                    "Interface-Language",
                    "Organisation-ID",
                    "Authentication-TransactionId",
                    "Authentication-TimestampUnix",
                )
            ),
            *keys,
        ]
    )
    mac = hmac.new(keys[0] + b"&" + keys[1], message, hashlib.sha256).hexdigest()
    fields["X-Netvisor-Authentication-MAC"] = mac.encode()
    fields.update({f"X-Netvisor-{name}": value for name, value in change.items()})
    return httpx.get(url, headers=[(k.encode(), v) for k, v in fields.items()])


def xml_of(response: httpx.Response) -> etree._Element:
    return etree.fromstring(response.content)


# --- protocol --------------------------------------------------------------------------


def test_missing_headers_answer_authentication_failed(sandbox: NetvisorSandbox) -> None:
    response = httpx.get(f"{sandbox.url}/salesinvoicelist.nv")
    assert response.status_code == 200
    first, second = status_of(response.content)
    assert first == "FAILED"
    assert second.startswith("AUTHENTICATION_FAILED :: ")
    assert "X-Netvisor-Authentication-MAC" in second


def test_a_request_signed_by_the_documented_algorithm_is_let_in(sandbox: NetvisorSandbox) -> None:
    url = f"{sandbox.url}/getcustomer.nv?id=501"
    assert status_of(signed_get(sandbox, url).content) == ["OK"]
    # The MAC covers the bytes sent: an ISO-8859-1 sender is fine when hashed as sent.
    assert (
        status_of(signed_get(sandbox, url, sender="Lähettäjä".encode("latin-1")).content)[0] == "OK"
    )
    wrong_algorithm = signed_get(
        sandbox, url, **{"Authentication-MACHashCalculationAlgorithm": b"SHA1"}
    )
    assert status_of(wrong_algorithm.content)[1].startswith("AUTHENTICATION_FAILED")
    tampered = signed_get(sandbox, url, **{"Authentication-Timestamp": b"2026-11-24 13:05:10.000"})
    assert status_of(tampered.content)[1] == "AUTHENTICATION_FAILED :: MAC-tarkiste ei täsmää"


def test_reused_transaction_id_is_rejected(sandbox: NetvisorSandbox) -> None:
    url = f"{sandbox.url}/getcustomer.nv?id=501"
    headers = build_headers(sandbox.config(), url)
    assert status_of(httpx.get(url, headers=headers).content) == ["OK"]
    again = status_of(httpx.get(url, headers=headers).content)
    assert again[0] == "FAILED" and again[1].startswith("REQUEST_NOT_UNIQUE :: ")


def test_http_status_codes_on_request(sandbox: NetvisorSandbox) -> None:
    url = f"{sandbox.url}/getcustomer.nv?id=501"
    headers = build_headers(sandbox.config(customer_key="wrong"), url, use_http_status_codes=True)
    response = httpx.get(url, headers=headers)
    assert response.status_code == 401
    assert status_of(response.content)[1].startswith("AUTHENTICATION_FAILED")


def test_mac_covers_the_query_string(sandbox: NetvisorSandbox) -> None:
    signed = f"{sandbox.url}/getcustomer.nv?id=501"
    headers = build_headers(sandbox.config(), signed)
    response = httpx.get(f"{sandbox.url}/getcustomer.nv?id=502", headers=headers)
    assert status_of(response.content)[0] == "FAILED"


# --- documented answers ----------------------------------------------------------------


def test_a_failure_has_two_status_elements(sandbox: NetvisorSandbox) -> None:
    sandbox.state.fail_next("salesinvoicelist", "SYSTEM_MAINTENANCE", "Huoltokatko")
    root = xml_of(signed_get(sandbox, f"{sandbox.url}/salesinvoicelist.nv"))
    assert [s.text for s in root.findall("ResponseStatus/Status")] == [
        "FAILED",
        "SYSTEM_MAINTENANCE :: Huoltokatko",
    ]
    assert re.fullmatch(
        r"\d{1,2}\.\d{1,2}\.\d{4} \d\d:\d\d:\d\d", root.findtext("ResponseStatus/TimeStamp") or ""
    )


def test_invoice_details_in_the_documented_shape(sandbox: NetvisorSandbox) -> None:
    url = f"{sandbox.url}/getsalesinvoice.nv?netvisorkey=1014&pdfimage=nopdf&showprocesshistory=1"
    invoice = xml_of(signed_get(sandbox, url)).find("SalesInvoice")
    assert invoice is not None

    assert invoice.findtext("SalesInvoiceNumber") == "1002330014"
    assert invoice.find("SalesInvoiceDate").get("format") == "ansi"  # type: ignore[union-attr]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", invoice.findtext("SalesInvoiceDate") or "")
    assert invoice.findtext("SalesInvoiceAmount") == "1840,00"
    country = invoice.find("InvoicingCustomerCountryCode")
    assert country is not None and (country.text, country.get("ISO-3166")) == ("Sweden", "SE")
    assert invoice.findtext("InvoicingCustomerNetvisorKey") == "513"
    assert invoice.find("InvoicingCustomerIdentifier") is None  # the import message's element
    vat = invoice.find("InvoiceLines/InvoiceLine/SalesInvoiceProductLine/ProductVatPercentage")
    assert vat is not None and (vat.text, vat.get("vatcode")) == ("0", "EUPM312")
    (line,) = invoice.findall("ProcessHistory/ProcessHistoryLine")
    assert [child.tag for child in line] == [
        "ProcessedTimeStamp",
        "MaterialTypeName",
        "UserName",
        "ProcessChannelName",
        "ProcessStatus",
    ]
    assert line.find("ProcessedTimeStamp").get("format") == "ansi"  # type: ignore[union-attr]
    assert invoice.find("LastSentInvoicePDFBase64Data") is None


@pytest.mark.parametrize(
    ("pdfimage", "printed", "has_pdf"),
    [
        ("", False, False),  # the default, lastsentprintservice: only if the service sent it
        ("", True, True),
        ("&pdfimage=lastsentprintservice", False, False),
        ("&pdfimage=pdf", False, True),
        ("&pdfimage=nopdf", True, False),
    ],
)
def test_the_invoice_image_follows_pdfimage(
    sandbox: NetvisorSandbox, pdfimage: str, printed: bool, has_pdf: bool
) -> None:
    sandbox.state.invoices[1004].printed = printed
    url = f"{sandbox.url}/getsalesinvoice.nv?netvisorkey=1004{pdfimage}"
    found = xml_of(signed_get(sandbox, url)).find("SalesInvoice/LastSentInvoicePDFBase64Data")
    assert (found is not None) is has_pdf


def test_missing_invoice_is_ok_and_empty_missing_customer_fails(sandbox: NetvisorSandbox) -> None:
    missing = xml_of(signed_get(sandbox, f"{sandbox.url}/getsalesinvoice.nv?netvisorkey=99999"))
    assert [s.text for s in missing.findall("ResponseStatus/Status")] == ["OK"]
    element = missing.find("SalesInvoice")
    assert element is not None and len(element) == 0
    gone = f"{sandbox.url}/getcustomer.nv?id={DELETED_CUSTOMER_KEY}"
    assert status_of(signed_get(sandbox, gone).content) == [
        "FAILED",
        "INVALID_DATA :: Virheellinen tieto: asiakasta ei löydy Netvisor-tunnisteella 511",
    ]


def test_state_endpoint_and_bad_invoice_post(sandbox: NetvisorSandbox) -> None:
    state = httpx.get(f"{sandbox.url}/_sandbox/state").json()
    assert len(state["invoices"]) == 17
    assert sum(1 for i in state["invoices"] if i["status"] == "unsent") == 16
    bad = httpx.post(f"{sandbox.url}/_sandbox/invoices", json={"customer_key": 501})
    assert bad.status_code == 400


# --- demo data -------------------------------------------------------------------------


def test_reference_check_digit() -> None:
    assert reference_for("100102001") == "1001020017"
    assert reference_for("1111") == "11112"
    assert reference_for("234823") == "2348236"
    assert reference_check_digit("1001020007") == "1"


def test_demo_data_agrees_with_itself_but_for_the_planted_problems() -> None:
    state = SandboxState(today=date(2026, 3, 10))
    unsent = state.unsent_invoices()
    by_number = {i.invoice_number: i for i in unsent}

    assert len(unsent) == 16
    assert {i.etunnus_number for i in unsent} == {u.number for u in DEMO_USERS} | {
        UNKNOWN_ETUNNUS_NUMBER
    }
    assert all(i.invoice_date.year == 2026 for i in unsent)
    assert set(DEMO_PROBLEMS) <= set(by_number)
    for number, invoice in by_number.items():
        assert (reference_for(number) == invoice.reference_number) == (number != "1003450003")
        assert (invoice.amount == sum(r.gross for r in invoice.rows)) == (number != "1005120006")
        assert invoice.our_reference == f"E-tunnus {number[:6]} / {user_name(number[:6])}"
        for row in invoice.rows:
            assert row.vat_code in NETVISOR_VAT_CODES
            assert (row.vat_percent > 0) == (row.vat_code == "KOMY"), (number, row)
    customers = {i.customer.netvisor_key: i.customer for i in unsent} | state.customers
    for customer in customers.values():
        assert customer.country in COUNTRY_NAMES
        if customer.business_id and customer.country == "FI":
            assert ytunnus.is_valid(customer.business_id), customer.business_id
        elif customer.business_id:
            assert eu_vat.is_valid(customer.business_id), customer.business_id
        if customer.finvoice_address:  # a company's OVT code: 0037 and its business ID
            digits = ytunnus.compact(customer.business_id or "").replace("-", "")
            assert customer.finvoice_address == f"0037{digits}", customer.name
        for address in (customer.email, customer.email_invoicing_address):
            if address:
                assert address.endswith(("@example.com", "@example.fi")), address
    for user in DEMO_USERS:
        assert user.email.endswith(("@example.com", "@example.fi"))
    assert {i.delivery_method for i in unsent} >= {
        "Posti",
        "Sähköposti",
        "Verkkolasku",
        "sähköposti",
        "Email",
    }
    assert {row.vat_percent for i in unsent for row in i.rows} >= {
        Decimal(rate) for rate in ("25.5", "13.5", "10", "0", "24")
    }
    # The planted problems are really there.
    assert by_number["1003450004"].customer.email is None
    assert len(by_number["1004780021"].customer.post_number) == 4
    einvoice = by_number["1004780022"].customer
    assert einvoice.finvoice_address and not einvoice.finvoice_router_code
    assert by_number["1004780023"].customer.street_address == ""
    assert by_number["1005120007"].customer.netvisor_key not in state.customers
    first, duplicate = by_number["1001020007"], by_number["1001020009"]
    assert (first.customer, first.amount) == (duplicate.customer, duplicate.amount)
    assert 0 < (duplicate.invoice_date - first.invoice_date).days <= 7


def test_the_demo_einvoices_make_valid_finvoice_messages(sandbox: NetvisorSandbox) -> None:
    """Read through the plugin's client and mapping, as the sync does, then written."""
    client = sandbox.client()
    keys = [item.netvisor_key for item in client.list_sales_invoices()]
    valid, refused = set(), {}
    for detail in client.get_sales_invoices(keys):
        if detail.delivery_method != "Verkkolasku":
            continue
        customer = client.get_customer(detail.customer_netvisor_key or 0)
        invoice = Invoice(**invoice_values(detail, customer))
        try:
            xml = finvoice_for(invoice)
        except FinvoiceRefused as exc:
            refused[invoice.number] = [r.field for r in exc.refusals]
            continue
        assert validate_finvoice(xml) == [], invoice.number
        valid.add(invoice.number)

    assert valid == {"1002330012", "1003450005"} | UNROUTABLE_EINVOICES
    assert refused == {"1004780023": ["buyer.address"]}
    assert set(refused) == BROKEN_EINVOICES


def test_the_demo_einvoice_with_a_zero_rate_row_says_why(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client()
    detail = client.get_sales_invoice(1015)
    assert detail is not None and detail.invoice_number == "1003450005"
    invoice = Invoice(**invoice_values(detail, client.get_customer(512)))
    root = etree.fromstring(finvoice_for(invoice))
    codes = [code.text for code in root.iterfind("InvoiceDetails/VatSpecificationDetails/VatCode")]
    assert codes == ["S", "AE"]  # 25.5 % materials, and the construction work's reverse charge
    assert root.findtext("BuyerPartyDetails/BuyerOrganisationTaxCode") == "FI28715403"


def test_a_deleted_customer_cannot_be_read_but_its_invoice_can(sandbox: NetvisorSandbox) -> None:
    client = sandbox.client()
    assert client.get_sales_invoice(1017) is not None
    with pytest.raises(NetvisorError):
        client.get_customer(DELETED_CUSTOMER_KEY)


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
