"""Parsing Netvisor answers shaped like the public documentation's samples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from plugins.invoices.netvisor import parsing
from plugins.invoices.netvisor.errors import (
    AuthenticationFailed,
    NetvisorError,
    NetvisorProtocolError,
    PeriodLock,
)
from plugins.invoices.netvisor.xml import check_response_status, parse_decimal, parse_document

LIST = """<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<Root>
  <ResponseStatus><Status>OK</Status><TimeStamp>1.10.2026 16:03:24</TimeStamp></ResponseStatus>
  <SalesInvoiceList>
    <SalesInvoice>
      <NetvisorKey>165</NetvisorKey>
      <InvoiceNumber>1001020007</InvoiceNumber>
      <Invoicedate format="ansi">2026-11-09</Invoicedate>
      <InvoiceStatus substatus="overdue">open</InvoiceStatus>
      <CustomerCode/>
      <CustomerName>Matti Meikäläinen</CustomerName>
      <ReferenceNumber>10010200071</ReferenceNumber>
      <InvoiceSum>1 123,45</InvoiceSum>
      <OpenSum>45,67</OpenSum>
      <Uri>https://isvapi.netvisor.fi/getsalesinvoice.nv?netvisorkey=165</Uri>
    </SalesInvoice>
  </SalesInvoiceList>
</Root>""".encode()

DETAILS = """<?xml version="1.0" encoding="ISO-8859-15"?>
<Root>
  <ResponseStatus><Status>OK</Status></ResponseStatus>
  <SalesInvoice>
    <SalesInvoiceNumber>3</SalesInvoiceNumber>
    <SalesInvoiceDate format="ansi">2026-01-27</SalesInvoiceDate>
    <SalesInvoiceDueDate format="ansi">2026-02-11</SalesInvoiceDueDate>
    <SalesInvoiceReferencenumber>1070</SalesInvoiceReferencenumber>
    <SalesInvoiceAmount iso4217currencycode="EUR" currencyrate="1">244,00</SalesInvoiceAmount>
    <InvoiceStatus status="unsent">Lähettämätön</InvoiceStatus>
    <InvoicingCustomerName>Äijälä Öljy Oy</InvoicingCustomerName>
    <DeliveryMethod>Sähköposti</DeliveryMethod>
    <InvoiceLines><InvoiceLine>
      <SalesInvoiceProductLine>
        <productidentifier type="customer">OMENA</productidentifier>
        <ProductName>Omena</ProductName>
        <ProductUnitPrice>6,9000</ProductUnitPrice>
        <ProductVatPercentage vatcode="KOMY">25,5</ProductVatPercentage>
        <SalesInvoiceProductLineQuantity>2</SalesInvoiceProductLineQuantity>
        <SalesInvoiceProductLineVatSum>3,52</SalesInvoiceProductLineVatSum>
        <SalesInvoiceProductLineSum>17,32</SalesInvoiceProductLineSum>
      </SalesInvoiceProductLine>
      <SalesInvoiceCommentLine><Comment>Kiitos tilauksesta €</Comment></SalesInvoiceCommentLine>
    </InvoiceLine></InvoiceLines>
  </SalesInvoice>
