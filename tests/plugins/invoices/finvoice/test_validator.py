"""validate_finvoice is the XSD plus the bank rules: each hand-broken message is caught."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from finvoice_samples import invoice, row
from lxml import etree

from plugins.invoices.finvoice import FinvoiceProblem, build_finvoice, validate_finvoice

Change = Callable[[etree._Element], None]
EPI = "EpiDetails/EpiPaymentInstructionDetails"
GOOD = build_finvoice(invoice())
REVERSE_CHARGE = build_finvoice(invoice(rows=[row("1000.00", "0", code="AE")]))


def _set(path: str, text: str) -> Change:
    def change(root: etree._Element) -> None:
        element = root.find(path)
        assert element is not None, path
        element.text = text

    return change


def _drop(path: str) -> Change:
    def change(root: etree._Element) -> None:
        element = root.find(path)
        assert element is not None, path
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)

    return change


def _attribute(path: str, name: str, value: str) -> Change:
    def change(root: etree._Element) -> None:
        element = root.find(path)
        assert element is not None, path
        element.set(name, value)

    return change


def _both(*changes: Change) -> Change:
    def change(root: etree._Element) -> None:
        for each in changes:
            each(root)

    return change


def _move_details_last(root: etree._Element) -> None:
    details = root.find("InvoiceDetails")
    assert details is not None
    root.append(details)


def _rename_root(root: etree._Element) -> None:
    root.tag = "Invoice"


def _barcode(position: slice, digits: str) -> Change:
    def change(root: etree._Element) -> None:
        element = root.find("VirtualBankBarcode")
        assert element is not None and element.text is not None
        text = element.text
        element.text = text[: position.start] + digits + text[position.stop :]

    return change


def _broken(xml: bytes, change: Change) -> bytes:
    root = etree.fromstring(xml)
    change(root)
    out = etree.tostring(root, xml_declaration=True, encoding="ISO-8859-15")
    assert isinstance(out, bytes)
    return out


SCHEMA_CASES = {
    "EpiDetails missing": (_drop("EpiDetails"), "Missing child element(s)", "/Finvoice"),
    "element order": (_move_details_last, "This element is not expected", "/Finvoice"),
    "decimal point": (
        _set("InvoiceDetails/InvoiceTotalVatIncludedAmount", "285.05"),
        "is not accepted by the pattern",
        "InvoiceTotalVatIncludedAmount",
    ),
    "one decimal": (
        _set("InvoiceDetails/InvoiceTotalVatIncludedAmount", "285,5"),
        "is not accepted by the pattern",
        "InvoiceTotalVatIncludedAmount",
    ),
    "EpiInstructedAmount with 3 decimals": (
        _set(f"{EPI}/EpiInstructedAmount", "285,050"),
        "is not accepted by the pattern",
        "EpiInstructedAmount",
    ),
    "unit price with 6 decimals": (
        _set("InvoiceRow/UnitPriceAmount", "50,123456"),
        "is not accepted by the pattern",
        "UnitPriceAmount",
    ),
    "buyer name over 70": (
        _set("BuyerPartyDetails/BuyerOrganisationName", "N" * 71),
        "maxLength",
        "BuyerOrganisationName",
    ),
    "street of 1 character": (
        _set("BuyerPartyDetails/BuyerPostalAddressDetails/BuyerStreetName", "A"),
        "minLength",
        "BuyerStreetName",
    ),
    "town over 35": (
        _set("BuyerPartyDetails/BuyerPostalAddressDetails/BuyerTownName", "T" * 36),
        "maxLength",
        "BuyerTownName",
    ),
    "empty post code": (
        _set("BuyerPartyDetails/BuyerPostalAddressDetails/BuyerPostCodeIdentifier", ""),
        "minLength",
        "BuyerPostCodeIdentifier",
    ),
    "payee name over 35": (
        _set(
            "EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiNameAddressDetails", "P" * 36
        ),
        "maxLength",
        "EpiNameAddressDetails",
    ),
    "receiver details missing": (
        _drop("MessageTransmissionDetails/MessageReceiverDetails"),
        "MessageReceiverDetails",
        "MessageTransmissionDetails",
    ),
    "ToIntermediator missing": (
        _drop("MessageTransmissionDetails/MessageReceiverDetails/ToIntermediator"),
        "ToIntermediator",
        "MessageReceiverDetails",
    ),
    "date with dashes": (
        _set("InvoiceDetails/InvoiceDate", "2026-11-24"),
        "InvoiceDate",
        "InvoiceDate",
    ),
    "percent with 4 decimals": (
        _set("InvoiceDetails/VatSpecificationDetails/VatRatePercent", "25,5555"),
        "is not accepted by the pattern",
        "VatRatePercent",
    ),
    "version 4.0": (_attribute(".", "Version", "4.0"), "Version", "/Finvoice"),
    "not a Finvoice": (_rename_root, "No matching global declaration", "/Invoice"),
}

RULE_CASES = {
    "reference check digit": (
        _set(f"{EPI}/EpiRemittanceInfoIdentifier", "1001020018"),
        "7-3-1 check digit",
        "EpiRemittanceInfoIdentifier",
    ),
    "RF check digits": (
        _both(
            _set(f"{EPI}/EpiRemittanceInfoIdentifier", "RF321001020017"),
            _attribute(f"{EPI}/EpiRemittanceInfoIdentifier", "IdentificationSchemeName", "ISO"),
        ),
        "ISO 11649",
        "EpiRemittanceInfoIdentifier",
    ),
    "RF under SPY": (
        _set(f"{EPI}/EpiRemittanceInfoIdentifier", "RF311001020017"),
        "its scheme is ISO",
        "EpiRemittanceInfoIdentifier",
    ),
    "IBAN check digits": (
        _set(
            "EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiAccountID",
            "FI3815903000000776",
        ),
        "not a valid IBAN",
        "EpiAccountID",
    ),
    "seller IBAN": (
        _set("SellerInformationDetails/SellerAccountDetails/SellerAccountID", "FI3815903000000776"),
        "not a valid IBAN",
        "SellerAccountID",
    ),
    "BIC format": (
        _set("EpiDetails/EpiPartyDetails/EpiBfiPartyDetails/EpiBfiIdentifier", "NDEAXXHH"),
        "not a valid BIC",
        "EpiBfiIdentifier",
    ),
    "BIC of another country": (
        _set("EpiDetails/EpiPartyDetails/EpiBfiPartyDetails/EpiBfiIdentifier", "NDEASESS"),
        "another country",
        "EpiBfiIdentifier",
    ),
    "IBAN without BIC": (
        _drop("EpiDetails/EpiPartyDetails/EpiBfiPartyDetails/EpiBfiIdentifier"),
        "needs the bank's BIC",
        "EpiAccountID",
    ),
    "payee unnamed": (
        _drop("EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiNameAddressDetails"),
        "EpiNameAddressDetails (the payee's name) is mandatory",
        "EpiBeneficiaryPartyDetails",
    ),
    "barcode length": (_set("VirtualBankBarcode", "4123"), "54 digits", "VirtualBankBarcode"),
    "barcode account": (
        _barcode(slice(1, 17), "3815903000000776"),
        "account",
        "VirtualBankBarcode",
    ),
    "barcode amount": (_barcode(slice(17, 25), "00028506"), "amount", "VirtualBankBarcode"),
    "barcode reference": (
        _barcode(slice(28, 48), "00000000001001020026"),
        "reference is not",
        "VirtualBankBarcode",
    ),
    "barcode due date": (_barcode(slice(48, 54), "261209"), "due date", "VirtualBankBarcode"),
    "barcode version 5 with a Finnish reference": (
        _barcode(slice(0, 1), "5"),
        "version 4 barcode",
        "VirtualBankBarcode",
    ),
    "credit note with a positive total": (
        _both(
            _set("InvoiceDetails/InvoiceTypeCode", "INV02"),
            _set("InvoiceDetails/InvoiceTypeCodeUN", "381"),
        ),
        "always has a negative total",
        "InvoiceTypeCode",
    ),
    "INV02 with 380": (
        _set("InvoiceDetails/InvoiceTypeCode", "INV02"),
        "use 381",
        "InvoiceTypeCodeUN",
    ),
    "INV01 with 381": (
        _set("InvoiceDetails/InvoiceTypeCodeUN", "381"),
        "is a credit note's",
        "InvoiceTypeCodeUN",
    ),
    "Cancel on an invoice": (_set("InvoiceDetails/OriginCode", "Cancel"), "GL 10.7", "OriginCode"),
    "31 November": (_set("InvoiceDetails/InvoiceDate", "20261131"), "calendar date", "InvoiceDate"),
    "two due dates": (
        _set("InvoiceDetails/PaymentTermsDetails/InvoiceDueDate", "20261209"),
        "differs from the due date",
        "EpiDateOptionDate",
    ),
    "row sum": (_set("InvoiceRow/RowAmount", "252,00"), "RowAmount is not", "RowAmount"),
    "total with VAT": (
        _set("InvoiceDetails/InvoiceTotalVatIncludedAmount", "285,06"),
        "InvoiceTotalVatIncludedAmount is not",
        "InvoiceTotalVatIncludedAmount",
    ),
    "total without VAT": (
        _both(
            _set("InvoiceDetails/InvoiceTotalVatExcludedAmount", "231,00"),
            _set("InvoiceDetails/InvoiceTotalVatIncludedAmount", "286,05"),
        ),
        "rows' RowVatExcludedAmount",
        "InvoiceTotalVatExcludedAmount",
    ),
    "rows total": (
        _set("InvoiceDetails/RowsTotalVatExcludedAmount", "229,00"),
        "RowsTotalVatExcludedAmount is not",
        "RowsTotalVatExcludedAmount",
    ),
    "VAT total": (
        _set("InvoiceDetails/VatSpecificationDetails/VatRateAmount", "52,00"),
        "VatRateAmounts' sum",
        "InvoiceTotalVatAmount",
    ),
    "amount to pay": (
        _set(f"{EPI}/EpiInstructedAmount", "100,00"),
        "EpiInstructedAmount 100.00 is not the total",
        "EpiInstructedAmount",
    ),
    "unknown VAT code": (
        _set("InvoiceDetails/VatSpecificationDetails/VatCode", "XX"),
        "not a UN/CEFACT 5305",
        "VatCode",
    ),
    "standard rate at 0 %": (
        _set("InvoiceRow/RowVatRatePercent", "0"),
        "above 0 %",
        "RowVatCode",
    ),
    "zero-rated at 25,5 %": (
        _set("InvoiceDetails/VatSpecificationDetails/VatCode", "Z"),
        "is a 0 % sale",
        "VatCode",
    ),
    "VAT base": (
        _set("InvoiceDetails/VatSpecificationDetails/VatBaseAmount", "201,00"),
        "VatBaseAmount 201.00 is not the rows'",
        "VatSpecificationDetails",
    ),
    "rows without a VAT class": (
        _drop("InvoiceDetails/VatSpecificationDetails[2]"),
        "no VatSpecificationDetails for the rows of VAT class S 13.5",
        "InvoiceDetails",
    ),
}

REVERSE_CHARGE_CASES = {
    "reverse charge without grounds": (
        _both(
            _drop("InvoiceDetails/VatSpecificationDetails/VatFreeText"),
            _drop("InvoiceDetails/VatSpecificationDetails/VatExemptionReasonCode"),
        ),
        "states its grounds",
        "VatCode",
    ),
    "reverse charge without the buyer's VAT number": (
        _drop("BuyerPartyDetails/BuyerOrganisationTaxCode"),
        "buyer's VAT number",
        "VatCode",
    ),
    "reverse charge with VAT": (
        _set("InvoiceRow/RowVatAmount", "255,00"),
        "carries no VAT amount",
        "RowVatCode",
    ),
}


def _assert_found(problems: list[FinvoiceProblem], source: str, text: str, path: str) -> None:
    assert any(
        problem.source == source and text in problem.message and path in problem.path
        for problem in problems
    ), problems


def test_the_good_messages_are_valid() -> None:
    assert validate_finvoice(GOOD) == []
    assert validate_finvoice(REVERSE_CHARGE) == []


@pytest.mark.parametrize("case", sorted(SCHEMA_CASES))
def test_the_schema_catches(case: str) -> None:
    change, text, path = SCHEMA_CASES[case]
    _assert_found(validate_finvoice(_broken(GOOD, change)), "schema", text, path)


@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_the_bank_rules_catch(case: str) -> None:
    change, text, path = RULE_CASES[case]
    _assert_found(validate_finvoice(_broken(GOOD, change)), "rules", text, path)


@pytest.mark.parametrize("case", sorted(REVERSE_CHARGE_CASES))
def test_the_vat_rules_catch(case: str) -> None:
    change, text, path = REVERSE_CHARGE_CASES[case]
    _assert_found(validate_finvoice(_broken(REVERSE_CHARGE, change)), "rules", text, path)


def test_problems_name_the_element_and_read_as_sentences() -> None:
    # A wrong reference also leaves the barcode without one: two problems, each its own.
    problem, barcode = validate_finvoice(
        _broken(GOOD, _set(f"{EPI}/EpiRemittanceInfoIdentifier", "1001020018"))
    )
    assert barcode.path == "/Finvoice/VirtualBankBarcode"
    assert (
        problem.path
        == "/Finvoice/EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier"
    )
    assert problem.line is not None
    assert str(problem) == (
        f"{problem.path}: 1001020018 is not a valid Finnish reference:"
        " the 7-3-1 check digit differs"
    )


def test_encoding_and_well_formedness() -> None:
    utf8 = etree.tostring(etree.fromstring(GOOD), xml_declaration=True, encoding="UTF-8")
    [problem] = validate_finvoice(utf8)
    assert "ISO-8859-15 (guideline 9.3)" in problem.message
    [broken] = validate_finvoice(b"<?xml version='1.0'?><Finvoice")
    assert broken.source == "xml" and broken.message.startswith("not well-formed XML")
