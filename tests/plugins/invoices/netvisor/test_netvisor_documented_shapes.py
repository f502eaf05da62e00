"""The client against answers written here in the shapes Netvisor documents (``fixtures/``).

The sandbox is written from the same documents, but a test that only met it would prove
only that the two agree; these fixtures pin the documented facts the client relies on.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from plugins.invoices.netvisor import (
    InvalidData,
    NetvisorClient,
    NetvisorConfig,
    concerns_one_record,
)

FIXTURES = Path(__file__).parent / "fixtures"
CONFIG = NetvisorConfig(
    url="https://isvapi.example.fi",
    sender="E-tunnus helpdesk",
    customer_id="C",
    customer_key="ck",
    partner_id="P",
    partner_key="pk",
    organisation_id="1957204-1",
)


def client_answering(**answers: str) -> tuple[NetvisorClient, list[httpx.Request]]:
    """A client whose Netvisor answers ``resource`` with ``fixtures/<file>``."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        resource = request.url.path.strip("/").removesuffix(".nv")
        return httpx.Response(200, content=(FIXTURES / answers[resource]).read_bytes())

    return NetvisorClient(CONFIG, transport=httpx.MockTransport(handler)), seen


def query(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(request.url)).query)


def test_unsent_list_with_decimal_commas_and_ansi_dates() -> None:
    client, seen = client_answering(salesinvoicelist="salesinvoicelist.xml")
    first, second = client.list_sales_invoices()

    assert query(seen[0])["invoicestatus"] == ["unsent"]
    assert (first.netvisor_key, first.invoice_number) == (2417, "1003450007")
    assert first.invoice_date == date(2026, 11, 24)
    assert first.invoice_sum == first.open_sum == Decimal("1034.56")
    assert first.reference_number == "10034 50007 4"
    assert (second.customer_code, second.customer_name) == ("A513", "Nordljus Design AB")


def test_invoice_details_as_documented() -> None:
    client, seen = client_answering(getsalesinvoice="getsalesinvoice.xml")
    invoice = client.get_sales_invoice(2417, process_history=True)

    assert invoice is not None
    assert query(seen[0]) == {
        "netvisorkey": ["2417"],
        "pdfimage": ["nopdf"],
        "showcommentlines": ["1"],
        "showprocesshistory": ["1"],
    }
    assert invoice.netvisor_key == 2417
    assert (invoice.invoice_date, invoice.due_date) == (date(2026, 11, 24), date(2026, 12, 8))
    assert invoice.reference_number == "10034 50007 4"
    assert (invoice.amount, invoice.currency) == (Decimal("1034.56"), "EUR")
    assert invoice.status == "unsent"
    assert invoice.delivery_method == "Verkkolasku"
    # The customer is linked by InvoicingCustomerNetvisorKey (what getcustomer.nv takes).
    assert (invoice.customer_netvisor_key, invoice.customer_code) == (512, "A512")
    assert invoice.customer_business_id == "2871540-3"
    assert invoice.customer_name_extension == "Ostoreskontra"
    # The element's text is the country's name; the code is its ISO-3166 attribute.
    assert (invoice.customer_country, invoice.customer_country_code) == ("Finland", "FI")
    assert invoice.comment_lines == ("Työt tehty 17.–20.11.2026.",)


def test_rows_carry_their_vat_code() -> None:
    client, _ = client_answering(getsalesinvoice="getsalesinvoice.xml")
    invoice = client.get_sales_invoice(2417)
    assert invoice is not None
    painting, materials = invoice.rows

    assert (painting.vat_percent, painting.vat_code) == (Decimal("0"), "RAMY")
    assert (painting.quantity, painting.unit, painting.unit_price) == (
        Decimal("16"),
        "h",
        Decimal("48.0000"),
    )
    assert (painting.net_sum, painting.vat_sum, painting.gross_sum) == (
        Decimal("768.00"),
        Decimal("0.00"),
        Decimal("768.00"),
    )
    assert painting.product_code == "MAALAUS"
    assert painting.free_text == "Rakentamispalvelu, ostaja verovelvollinen"
    assert (materials.vat_percent, materials.vat_code) == (Decimal("25.5"), "KOMY")
    assert materials.net_sum == Decimal("212.40")
    assert invoice.rows_net_total + invoice.rows_vat_total == invoice.amount


