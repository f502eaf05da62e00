"""Turning Netvisor's XML answers into the values of ``models``.

Element names follow Netvisor's documentation (support.netvisor.fi articles
77000554148 salesinvoicelist.nv, 77000554151 getsalesinvoice.nv, 77000554180
getcustomer.nv; their response tables, as transcribed by public clients), spelled as
Netvisor spells them (``Invoicedate``, ``SalesInvoiceReferencenumber``); lookups ignore
case only. A missing element is None. Some documented facts worth knowing here:

- The invoice names its customer by ``InvoicingCustomerNetvisorKey`` (what getcustomer.nv
  takes) and ``InvoicingCustomerCode``; ``InvoicingCustomerIdentifier`` belongs to the
  import message salesinvoice.nv, not to this answer.
- ``InvoicingCustomerCountryCode`` holds the country's *name* as text and the ISO 3166
  code in its ``ISO-3166`` attribute (``<... ISO-3166="SE">Sweden</...>``); an answer
  from before the attribute existed (``FINLAND``) gives no code unless it is Finland.
- Each row's VAT treatment is the ``vatcode`` attribute of ``ProductVatPercentage``
  (KOMY domestic sales, EUMY EU sales, MUUL other turnover without VAT, ...).
- ``ProcessHistory`` holds ``ProcessHistoryLine`` elements of five children.
- getcustomer.nv's ``Country`` is an ISO code (``type="ISO-3166"``).
"""

from __future__ import annotations

import base64
import binascii
import re

from .errors import NetvisorProtocolError
from .models import (
    Customer,
    ProcessHistoryEntry,
    SalesInvoice,
    SalesInvoiceListItem,
    SalesInvoiceRow,
)
from .xml import (
    Element,
    attribute,
    child,
    children,
    date_at,
    decimal_at,
    descend,
    element_text,
    int_at,
    parse_decimal,
    parse_timestamp,
    text,
)


def _require(element: Element | None, what: str) -> Element:
    if element is None:
        raise NetvisorProtocolError(f"vastauksesta puuttuu {what}", code="UNEXPECTED_SHAPE")
    return element


def _is_empty(element: Element) -> bool:
    """Netvisor answers a missing record with OK and an empty element."""
    return len(element) == 0 and not (element.text or "").strip()


def parse_sales_invoice_list(root: Element) -> list[SalesInvoiceListItem]:
    """Items of ``<SalesInvoiceList>``; the container itself must be present."""
    container = _require(child(root, "SalesInvoiceList"), "SalesInvoiceList")
    return [_list_item(element) for element in children(container, "SalesInvoice")]


def _list_item(element: Element) -> SalesInvoiceListItem:
    key = int_at(element, "NetvisorKey")
    if key is None:
        raise NetvisorProtocolError("laskulta puuttuu NetvisorKey", code="UNEXPECTED_SHAPE")
    status_element = child(element, "InvoiceStatus")
    return SalesInvoiceListItem(
        netvisor_key=key,
        invoice_number=text(element, "InvoiceNumber") or "",
        invoice_date=date_at(element, "Invoicedate"),
        status=(element_text(status_element) or "").lower(),
        substatus=_lower(attribute(status_element, "substatus")),
        customer_code=text(element, "CustomerCode"),
        customer_name=text(element, "CustomerName"),
        reference_number=text(element, "ReferenceNumber"),
        invoice_sum=decimal_at(element, "InvoiceSum"),
        open_sum=decimal_at(element, "OpenSum"),
        uri=text(element, "Uri"),
    )


def _lower(value: str | None) -> str | None:
    return value.lower() if value is not None else None


def sales_invoice_elements(root: Element) -> list[Element]:
    """The ``<SalesInvoice>`` elements of a getsalesinvoice answer, single or list form.

    With ``netvisorkeylist`` the invoices sit in ``<SalesInvoices>``; with
    ``netvisorkey`` the one invoice is a direct child of ``<Root>``. Empty elements
    (the "not found" answer) are dropped.
    """
    container = child(root, "SalesInvoices")
    elements = children(container if container is not None else root, "SalesInvoice")
    return [element for element in elements if not _is_empty(element)]