</Root>""".encode("iso-8859-15")


def test_list_item_fields() -> None:
    (item,) = parsing.parse_sales_invoice_list(parse_document(LIST))
    assert item.netvisor_key == 165
    assert item.invoice_date == date(2026, 11, 9)
    assert (item.status, item.substatus) == ("open", "overdue")
    assert item.customer_code is None
    assert item.customer_name == "Matti Meikäläinen"
    assert item.invoice_sum == Decimal("1123.45")
    assert item.open_sum == Decimal("45.67")


def test_details_in_latin_9_without_a_netvisor_key() -> None:
    root = parse_document(DETAILS)
    check_response_status(root)
    (element,) = parsing.sales_invoice_elements(root)
    invoice = parsing.parse_sales_invoice(element, fallback_key=77)

    assert invoice.netvisor_key == 77
    assert invoice.status == "unsent"
    assert invoice.customer_name == "Äijälä Öljy Oy"
    assert invoice.delivery_method == "Sähköposti"
    assert invoice.amount == Decimal("244.00")
    (row,) = invoice.rows
    assert row.product_code == "OMENA"
    assert row.vat_percent == Decimal("25.5") and row.vat_code == "KOMY"
    assert row.net_sum == Decimal("13.80")
    assert invoice.comment_lines == ("Kiitos tilauksesta €",)
    assert invoice.process_history == ()


def test_mislabelled_latin_9_is_still_read() -> None:
    mislabelled = DETAILS.replace(b'encoding="ISO-8859-15"', b'encoding="utf-8"')
    root = parse_document(mislabelled)
    assert parsing.sales_invoice_elements(root)


@pytest.mark.parametrize(
    ("status", "error", "code", "message"),
    [
        (
            "AUTHENTICATION_FAILED :: Tunnistautuminen epäonnistui",
            AuthenticationFailed,
            "AUTHENTICATION_FAILED",
            "Tunnistautuminen epäonnistui",
        ),
        ("PERIOD_LOCK :: Kausi lukittu", PeriodLock, "PERIOD_LOCK", "Kausi lukittu"),
        ("SOMETHING_NEW :: Uusi virhe", NetvisorError, "SOMETHING_NEW", "Uusi virhe"),
        ("Pelkkä viesti", NetvisorError, None, "Pelkkä viesti"),
    ],
)
def test_failed_status(
    status: str, error: type[NetvisorError], code: str | None, message: str
) -> None:
    body = (
        "<Root><ResponseStatus><Status>FAILED</Status>"
        f"<Status>{status}</Status><TimeStamp>1.1.2026</TimeStamp></ResponseStatus></Root>"
    ).encode()
    with pytest.raises(error) as caught:
        check_response_status(parse_document(body))
    assert type(caught.value) is error
    assert caught.value.code == code
    assert caught.value.message == message


def test_broken_answers_are_protocol_errors() -> None:
    for body in (b"", b"<Root><ResponseStatus>", b"<html/>", b"<Root/>"):
        with pytest.raises(NetvisorProtocolError):
            check_response_status(parse_document(body))


def test_decimal_comma() -> None:
    assert parse_decimal("244,00") == Decimal("244.00")
    assert parse_decimal("-1\u00a0234,5") == Decimal("-1234.5")
    assert parse_decimal(None) is None
    with pytest.raises(NetvisorProtocolError):
        parse_decimal("12,3,4")


def test_pdf_base64_is_decoded() -> None:
    body = (
        b"<Root><ResponseStatus><Status>OK</Status></ResponseStatus><SalesInvoice>"
        b"<SalesInvoiceNumber>1</SalesInvoiceNumber>"
        b"<LastSentInvoicePDFBase64Data>JVBERi0x\nLjQK</LastSentInvoicePDFBase64Data>"
        b"</SalesInvoice></Root>"
    )
    assert parsing.parse_invoice_pdf(parse_document(body)) == b"%PDF-1.4\n"


def test_failed_answer_as_the_error_article_shows_it() -> None:
    # Two Status elements, the second "CODE :: message" (here with the leading space the
    # article's own example has), and Netvisor's Finnish-format TimeStamp.
    body = (
        "<Root><ResponseStatus><Status>FAILED</Status>"
        "<Status> SYSTEM_MAINTENANCE :: Huoltokatko käynnissä, yritä myöhemmin</Status>"
        "<TimeStamp>24.11.2026 13:05:09</TimeStamp></ResponseStatus></Root>"
    ).encode()
    with pytest.raises(NetvisorError) as caught:
        check_response_status(parse_document(body))
    assert type(caught.value).__name__ == "SystemMaintenance"
    assert caught.value.code == "SYSTEM_MAINTENANCE"
    assert caught.value.message == "Huoltokatko käynnissä, yritä myöhemmin"
