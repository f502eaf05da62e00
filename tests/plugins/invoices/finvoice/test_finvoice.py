from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from plugins.invoices.finvoice import (
    TOP_LEVEL_ORDER,
    FinvoiceBuyer,
    FinvoiceInvoice,
    FinvoiceRow,
    FinvoiceSeller,
    PostalAddress,
    build_finvoice,
    format_amount,
    format_number,
    parse_amount,
    validate_finvoice,
)

D = Decimal


def invoice(**changes: object) -> FinvoiceInvoice:
    seller = FinvoiceSeller(
        name="E-tunnus Oy",
        business_id="2129112-6",
        address=PostalAddress("Länsituulentie 1", "02100", "Espoo"),
        iban="FI37 1590 3000 0007 76",
        bic="NDEAFIHH",
        ovt="003721291126",
        email="laskut@e-tunnus.fi",
    )
    buyer = FinvoiceBuyer(
        name="Äijälän Sähkö ja Öljy Oy",
        address=PostalAddress("Mäkikatu 1 A 2", "00100", "Helsinki"),
        business_id="2332748-7",
        einvoice_address="003723327487",
        einvoice_operator="003723327487",
    )
    rows = [
        FinvoiceRow(
            description="Sähkötyöt, 4 h à 50 €",
            quantity=D("4"),
            unit_price=D("50.00"),
            vat_percent=D("25.5"),
            net=D("200.00"),
            vat=D("51.00"),
            gross=D("251.00"),
            unit="h",
        ),
        FinvoiceRow(
            description="Kirja „Öljyt“",
            quantity=D("1.5"),
            unit_price=D("20.00"),
            vat_percent=D("13.5"),
            net=D("30.00"),
            vat=D("4.05"),
            gross=D("34.05"),
        ),
    ]
    base = FinvoiceInvoice(
        seller=seller,
        buyer=buyer,
        number="100102001",
        invoice_date=date(2026, 11, 24),
        due_date=date(2026, 12, 8),
        reference="1001020017",
        rows=rows,
        timestamp=datetime(2026, 11, 24, 14, 5, 0, tzinfo=ZoneInfo("Europe/Helsinki")),
    )
    if not changes:
        return base
    from dataclasses import replace

    return replace(base, **changes)  # type: ignore[arg-type]


def test_formats() -> None:
    assert format_amount(D("1116")) == "1116,00"
    assert format_amount(D("0.005")) == "0,01"
    assert format_amount(D("-3.5")) == "-3,50"
    assert format_number(D("25.5")) == "25,5"
    assert format_number(D("24.00")) == "24"
    assert format_number(D("10")) == "10"
    assert parse_amount("1 116,00") == D("1116.00")