def parse_sales_invoice(element: Element, *, fallback_key: int | None = None) -> SalesInvoice:
    """One ``<SalesInvoice>`` element of getsalesinvoice.nv."""
    status_element = child(element, "InvoiceStatus")
    # The detail answer carries the machine status in an attribute
    # (<InvoiceStatus status="unsent">Lähettämätön</InvoiceStatus>); fall back to the text.
    status = attribute(status_element, "status") or element_text(status_element)
    amount_element = child(element, "SalesInvoiceAmount")
    lines = descend(element, "InvoiceLines", "InvoiceLine")
    key = int_at(element, "SalesInvoiceNetvisorKey")
    country, country_code = _country(child(element, "InvoicingCustomerCountryCode"))
    return SalesInvoice(
        netvisor_key=key if key is not None else fallback_key,
        invoice_number=text(element, "SalesInvoiceNumber") or "",
        invoice_date=date_at(element, "SalesInvoiceDate"),
        delivery_date=date_at(element, "SalesInvoiceDeliveryDate"),
        due_date=date_at(element, "SalesInvoiceDueDate"),
        reference_number=text(element, "SalesInvoiceReferencenumber"),
        status=_lower(status),
        delivery_method=text(element, "DeliveryMethod"),
        customer_netvisor_key=int_at(element, "InvoicingCustomerNetvisorKey"),
        customer_code=text(element, "InvoicingCustomerCode"),
        customer_name=text(element, "InvoicingCustomerName"),
        customer_name_extension=text(element, "InvoicingCustomerNameExtension"),
        customer_address_line=text(element, "InvoicingCustomerAddressline"),
        customer_additional_address_line=text(element, "InvoicingCustomerAdditionalAddressLine"),
        customer_post_number=text(element, "InvoicingCustomerPostnumber"),
        customer_town=text(element, "InvoicingCustomerTown"),
        customer_country=country,
        customer_country_code=country_code,
        customer_business_id=text(element, "InvoicingCustomerOrganizationIdentifier"),
        seller=text(element, "SellerIdentifier"),
        our_reference=text(element, "SalesInvoiceOurReference"),
        your_reference=text(element, "SalesInvoiceYourReference"),
        amount=parse_decimal(element_text(amount_element)),
        currency=attribute(amount_element, "iso4217currencycode"),
        payment_term_net_days=int_at(element, "PaymentTermNetDays"),
        free_text_before_lines=text(element, "SalesInvoiceFreeTextBeforeLines"),
        free_text_after_lines=text(element, "SalesInvoiceFreeTextAfterLines"),
        private_comment=text(element, "SalesInvoicePrivateComment"),
        rows=tuple(_row(line) for line in children(lines, "SalesInvoiceProductLine")),
        comment_lines=tuple(
            comment
            for line in children(lines, "SalesInvoiceCommentLine")
            if (comment := text(line, "Comment")) is not None
        ),
        process_history=tuple(
            _history_line(line)
            for line in children(child(element, "ProcessHistory"), "ProcessHistoryLine")
        ),
    )


_ISO_CODE = re.compile(r"[A-Za-z]{2}")
#: The one country whose name we map to its code: the 2014 answer shape wrote FINLAND.
_FINLAND = {"finland", "suomi"}


def _country(element: Element | None) -> tuple[str | None, str | None]:
    """The (name, ISO 3166 code) of an ``InvoicingCustomerCountryCode`` element."""
    name = element_text(element)
    code = attribute(element, "ISO-3166")
    if code is None and name is not None:
        if _ISO_CODE.fullmatch(name):
            code = name  # a bare code, as the import message writes it
        elif name.casefold() in _FINLAND:
            code = "FI"
    if code is None or not _ISO_CODE.fullmatch(code):
        return name, None
    return name, code.upper()