def test_process_history_lines_are_read_into_their_five_parts() -> None:
    client, _ = client_answering(getsalesinvoice="getsalesinvoice.xml")
    invoice = client.get_sales_invoice(2417, process_history=True)
    assert invoice is not None
    saved, comment = invoice.process_history

    assert saved.timestamp == "2026-11-24 09:12:40"
    assert saved.processed_at == datetime(2026, 11, 24, 9, 12, 40)
    assert (saved.material_type, saved.user, saved.channel, saved.status) == (
        "Myyntilasku",
        "Juha Mäkinen",
        "Tallennus",
        "Lähettämätön",
    )
    assert comment.channel == "Rajapinta"
    assert comment.status == "Tarkistettu, odottaa verkkolaskuosoitetta"


def test_many_invoices_at_once_and_a_foreign_customer() -> None:
    client, seen = client_answering(getsalesinvoice="getsalesinvoice_keylist.xml")
    swedish, finnish = client.get_sales_invoices([2418, 2419])

    assert query(seen[0])["netvisorkeylist"] == ["2418,2419"]
    assert (swedish.customer_country, swedish.customer_country_code) == ("Sweden", "SE")
    assert swedish.customer_post_number == "903 26"
    assert swedish.customer_business_id == "SE559912345101"
    assert [(row.vat_code, row.vat_percent) for row in swedish.rows] == [("EUPM312", Decimal(0))]
    assert swedish.amount == Decimal("1840.00") == swedish.rows_gross_total
    # An answer without the attribute gives no code, except for Finland by its name.
    assert (finnish.customer_country, finnish.customer_country_code) == ("SUOMI", "FI")
    assert finnish.process_history == ()


def test_a_missing_invoice_is_ok_and_empty() -> None:
    client, _ = client_answering(getsalesinvoice="getsalesinvoice_not_found.xml")
    assert client.get_sales_invoice(9999) is None
    assert client.get_sales_invoices([9999]) == []
    assert client.get_sales_invoice_pdf(9999) is None


def test_the_invoice_image_needs_pdfimage_pdf() -> None:
    client, seen = client_answering(getsalesinvoice="getsalesinvoice_pdf.xml")
    pdf = client.get_sales_invoice_pdf(2417)

    # Without pdfimage=pdf Netvisor sends the image only of an invoice printed by its service.
    assert query(seen[0]) == {"netvisorkey": ["2417"], "pdfimage": ["pdf"]}
    assert pdf == b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


def test_customer_as_documented() -> None:
    client, seen = client_answering(getcustomer="getcustomer.xml")
    customer = client.get_customer(512)

    assert customer is not None
    assert query(seen[0]) == {"id": ["512"]}
    assert (customer.netvisor_key, customer.code, customer.name) == (
        512,
        "A512",
        "Pirkan Rakennuspalvelu Oy",
    )
    assert customer.business_id == "2871540-3"
    assert customer.organisation_unit_number == "003728715403"
    assert (customer.street_address, customer.additional_address) == (
        "Hatanpään valtatie 30",
        "PL 118",
    )
    assert (customer.post_number, customer.city, customer.country) == ("33100", "Tampere", "FI")
    assert customer.email == "toimisto@pirkanrakennus.example.fi"
    assert customer.invoice_email == "ostolaskut@pirkanrakennus.example.fi"
    assert (customer.finvoice_address, customer.finvoice_router_code) == (
        "003728715403",
        "003721291126",
    )


def test_a_missing_customer_is_a_failure_about_that_customer() -> None:
    client, seen = client_answering(getcustomer="getcustomer_not_found.xml")
    with pytest.raises(InvalidData) as caught:
        client.get_customer(777)

    assert len(seen) == 1  # not retried: asking again gives the same answer
    assert caught.value.code == "INVALID_DATA"
    assert caught.value.message.endswith("Netvisor-tunnisteella 777")
    assert concerns_one_record(caught.value)
