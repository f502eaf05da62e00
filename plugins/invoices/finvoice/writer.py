"""Write a Finvoice 3.0 message from plain data (:mod:`plugins.invoices.finvoice.invoice`).

Element names and their order follow the Finvoice 3.0 example message published by Visma
Solutions (the Maventa operator) and the Finvoice 3.0 implementation guidelines of Finance
Finland. Messages are encoded in ISO-8859-15 as the guidelines (9.3, character set) ask;
OP's network started rejecting UTF-8 content in 2024. Amounts use a decimal comma and two
decimals, dates the CCYYMMDD format (:mod:`plugins.invoices.finvoice.format`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from lxml import etree
from stdnum import iban as stdnum_iban
from stdnum.fi import ytunnus

from helpdesk.plugin_api import normalise_reference, virtual_barcode
from plugins.invoices.finvoice.format import format_amount, format_date, format_number
from plugins.invoices.finvoice.invoice import (
    FinvoiceBuyer,
    FinvoiceInvoice,
    FinvoiceSeller,
    PostalAddress,
)

ENCODING = "ISO-8859-15"
CURRENCY = "EUR"


def _sub(
    parent: etree._Element, tag: str, text: str | None = None, **attrib: str
) -> etree._Element:
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _amount(parent: etree._Element, tag: str, amount: Decimal) -> etree._Element:
    return _sub(parent, tag, format_amount(amount), AmountCurrencyIdentifier=CURRENCY)


def _address(parent: etree._Element, prefix: str, address: PostalAddress) -> None:
    details = _sub(parent, f"{prefix}PostalAddressDetails")
    _sub(details, f"{prefix}StreetName", address.street)
    _sub(details, f"{prefix}TownName", address.town)
    _sub(details, f"{prefix}PostCodeIdentifier", address.postcode)
    _sub(details, "CountryCode", address.country_code)


def _identifier(parent: etree._Element, tag: str, code: str) -> None:
    if code.startswith("0037"):
        _sub(parent, tag, code, SchemeID="0037")
    else:
        _sub(parent, tag, code)


def _transmission(root: etree._Element, inv: FinvoiceInvoice, timestamp: datetime) -> None:
    details = _sub(root, "MessageTransmissionDetails")
    sender = _sub(details, "MessageSenderDetails")
    _identifier(sender, "FromIdentifier", inv.seller.ovt)
    _sub(sender, "FromIntermediator", inv.seller.intermediator)
    # A buyer without an e-invoice address is still reachable through Maventa's print and
    # email routes, which take the address from the upload's routing data instead.
    if inv.buyer.einvoice_address:
        receiver = _sub(details, "MessageReceiverDetails")
        _identifier(receiver, "ToIdentifier", inv.buyer.einvoice_address)
        if inv.buyer.einvoice_operator:
            _sub(receiver, "ToIntermediator", inv.buyer.einvoice_operator)
    message = _sub(details, "MessageDetails")
    message_id = inv.message_id or f"{inv.number}-{timestamp:%Y%m%d%H%M%S}"
    _sub(message, "MessageIdentifier", message_id)
    _sub(message, "MessageTimeStamp", timestamp.isoformat(timespec="seconds"))


def _seller(root: etree._Element, seller: FinvoiceSeller) -> None:
    party = _sub(root, "SellerPartyDetails")
    _sub(party, "SellerPartyIdentifier", ytunnus.format(seller.business_id))
    _sub(party, "SellerOrganisationName", seller.name)
    _sub(party, "SellerOrganisationTaxCode", seller.vat_number)
    _address(party, "Seller", seller.address)
    _sub(root, "SellerOrganisationUnitNumber", seller.ovt)
    if seller.email:
        communication = _sub(root, "SellerCommunicationDetails")
        _sub(communication, "SellerEmailaddressIdentifier", seller.email)
    information = _sub(root, "SellerInformationDetails")
    _sub(information, "SellerHomeTownName", seller.address.town)
    account = _sub(information, "SellerAccountDetails")
    _sub(
        account,
        "SellerAccountID",
        stdnum_iban.compact(seller.iban),
        IdentificationSchemeName="IBAN",
    )
    _sub(account, "SellerBic", seller.bic, IdentificationSchemeName="BIC")


def _buyer(root: etree._Element, buyer: FinvoiceBuyer) -> None:
    party = _sub(root, "BuyerPartyDetails")
    if buyer.business_id:
        _sub(party, "BuyerPartyIdentifier", buyer.business_id)
    _sub(party, "BuyerOrganisationName", buyer.name)
    _address(party, "Buyer", buyer.address)
    if buyer.email:
        communication = _sub(root, "BuyerCommunicationDetails")
        _sub(communication, "BuyerEmailaddressIdentifier", buyer.email)


def _details(root: etree._Element, inv: FinvoiceInvoice) -> None:
    details = _sub(root, "InvoiceDetails")
    _sub(details, "InvoiceTypeCode", "INV01")
    _sub(details, "InvoiceTypeCodeUN", "380")
    _sub(details, "InvoiceTypeText", "LASKU")
    _sub(details, "OriginCode", "Original")
    _sub(details, "InvoiceNumber", inv.number)
    _sub(details, "InvoiceDate", format_date(inv.invoice_date), Format="CCYYMMDD")
    _amount(details, "InvoiceTotalVatExcludedAmount", inv.total_net)
    _amount(details, "InvoiceTotalVatAmount", inv.total_vat)
    _amount(details, "InvoiceTotalVatIncludedAmount", inv.total_gross)
    for part in inv.vat_breakdown():
        specification = _sub(details, "VatSpecificationDetails")
        _amount(specification, "VatBaseAmount", part.base)
        _sub(specification, "VatRatePercent", format_number(part.rate))
        _sub(specification, "VatCode", "S" if part.rate else "Z")
        _amount(specification, "VatRateAmount", part.vat)
    terms = _sub(details, "PaymentTermsDetails")
    days = (inv.due_date - inv.invoice_date).days
    _sub(terms, "PaymentTermsFreeText", inv.payment_terms or f"{days} pv netto")
    _sub(terms, "InvoiceDueDate", format_date(inv.due_date), Format="CCYYMMDD")


def _barcode(inv: FinvoiceInvoice) -> str | None:
    try:
        return virtual_barcode(inv.seller.iban, inv.total_gross, inv.reference, inv.due_date)
    except ValueError:
        return None


def _rows(root: etree._Element, inv: FinvoiceInvoice) -> None:
    for position, row in enumerate(inv.rows, start=1):
        element = _sub(root, "InvoiceRow")
        _sub(element, "ArticleName", row.description[:100])
        _sub(element, "InvoicedQuantity", format_number(row.quantity), QuantityUnitCode=row.unit)
        _amount(element, "UnitPriceAmount", row.unit_price)
        _sub(element, "RowPositionIdentifier", str(position))
        if len(row.description) > 100:
            _sub(element, "RowFreeText", row.description[:512])
        _sub(element, "RowVatRatePercent", format_number(row.vat_percent))
        _sub(element, "RowVatCode", "S" if row.vat_percent else "Z")
        _amount(element, "RowVatAmount", row.vat)
        _amount(element, "RowVatExcludedAmount", row.net)
        _amount(element, "RowAmount", row.gross)


def _epi(root: etree._Element, inv: FinvoiceInvoice) -> None:
    epi = _sub(root, "EpiDetails")
    identification = _sub(epi, "EpiIdentificationDetails")
    _sub(identification, "EpiDate", format_date(inv.invoice_date), Format="CCYYMMDD")
    _sub(identification, "EpiReference")
    party = _sub(epi, "EpiPartyDetails")
    bank = _sub(party, "EpiBfiPartyDetails")
    _sub(bank, "EpiBfiIdentifier", inv.seller.bic, IdentificationSchemeName="BIC")
    beneficiary = _sub(party, "EpiBeneficiaryPartyDetails")
    _sub(beneficiary, "EpiNameAddressDetails", inv.seller.name)
    _sub(beneficiary, "EpiBei", ytunnus.format(inv.seller.business_id))
    _sub(
        beneficiary,
        "EpiAccountID",
        stdnum_iban.compact(inv.seller.iban),
        IdentificationSchemeName="IBAN",
    )
    instruction = _sub(epi, "EpiPaymentInstructionDetails")
    reference = normalise_reference(inv.reference) or inv.reference
    scheme = "ISO" if reference.startswith("RF") else "SPY"
    _sub(instruction, "EpiRemittanceInfoIdentifier", reference, IdentificationSchemeName=scheme)
    _amount(instruction, "EpiInstructedAmount", inv.total_gross)
    _sub(instruction, "EpiCharge", "SHA", ChargeOption="SHA")
    _sub(instruction, "EpiDateOptionDate", format_date(inv.due_date), Format="CCYYMMDD")


def build_finvoice(inv: FinvoiceInvoice) -> bytes:
    """Write the invoice as a Finvoice 3.0 message, ISO-8859-15 with an XML declaration."""
    if not inv.rows:
        raise ValueError("a Finvoice invoice needs at least one row")
    if normalise_reference(inv.reference) is None:
        raise ValueError(f"not a valid reference: {inv.reference!r}")
    timestamp = inv.timestamp or datetime.now(ZoneInfo("Europe/Helsinki"))
    root = etree.Element("Finvoice", Version="3.0")
    _transmission(root, inv, timestamp)
    _seller(root, inv.seller)
    _buyer(root, inv.buyer)
    _details(root, inv)
    barcode = _barcode(inv)
    if barcode is not None:
        _sub(root, "VirtualBankBarcode", barcode)
    _rows(root, inv)
    _epi(root, inv)
    # Characters outside Latin-9 become character references, which stay valid XML.
    body = etree.tostring(root, encoding=ENCODING, xml_declaration=False, pretty_print=True)
    assert isinstance(body, bytes)
    return f'<?xml version="1.0" encoding="{ENCODING}"?>\n'.encode("ascii") + body
