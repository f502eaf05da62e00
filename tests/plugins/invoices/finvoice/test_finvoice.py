"""The Finvoice writer's ordinary message, read back element by element."""

from dataclasses import replace
from decimal import Decimal

import pytest
from finvoice_samples import invoice
from lxml import etree

from plugins.invoices.finvoice import (
    FinvoiceRefused,
    build_finvoice,
    format_amount,
    format_number,
    format_unit_price,
    parse_amount,
    validate_finvoice,
)

D = Decimal


def test_formats() -> None:
    assert format_amount(D("1116")) == "1116,00"
    assert format_amount(D("0.005")) == "0,01"
    assert format_amount(D("-3.5")) == "-3,50"
    assert format_number(D("25.5")) == "25,5"
    assert format_number(D("24.00")) == "24"
    assert format_number(D("10")) == "10"
    assert parse_amount("1 116,00") == D("1116.00")
    # Unit prices keep their precision: two decimals at least, five at most (the schema's).
    assert format_unit_price(D("50")) == "50,00"
    assert format_unit_price(D("1.5")) == "1,50"
    assert format_unit_price(D("0.123")) == "0,123"
    assert format_unit_price(D("0.12345")) == "0,12345"
    assert format_unit_price(D("0.123456")) == "0,12346"
    assert format_unit_price(D("-2.5000")) == "-2,50"


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
    assert details.findtext("InvoiceTypeCodeUN") == "380"
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
    assert [s.findtext("VatCode") for s in specs] == ["S", "S"]
    assert details.findtext("PaymentTermsDetails/InvoiceDueDate") == "20261208"

    assert root.findtext("InvoiceRow[1]/InvoicedQuantity") == "4"
    assert root.findtext("InvoiceRow[2]/InvoicedQuantity") == "1,5"
    assert root.findtext("InvoiceRow[1]/RowAmount") == "251,00"
    assert root.findtext("InvoiceRow[1]/UnitPriceAmount") == "50,00"
    assert root.findtext("InvoiceRow[1]/RowVatCode") == "S"

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


def test_rf_reference_uses_iso_scheme_and_a_version_5_barcode() -> None:
    xml = build_finvoice(invoice(reference="RF31 1001 0200 17"))
    assert validate_finvoice(xml) == []
    root = etree.fromstring(xml)
    remittance = root.find("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    assert remittance is not None
    assert remittance.text == "RF311001020017"
    assert remittance.get("IdentificationSchemeName") == "ISO"
    assert (root.findtext("VirtualBankBarcode") or "").startswith("5")


def test_buyer_without_einvoice_address_has_no_transmission_details() -> None:
    # The XSD requires ToIdentifier and ToIntermediator whenever the block is there, and
    # Maventa routes by the upload's metadata: without an address the block is left out
    # (it used to be written without MessageReceiverDetails, which the XSD rejects).
    base = invoice()
    for address, operator in (("", ""), ("003723327487", ""), ("", "003723327487")):
        buyer = replace(base.buyer, einvoice_address=address, einvoice_operator=operator)
        xml = build_finvoice(invoice(buyer=buyer))
        assert etree.fromstring(xml).find("MessageTransmissionDetails") is None
        assert validate_finvoice(xml) == []


def test_build_refuses_bad_input() -> None:
    with pytest.raises(FinvoiceRefused, match="Laskulla ei ole rivejä"):
        build_finvoice(invoice(rows=[]))
    with pytest.raises(FinvoiceRefused, match="Viitenumero '1001020018'"):
        build_finvoice(invoice(reference="1001020018"))
    # Refusals are ValueErrors, which the dispatch's build step turns into a failed step.
    with pytest.raises(ValueError, match="the reference '1001020018' is not valid"):
        build_finvoice(invoice(reference="1001020018"))
