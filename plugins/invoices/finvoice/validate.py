"""Check a Finvoice 3.0 message's structure without the XSD.

No Python package ships the Finvoice XSD, so :func:`validate_finvoice` checks what the
E-tunnus flow relies on: the required elements, the order of the top-level elements,
number and date formats, and that the totals agree.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from decimal import Decimal

from lxml import etree
from stdnum import iban as stdnum_iban

from helpdesk.plugin_api import is_valid_reference, is_valid_rf
from plugins.invoices.finvoice.format import CENT, parse_amount

# Top-level elements in the order the schema wants them (the subset this module knows).
TOP_LEVEL_ORDER: tuple[str, ...] = (
    "MessageTransmissionDetails",
    "SellerPartyDetails",
    "SellerOrganisationUnitNumber",
    "SellerContactPersonName",
    "SellerCommunicationDetails",
    "SellerInformationDetails",
    "InvoiceRecipientCommunicationDetails",
    "BuyerPartyDetails",
    "BuyerCommunicationDetails",
    "InvoiceDetails",
    "VirtualBankBarcode",
    "InvoiceRow",
    "EpiDetails",
)
REQUIRED_TOP_LEVEL: tuple[str, ...] = (
    "MessageTransmissionDetails",
    "SellerPartyDetails",
    "BuyerPartyDetails",
    "InvoiceDetails",
    "InvoiceRow",
    "EpiDetails",
)
REQUIRED_PATHS: tuple[str, ...] = (
    "MessageTransmissionDetails/MessageSenderDetails/FromIdentifier",
    "MessageTransmissionDetails/MessageSenderDetails/FromIntermediator",
    "MessageTransmissionDetails/MessageDetails/MessageIdentifier",
    "MessageTransmissionDetails/MessageDetails/MessageTimeStamp",
    "SellerPartyDetails/SellerPartyIdentifier",
    "SellerPartyDetails/SellerOrganisationName",
    "BuyerPartyDetails/BuyerOrganisationName",
    "InvoiceDetails/InvoiceTypeCode",
    "InvoiceDetails/InvoiceNumber",
    "InvoiceDetails/InvoiceDate",
    "InvoiceDetails/InvoiceTotalVatExcludedAmount",
    "InvoiceDetails/InvoiceTotalVatAmount",
    "InvoiceDetails/InvoiceTotalVatIncludedAmount",
    "InvoiceDetails/PaymentTermsDetails/InvoiceDueDate",
    "EpiDetails/EpiIdentificationDetails/EpiDate",
    "EpiDetails/EpiPartyDetails/EpiBfiPartyDetails/EpiBfiIdentifier",
    "EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiNameAddressDetails",
    "EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiAccountID",
    "EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier",
    "EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount",
    "EpiDetails/EpiPaymentInstructionDetails/EpiDateOptionDate",
)


# --- the validator ---------------------------------------------------------------------

_AMOUNT = re.compile(r"^-?\d+,\d{2}$")
_PERCENT = re.compile(r"^\d{1,2}(,\d{1,4})?$")


def _text(root: etree._Element, path: str) -> str | None:
    element = root.find(path)
    return None if element is None else (element.text or "").strip()


def _check_order(root: etree._Element) -> list[str]:
    errors: list[str] = []
    rank = {name: index for index, name in enumerate(TOP_LEVEL_ORDER)}
    last = -1
    last_name = ""
    for child in root:
        if not isinstance(child.tag, str):
            continue
        position = rank.get(child.tag)
        if position is None:
            continue
        if position < last:
            errors.append(f"{child.tag} must come before {last_name}")
        else:
            last, last_name = position, child.tag
    return errors


def _check_formats(root: etree._Element) -> list[str]:
    errors: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        text = (element.text or "").strip()
        if "AmountCurrencyIdentifier" in element.attrib and not _AMOUNT.match(text):
            errors.append(f"{element.tag}: amount {text!r} is not of the form 123,45")
        if element.get("Format") == "CCYYMMDD":
            try:
                datetime.strptime(text, "%Y%m%d")
            except ValueError:
                errors.append(f"{element.tag}: date {text!r} is not CCYYMMDD")
        if element.tag in {"VatRatePercent", "RowVatRatePercent"} and not _PERCENT.match(text):
            errors.append(f"{element.tag}: percent {text!r} is not a number like 25,5")
    return errors


def _check_values(root: etree._Element) -> list[str]:
    errors: list[str] = []
    reference = root.find("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
    if reference is not None:
        value = (reference.text or "").strip()
        scheme = reference.get("IdentificationSchemeName")
        if scheme == "SPY" and not is_valid_reference(value):
            errors.append(f"EpiRemittanceInfoIdentifier {value!r} is not a valid Finnish reference")
        elif scheme == "ISO" and not is_valid_rf(value):
            errors.append(f"EpiRemittanceInfoIdentifier {value!r} is not a valid RF reference")
        elif scheme not in {"SPY", "ISO"}:
            errors.append("EpiRemittanceInfoIdentifier needs IdentificationSchemeName SPY or ISO")
    account = _text(root, "EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiAccountID")
    if account and not stdnum_iban.is_valid(account):
        errors.append(f"EpiAccountID {account!r} is not a valid IBAN")
    # Malformed amounts are already reported by the format checks.
    with contextlib.suppress(ArithmeticError):
        errors.extend(_check_totals(root))
    return errors


def _check_totals(root: etree._Element) -> list[str]:
    errors: list[str] = []
    net = _text(root, "InvoiceDetails/InvoiceTotalVatExcludedAmount")
    vat = _text(root, "InvoiceDetails/InvoiceTotalVatAmount")
    gross = _text(root, "InvoiceDetails/InvoiceTotalVatIncludedAmount")
    if not (net and vat and gross):
        return errors
    total_net, total_vat, total_gross = parse_amount(net), parse_amount(vat), parse_amount(gross)
    if abs(total_net + total_vat - total_gross) > CENT:
        errors.append(
            "InvoiceTotalVatExcludedAmount + InvoiceTotalVatAmount differs from the total"
        )
    rows = root.findall("InvoiceRow")
    row_gross = sum((parse_amount(row.findtext("RowAmount") or "0") for row in rows), Decimal(0))
    if rows and abs(row_gross - total_gross) > CENT:
        errors.append("the rows' RowAmount do not add up to InvoiceTotalVatIncludedAmount")
    specifications = root.findall("InvoiceDetails/VatSpecificationDetails")
    if specifications:
        spec_vat = sum(
            (parse_amount(spec.findtext("VatRateAmount") or "0") for spec in specifications),
            Decimal(0),
        )
        if abs(spec_vat - total_vat) > CENT:
            errors.append("VatSpecificationDetails do not add up to InvoiceTotalVatAmount")
    instructed = _text(root, "EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount")
    if instructed and abs(parse_amount(instructed) - total_gross) > CENT:
        errors.append("EpiInstructedAmount differs from InvoiceTotalVatIncludedAmount")
    return errors


def validate_finvoice(xml: bytes) -> list[str]:
    """Check a Finvoice 3.0 message's structure; return the problems found (empty when fine)."""
    if not xml.lstrip().startswith(b"<?xml"):
        return ["the XML declaration is missing"]
    try:
        root = etree.fromstring(
            xml, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError as error:
        return [f"not well-formed XML: {error}"]
    if root.tag != "Finvoice":
        return [f"root element is {root.tag!r}, not 'Finvoice'"]
    errors: list[str] = []
    if root.get("Version") != "3.0":
        errors.append(f"Finvoice Version is {root.get('Version')!r}, not '3.0'")
    present = {child.tag for child in root if isinstance(child.tag, str)}
    errors.extend(
        f"required element {name} is missing" for name in REQUIRED_TOP_LEVEL if name not in present
    )
    errors.extend(_check_order(root))
    for path in REQUIRED_PATHS:
        if path.split("/")[0] in present and not _text(root, path):
            errors.append(f"required element {path} is missing or empty")
    type_code = _text(root, "InvoiceDetails/InvoiceTypeCode")
    if type_code is not None and not re.fullmatch(r"[A-Z]{3}\d{2}", type_code):
        errors.append(f"InvoiceTypeCode {type_code!r} is not a Finvoice type code")
    errors.extend(_check_formats(root))
    errors.extend(_check_values(root))
    return errors