def test_build_parse_and_validate_round_trip() -> None:
    xml = build_finvoice(invoice())
    assert xml.startswith(b'<?xml version="1.0" encoding="ISO-8859-15"?>\n<Finvoice Version="3.0">')
    # Latin-9 bytes, not UTF-8: "ä" is one byte 0xE4.
    assert "Äijälän".encode("iso-8859-15") in xml
    assert validate_finvoice(xml) == []

    root = etree.fromstring(xml)
    assert root.tag == "Finvoice"
    assert root.get("Version") == "3.0"
    top = [child.tag for child in root]
    assert top[0] == "MessageTransmissionDetails"
    assert top[-1] == "EpiDetails"
    assert [t for t in top if t in TOP_LEVEL_ORDER] == sorted(
        (t for t in top if t in TOP_LEVEL_ORDER), key=TOP_LEVEL_ORDER.index
    )
    assert root.findtext("BuyerPartyDetails/BuyerOrganisationName") == "Äijälän Sähkö ja Öljy Oy"
    # Outside Latin-9 ("„" and "“") survive as character references.
    assert root.findtext("InvoiceRow[2]/ArticleName") == "Kirja „Öljyt“"
    assert root.findtext("MessageTransmissionDetails/MessageSenderDetails/FromIdentifier") == (
        "003721291126"
    )
    assert root.findtext("MessageTransmissionDetails/MessageReceiverDetails/ToIntermediator") == (
        "003723327487"
    )
    assert root.findtext("MessageTransmissionDetails/MessageDetails/MessageTimeStamp") == (
        "2026-11-24T14:05:00+02:00"
    )

    details = root.find("InvoiceDetails")
    assert details is not None
    assert details.findtext("InvoiceTypeCode") == "INV01"
    assert details.findtext("InvoiceTypeText") == "LASKU"
    assert details.findtext("OriginCode") == "Original"
    date_element = details.find("InvoiceDate")
    assert date_element is not None
    assert date_element.get("Format") == "CCYYMMDD"
    assert date_element.text == "20261124"
    assert details.findtext("InvoiceTotalVatExcludedAmount") == "230,00"
    assert details.findtext("InvoiceTotalVatAmount") == "55,05"
    assert details.findtext("InvoiceTotalVatIncludedAmount") == "285,05"
    total = details.find("InvoiceTotalVatIncludedAmount")
    assert total is not None and total.get("AmountCurrencyIdentifier") == "EUR"
    specs = details.findall("VatSpecificationDetails")
    assert [s.findtext("VatRatePercent") for s in specs] == ["25,5", "13,5"]
    assert [s.findtext("VatRateAmount") for s in specs] == ["51,00", "4,05"]
    assert details.findtext("PaymentTermsDetails/InvoiceDueDate") == "20261208"

    assert root.findtext("InvoiceRow[1]/InvoicedQuantity") == "4"
    assert root.findtext("InvoiceRow[2]/InvoicedQuantity") == "1,5"
    assert root.findtext("InvoiceRow[1]/RowAmount") == "251,00"

    epi = root.find("EpiDetails")
    assert epi is not None
    remittance = epi.find("EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    assert remittance is not None
    assert remittance.text == "1001020017"
    assert remittance.get("IdentificationSchemeName") == "SPY"
    assert epi.findtext("EpiPaymentInstructionDetails/EpiInstructedAmount") == "285,05"
    assert epi.findtext("EpiPaymentInstructionDetails/EpiDateOptionDate") == "20261208"
    assert epi.findtext("EpiPartyDetails/EpiBfiPartyDetails/EpiBfiIdentifier") == "NDEAFIHH"
    account = epi.find("EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiAccountID")
    assert account is not None
    assert account.text == "FI3715903000000776"
    assert account.get("IdentificationSchemeName") == "IBAN"
    assert (
        epi.findtext("EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiNameAddressDetails")
        == "E-tunnus Oy"
    )
    barcode = root.findtext("VirtualBankBarcode")
    assert barcode is not None and len(barcode) == 54 and barcode.startswith("4371590")


def test_rf_reference_uses_iso_scheme() -> None:
    xml = build_finvoice(invoice(reference="RF31 1001 0200 17"))
    assert validate_finvoice(xml) == []
    remittance = etree.fromstring(xml).find(
        "EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier"
    )
    assert remittance is not None
    assert remittance.text == "RF311001020017"
    assert remittance.get("IdentificationSchemeName") == "ISO"


def test_buyer_without_einvoice_address_has_no_receiver_details() -> None:
    from dataclasses import replace

    base = invoice()
    xml = build_finvoice(invoice(buyer=replace(base.buyer, einvoice_address="")))
    assert etree.fromstring(xml).find("MessageTransmissionDetails/MessageReceiverDetails") is None
    assert validate_finvoice(xml) == []


def test_build_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        build_finvoice(invoice(rows=[]))
    with pytest.raises(ValueError):
        build_finvoice(invoice(reference="1001020018"))


def _mutate(xml: bytes, change: object) -> bytes:
    root = etree.fromstring(xml)
    change(root)  # type: ignore[operator]
    out = etree.tostring(root, xml_declaration=True, encoding="ISO-8859-15")
    assert isinstance(out, bytes)
    return out


def test_validate_reports_problems() -> None:
    good = build_finvoice(invoice())

    def drop_epi(root: etree._Element) -> None:
        epi = root.find("EpiDetails")
        assert epi is not None
        root.remove(epi)

    def swap_order(root: etree._Element) -> None:
        details = root.find("InvoiceDetails")
        assert details is not None
        root.remove(details)
        root.append(details)

    def dot_amount(root: etree._Element) -> None:
        element = root.find("InvoiceDetails/InvoiceTotalVatIncludedAmount")
        assert element is not None
        element.text = "285.05"

    def wrong_total(root: etree._Element) -> None:
        element = root.find("EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount")
        assert element is not None
        element.text = "100,00"

    def bad_reference(root: etree._Element) -> None:
        element = root.find("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
        assert element is not None
        element.text = "1001020018"

    def bad_date(root: etree._Element) -> None:
        element = root.find("InvoiceDetails/InvoiceDate")
        assert element is not None
        element.text = "2026-11-24"

    assert "required element EpiDetails is missing" in validate_finvoice(_mutate(good, drop_epi))
    assert any("must come before" in e for e in validate_finvoice(_mutate(good, swap_order)))
    assert any("123,45" in e for e in validate_finvoice(_mutate(good, dot_amount)))
    assert any("EpiInstructedAmount" in e for e in validate_finvoice(_mutate(good, wrong_total)))
    assert any("Finnish reference" in e for e in validate_finvoice(_mutate(good, bad_reference)))
    assert any("CCYYMMDD" in e for e in validate_finvoice(_mutate(good, bad_date)))
    assert validate_finvoice(b"<Finvoice") == ["the XML declaration is missing"]
    assert validate_finvoice(b"<?xml version='1.0'?><Finvoice")[0].startswith("not well-formed")
    assert validate_finvoice(b"<?xml version='1.0'?><Invoice/>") == [
        "root element is 'Invoice', not 'Finvoice'"
    ]