def _row(line: Element) -> SalesInvoiceRow:
    vat_element = child(line, "ProductVatPercentage")
    gross = decimal_at(line, "SalesInvoiceProductLineSum")
    vat = decimal_at(line, "SalesInvoiceProductLineVatSum")
    # SalesInvoiceProductLineSum is the row total including VAT (the public sample
    # answers add up that way: 2 x 6,90 + 3,04 VAT = 16,84), so net = gross - VAT.
    net = gross - vat if gross is not None and vat is not None else None
    code = attribute(vat_element, "vatcode")
    return SalesInvoiceRow(
        product_name=text(line, "ProductName"),
        product_code=text(line, "ProductIdentifier"),
        quantity=decimal_at(line, "SalesInvoiceProductLineQuantity"),
        unit=text(line, "SalesInvoiceProductLineUnit"),
        unit_price=decimal_at(line, "ProductUnitPrice"),
        vat_percent=parse_decimal(element_text(vat_element)),
        vat_code=code.upper() if code else None,
        discount_percent=decimal_at(line, "SalesInvoiceProductLineDiscountPercentage"),
        free_text=text(line, "SalesInvoiceProductLineFreeText"),
        net_sum=net,
        vat_sum=vat,
        gross_sum=gross,
    )


def _history_line(line: Element) -> ProcessHistoryEntry:
    stamp = text(line, "ProcessedTimeStamp")
    return ProcessHistoryEntry(
        timestamp=stamp,
        processed_at=parse_timestamp(stamp),
        material_type=text(line, "MaterialTypeName"),
        user=text(line, "UserName"),
        channel=text(line, "ProcessChannelName"),
        status=text(line, "ProcessStatus"),
    )


def parse_invoice_pdf(root: Element) -> bytes | None:
    """The Base64 PDF in ``SalesInvoice/LastSentInvoicePDFBase64Data``, decoded."""
    invoices = sales_invoice_elements(root)
    if not invoices:
        return None
    data = text(invoices[0], "LastSentInvoicePDFBase64Data")
    if data is None:
        return None
    try:
        return base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NetvisorProtocolError(
            "laskun PDF ei ole kelvollista Base64:ää", code="UNEXPECTED_SHAPE"
        ) from exc


def parse_customer(root: Element) -> Customer | None:
    """The ``<Customer>`` of getcustomer.nv; None for an OK answer without one.

    (Netvisor answers an unknown id with FAILED / INVALID_DATA, raised before this.)
    """
    customer = child(root, "Customer")
    if customer is None or _is_empty(customer):
        return None
    base = child(customer, "CustomerBaseInformation")
    finvoice = child(customer, "CustomerFinvoiceDetails")
    if base is None:
        raise NetvisorProtocolError(
            "asiakkaalta puuttuu CustomerBaseInformation", code="UNEXPECTED_SHAPE"
        )
    return Customer(
        netvisor_key=int_at(base, "NetvisorKey"),
        code=text(base, "InternalIdentifier"),
        name=text(base, "Name"),
        name_extension=text(base, "NameExtension"),
        business_id=text(base, "ExternalIdentifier"),
        organisation_unit_number=text(base, "OrganizationUnitNumber"),
        street_address=text(base, "StreetAddress"),
        additional_address=text(base, "AdditionalStreetAddress"),
        post_number=text(base, "PostNumber"),
        city=text(base, "City"),
        country=_upper(text(base, "Country")),
        phone=text(base, "PhoneNumber"),
        email=text(base, "Email"),
        email_invoicing_address=text(base, "EmailInvoicingAddress"),
        finvoice_address=text(finvoice, "FinvoiceAddress"),
        finvoice_router_code=text(finvoice, "FinvoiceRouterCode"),
    )


def _upper(value: str | None) -> str | None:
    return value.upper() if value is not None else None
