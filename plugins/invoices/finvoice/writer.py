"""Write a Finvoice 3.0 message from plain data (:mod:`plugins.invoices.finvoice.invoice`).

Elements follow the sequence of the official XSD (``schema/Finvoice3.0.xsd``) and Finance
Finland's implementation guideline (GL). The data is first held to what the schema can
express (:mod:`~plugins.invoices.finvoice.preflight`, which refuses with reasons); the
message written is then validated against the XSD and the bank rules, and an invalid one is
never returned. Messages are ISO-8859-15 as GL 9.3 asks (OP's network rejects UTF-8 content
since 2024); amounts have a decimal comma and two decimals, unit prices keep up to five.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from lxml import etree
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.fi import ytunnus

from helpdesk.plugin_api import normalise_reference, virtual_barcode
from plugins.invoices.finvoice import preflight
from plugins.invoices.finvoice.format import (
    format_amount,
    format_date,
    format_number,
    format_unit_price,
)
from plugins.invoices.finvoice.invoice import (
    FinvoiceBuyer,
    FinvoiceInvoice,
    FinvoiceSeller,
    PostalAddress,
)
from plugins.invoices.finvoice.problems import FinvoiceInvalid, FinvoiceRefused
from plugins.invoices.finvoice.text import clean, cut, split_text
from plugins.invoices.finvoice.validate import validate_finvoice
from plugins.invoices.finvoice.vat import CATEGORIES

ENCODING = "ISO-8859-15"
CURRENCY = "EUR"
#: (InvoiceTypeCode, InvoiceTypeCodeUN, InvoiceTypeText): GL 10.5 pairs INV01 with the
#: commercial invoice and INV02 ("always a negative total sum") with the credit note;
#: UN/CEFACT 1001 codes 380 and 381 as Finance Finland's examples and Netvisor use them.
INVOICE = ("INV01", "380", "LASKU")
CREDIT_NOTE = ("INV02", "381", "HYVITYSLASKU")
#: UN/CEFACT 4461 58, SEPA credit transfer: how the invoice is paid (BT-81).
PAYMENT_MEANS = "58"


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
    for line in preflight.street_lines(address.street):
        _sub(details, f"{prefix}StreetName", line)
    _sub(details, f"{prefix}TownName", clean(address.town))
    _sub(details, f"{prefix}PostCodeIdentifier", clean(address.postcode))
    _sub(details, "CountryCode", address.country_code)


def _names(parent: etree._Element, tag: str, name: str) -> None:
    # The schema repeats the organisation name (1..n, 2..70 each): a long name is split.
    for piece in split_text(name, preflight.NAME[1], preflight.NAME[0]):
        _sub(parent, tag, piece)


def _identifier(parent: etree._Element, tag: str, code: str) -> None:
    code = clean(code)
    if code.startswith("0037"):
        _sub(parent, tag, code, SchemeID="0037")
    else:
        _sub(parent, tag, code)


def _transmission(root: etree._Element, inv: FinvoiceInvoice, timestamp: datetime) -> None:
    """MessageTransmissionDetails, only when the buyer's e-invoice address is complete.

    When the block is there the XSD requires all of sender, receiver (ToIdentifier and
    ToIntermediator) and message details, and the data list (rows 39-47) says it must be
    identical to the SOAP frame the message is routed by. The block itself is optional, and
    Finvoice has no code for "no e-invoice address". Maventa routes by the upload's
    metadata, which overrides the XML, and with an address and operator given it uses
    that route only, with no fallback to e-mail or print (documentation.maventa.com,
    integration guide, invoice routing). So a buyer without both gets no block: inventing
    a receiver (say an OVT from the business ID) would route the invoice to a dead end.
    """
    address, operator = clean(inv.buyer.einvoice_address), clean(inv.buyer.einvoice_operator)
    if not (address and operator):
        return
    details = _sub(root, "MessageTransmissionDetails")
    sender = _sub(details, "MessageSenderDetails")
    _identifier(sender, "FromIdentifier", inv.seller.ovt)
    _sub(sender, "FromIntermediator", clean(inv.seller.intermediator))
    receiver = _sub(details, "MessageReceiverDetails")
    _identifier(receiver, "ToIdentifier", address)
    _sub(receiver, "ToIntermediator", operator)
    message = _sub(details, "MessageDetails")
    message_id = clean(inv.message_id) or f"{clean(inv.number)}-{timestamp:%Y%m%d%H%M%S}"
    _sub(message, "MessageIdentifier", message_id)
    _sub(message, "MessageTimeStamp", timestamp.isoformat(timespec="seconds"))


def _seller(root: etree._Element, seller: FinvoiceSeller) -> None:
    party = _sub(root, "SellerPartyDetails")
    _sub(party, "SellerPartyIdentifier", ytunnus.format(seller.business_id))
    _names(party, "SellerOrganisationName", seller.name)
    _sub(party, "SellerOrganisationTaxCode", seller.vat_number)
    _address(party, "Seller", seller.address)
    _sub(root, "SellerOrganisationUnitNumber", clean(seller.ovt))
    if clean(seller.email):
        communication = _sub(root, "SellerCommunicationDetails")
        _sub(communication, "SellerEmailaddressIdentifier", clean(seller.email))
    information = _sub(root, "SellerInformationDetails")
    _sub(information, "SellerHomeTownName", clean(seller.address.town))
    account = _sub(information, "SellerAccountDetails")
    _sub(
        account,
        "SellerAccountID",
        stdnum_iban.compact(seller.iban),
        IdentificationSchemeName="IBAN",
    )
    _sub(account, "SellerBic", stdnum_bic.compact(seller.bic), IdentificationSchemeName="BIC")


def _buyer(root: etree._Element, buyer: FinvoiceBuyer, tax_code_needed: bool) -> None:
    party = _sub(root, "BuyerPartyDetails")
    if ytunnus.is_valid(buyer.business_id):
        _sub(party, "BuyerPartyIdentifier", ytunnus.format(buyer.business_id))
    elif clean(buyer.business_id):
        _sub(party, "BuyerPartyIdentifier", clean(buyer.business_id))
    _names(party, "BuyerOrganisationName", buyer.name)
    # The data list asks for the VAT number with reverse charge and intra-EU supply; a
    # number given explicitly is always written.
    if buyer.tax_code and (tax_code_needed or buyer.vat_number.strip()):
        _sub(party, "BuyerOrganisationTaxCode", buyer.tax_code)
    _address(party, "Buyer", buyer.address)
    if clean(buyer.email):
        communication = _sub(root, "BuyerCommunicationDetails")
        _sub(communication, "BuyerEmailaddressIdentifier", clean(buyer.email))


def _details(root: etree._Element, inv: FinvoiceInvoice) -> None:
    details = _sub(root, "InvoiceDetails")
    type_code, type_code_un, type_text = CREDIT_NOTE if inv.is_credit_note else INVOICE
    _sub(details, "InvoiceTypeCode", type_code, CodeListAgencyIdentifier="SPY")
    _sub(details, "InvoiceTypeCodeUN", type_code_un)
    _sub(details, "InvoiceTypeText", type_text)
    _sub(details, "OriginCode", "Original")
    _sub(details, "InvoiceNumber", clean(inv.number))
    _sub(details, "InvoiceDate", format_date(inv.invoice_date), Format="CCYYMMDD")
    if inv.is_credit_note and clean(inv.credited_number):
        _sub(details, "OriginalInvoiceNumber", clean(inv.credited_number))
        if inv.credited_date is not None:
            _sub(details, "OriginalInvoiceDate", format_date(inv.credited_date), Format="CCYYMMDD")
    _amount(details, "RowsTotalVatExcludedAmount", inv.total_net)
    _amount(details, "InvoiceTotalVatExcludedAmount", inv.total_net)
    _amount(details, "InvoiceTotalVatAmount", inv.total_vat)
    _amount(details, "InvoiceTotalVatIncludedAmount", inv.total_gross)
    for part in inv.vat_breakdown():
        category = CATEGORIES[part.code]
        specification = _sub(details, "VatSpecificationDetails")
        _amount(specification, "VatBaseAmount", part.base)
        if part.code != "O":  # outside the scope of VAT has no rate (EN 16931 BR-O-05)
            _sub(specification, "VatRatePercent", format_number(part.rate))
        _sub(specification, "VatCode", part.code)
        _amount(specification, "VatRateAmount", part.vat)
        for line in split_text(part.text or category.free_text, preflight.VAT_TEXT):
            _sub(specification, "VatFreeText", line)
        if category.exemption_code:
            _sub(specification, "VatExemptionReasonCode", category.exemption_code)
    terms = _sub(details, "PaymentTermsDetails")
    days = (inv.due_date - inv.invoice_date).days
    for line in split_text(inv.payment_terms or f"{days} pv netto", preflight.TERMS):
        _sub(terms, "PaymentTermsFreeText", line)
    _sub(terms, "InvoiceDueDate", format_date(inv.due_date), Format="CCYYMMDD")


def _barcode(inv: FinvoiceInvoice) -> str | None:
    """The virtual barcode, for an amount to pay into a Finnish account; else None."""
    if inv.total_gross <= 0:
        return None
    try:
        return virtual_barcode(inv.seller.iban, inv.total_gross, inv.reference, inv.due_date)
    except ValueError:  # a foreign IBAN, or an RF reference with letters
        return None


def _rows(root: etree._Element, inv: FinvoiceInvoice) -> None:
    for position, row in enumerate(inv.rows, start=1):
        element = _sub(root, "InvoiceRow")
        if clean(row.article_code):
            _sub(element, "ArticleIdentifier", cut(row.article_code, preflight.ARTICLE_ID))
        description = clean(row.description)
        if description:
            _sub(element, "ArticleName", cut(description, preflight.ARTICLE_NAME))
        unit = cut(row.unit, preflight.UNIT_CODE)
        quantity_unit = {"QuantityUnitCode": unit} if unit else {}
        _sub(element, "InvoicedQuantity", format_number(row.quantity), **quantity_unit)
        _sub(
            element,
            "UnitPriceAmount",
            format_unit_price(row.unit_price),
            AmountCurrencyIdentifier=CURRENCY,
        )
        _sub(element, "RowPositionIdentifier", str(position))
        if len(description) > preflight.ARTICLE_NAME:
            for piece in split_text(description, preflight.ROW_FREE_TEXT):
                _sub(element, "RowFreeText", piece)
        if row.vat_category != "O":
            _sub(element, "RowVatRatePercent", format_number(row.vat_percent))
        _sub(element, "RowVatCode", row.vat_category)
        _amount(element, "RowVatAmount", row.vat)
        _amount(element, "RowVatExcludedAmount", row.net)
        _amount(element, "RowAmount", row.gross)


def _epi(root: etree._Element, inv: FinvoiceInvoice) -> None:
    epi = _sub(root, "EpiDetails")
    identification = _sub(epi, "EpiIdentificationDetails")
    _sub(identification, "EpiDate", format_date(inv.invoice_date), Format="CCYYMMDD")
    _sub(identification, "EpiReference")  # required, "not in use in Finland" (DL)
    party = _sub(epi, "EpiPartyDetails")
    bank = _sub(party, "EpiBfiPartyDetails")
    _sub(
        bank, "EpiBfiIdentifier", stdnum_bic.compact(inv.seller.bic), IdentificationSchemeName="BIC"
    )
    beneficiary = _sub(party, "EpiBeneficiaryPartyDetails")
    # The payee's name for the payment (GL 13: mandatory); 35 characters at most.
    _sub(beneficiary, "EpiNameAddressDetails", cut(inv.seller.name, preflight.EPI_NAME))
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
    # A credit note's amount is negative (GL 10.8); always exactly two decimals.
    _amount(instruction, "EpiInstructedAmount", inv.total_gross)
    _sub(instruction, "EpiCharge", "SHA", ChargeOption="SHA")
    _sub(instruction, "EpiDateOptionDate", format_date(inv.due_date), Format="CCYYMMDD")
    _sub(instruction, "EpiPaymentMeansCode", PAYMENT_MEANS)


def _write(inv: FinvoiceInvoice) -> bytes:
    timestamp = inv.timestamp or datetime.now(ZoneInfo("Europe/Helsinki"))
    categories = {row.vat_category for row in inv.rows}
    root = etree.Element("Finvoice", Version="3.0")
    _transmission(root, inv, timestamp)
    _seller(root, inv.seller)
    _buyer(root, inv.buyer, bool(categories & {"AE", "K"}))
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


def build_finvoice(inv: FinvoiceInvoice) -> bytes:
    """Write the invoice as a Finvoice 3.0 message (ISO-8859-15, with an XML declaration).

    Raises :class:`FinvoiceRefused` (reasons in Finnish and English) when the data cannot
    make a valid message, and :class:`FinvoiceInvalid` if the message written fails the XSD
    or the bank rules; both are ValueErrors. What is returned has passed both.
    """
    refusals = preflight.refusals_for(inv)
    if refusals:
        raise FinvoiceRefused(refusals)
    xml = _write(inv)
    problems = validate_finvoice(xml)
    if problems:
        raise FinvoiceInvalid(problems)
    return xml
