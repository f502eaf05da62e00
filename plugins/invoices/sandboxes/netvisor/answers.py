"""The sandbox's XML answers, in the shapes Netvisor's documents give them.

Sources: support.netvisor.fi 77000554148 (salesinvoicelist.nv), 77000554151
(getsalesinvoice.nv), 77000554180 (getcustomer.nv), 77000500440 (controlling errors),
77000557880 (the ResponseStatus of every answer), with the element order of their response
tables as public clients transcribe them. What that means here:

- Every answer is ``<Root><ResponseStatus><Status>OK</Status><TimeStamp>`` (Finnish local
  time, ``d.M.yyyy H:mm:ss``); a failure has two ``Status`` elements, ``FAILED`` and
  ``CATEGORY :: message``.
- Amounts have a decimal comma (``1034,56``), unit prices four decimals; dates are
  ``format="ansi"`` (``2026-11-24``).
- The invoice names its customer by ``InvoicingCustomerNetvisorKey`` and ``...Code``;
  ``InvoicingCustomerCountryCode`` holds the country's name, its code in ``ISO-3166``.
- Rows carry Netvisor's VAT code in ``ProductVatPercentage/@vatcode``.
- ``ProcessHistory`` (with showprocesshistory=1) holds five-child ``ProcessHistoryLine``s.
- ``LastSentInvoicePDFBase64Data`` comes with pdfimage=pdf always, with the default
  (``lastsentprintservice``) only for an invoice the print service sent, never with nopdf.
- A missing invoice is OK with an empty ``<SalesInvoice />``; a missing customer is FAILED
  ``INVALID_DATA`` (getcustomer.nv).

Nothing here comes from the plugin's client; the texts and names are the sandbox's own.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from lxml import etree

from plugins.invoices.sandboxes.netvisor.data import (
    SandboxCustomer,
    SandboxHistoryLine,
    SandboxInvoice,
    SandboxRow,
)
from plugins.invoices.sandboxes.netvisor.pdf import render_text_pdf

Element = etree._Element
HELSINKI = ZoneInfo("Europe/Helsinki")

#: The status labels the detail answer shows beside ``status=""`` (interface language FI).
STATUS_TEXT_FI = {
    "unsent": "Lähettämätön",
    "open": "Avoin",
    "overdue": "Erääntynyt",
    "reminded": "Muistutettu",
    "requested": "Huomautettu",
    "collected": "Perinnässä",
    "paid": "Maksettu",
    "creditloss": "Luottotappio",
    "rejected": "Hylätty",
}
#: Statuses the list shows as ``open`` with the status in ``substatus``.
OPEN_SUBSTATUSES = {"overdue", "reminded", "requested", "collected"}

MALFORMED = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<Root><ResponseStatus><Status>OK</Status>'
    b"<TimeStamp>1.1.2026 12:00:00</TimeStamp></ResponseStatus><SalesInvoiceList><SalesInv"
)


def comma(value: Decimal, places: int = 2) -> str:
    """A number in Netvisor's decimal-comma form: ``1034,56``."""
    return f"{value:.{places}f}".replace(".", ",")


def plain_number(value: Decimal) -> str:
    """A quantity or percentage without needless decimals: ``25,5``, ``24``, ``0``."""
    return format(value.normalize(), "f").replace(".", ",")


def _sub(parent: Element, tag: str, text: str | None = None, **attributes: str) -> Element:
    element = etree.SubElement(parent, tag, attributes)
    element.text = text if text else None
    return element


def _ansi(parent: Element, tag: str, value: date | None) -> None:
    _sub(parent, tag, value.isoformat() if value else None, format="ansi")


def _root(*statuses: str) -> Element:
    root = etree.Element("Root")
    response = _sub(root, "ResponseStatus")
    for status in statuses or ("OK",):
        _sub(response, "Status", status)
    now = datetime.now(UTC).astimezone(HELSINKI)
    _sub(response, "TimeStamp", f"{now.day}.{now.month}.{now.year} {now:%H:%M:%S}")
    return root


def serialise(root: Element, encoding: str) -> bytes:
    body = etree.tostring(
        root, encoding=encoding, xml_declaration=True, standalone=True, pretty_print=True
    )
    return body if isinstance(body, bytes) else body.encode(encoding)


def ok(encoding: str) -> bytes:
    """The bare OK answer (updatesalesinvoicestatus.nv, salesinvoicecomment.nv)."""
    return serialise(_root(), encoding)


def failed(code: str, message: str, encoding: str) -> bytes:
    """``<Status>FAILED</Status><Status>CODE :: message</Status>``."""
    return serialise(_root("FAILED", f"{code} :: {message}"), encoding)


# --- salesinvoicelist.nv -------------------------------------------------------------------


def sales_invoice_list(invoices: list[SandboxInvoice], base_url: str, encoding: str) -> bytes:
    root = _root()
    container = _sub(root, "SalesInvoiceList")
    for invoice in invoices:
        item = _sub(container, "SalesInvoice")
        _sub(item, "NetvisorKey", str(invoice.netvisor_key))
        _sub(item, "InvoiceNumber", invoice.invoice_number)
        _ansi(item, "Invoicedate", invoice.invoice_date)
        if invoice.status in OPEN_SUBSTATUSES:
            _sub(item, "InvoiceStatus", "open", substatus=invoice.status)
        else:
            _sub(item, "InvoiceStatus", invoice.status)
        _sub(item, "CustomerCode", invoice.customer.code)
        _sub(item, "CustomerName", invoice.customer.name)
        _sub(item, "ReferenceNumber", invoice.reference_number)
        _sub(item, "InvoiceSum", comma(invoice.amount))
        _sub(item, "OpenSum", comma(invoice.open_sum))
        _sub(item, "Uri", f"{base_url}/getsalesinvoice.nv?netvisorkey={invoice.netvisor_key}")
    return serialise(root, encoding)


# --- getsalesinvoice.nv --------------------------------------------------------------------


def invoice_pdf(invoice: SandboxInvoice) -> bytes:
    """The invoice image: number, dates, reference, customer, rows and total on one page."""
    customer = invoice.customer
    lines = [
        f"LASKU {invoice.invoice_number}",
        f"Päivämäärä: {invoice.invoice_date:%d.%m.%Y}   Eräpäivä: {invoice.due_date:%d.%m.%Y}",
        f"Viitenumero: {invoice.reference_number}",
        "",
        f"Asiakas: {customer.name}",
        customer.street_address,
        f"{customer.post_number} {customer.city}",
        "" if customer.country == "FI" else customer.country_name.upper(),
    ]
    lines += [
        f"{row.product_name}: {plain_number(row.quantity)} {row.unit} x "
        f"{comma(row.unit_price)} € (ALV {plain_number(row.vat_percent)} %) = {comma(row.gross)} €"
        for row in invoice.rows
    ]
    lines += ["", f"Yhteensä: {comma(invoice.amount)} €", invoice.free_text_before_lines or ""]
    return render_text_pdf(lines, title=f"Lasku {invoice.invoice_number}")


def _invoice_element(
    parent: Element,
    invoice: SandboxInvoice,
    *,
    pdf: bool,
    process_history: bool,
    comment_lines: bool,
) -> None:
    customer = invoice.customer
    element = _sub(parent, "SalesInvoice")
    _sub(element, "SalesInvoiceNetvisorKey", str(invoice.netvisor_key))
    _sub(element, "SalesInvoiceNumber", invoice.invoice_number)
    _ansi(element, "SalesInvoiceDate", invoice.invoice_date)
    _ansi(element, "SalesInvoiceEventDate", invoice.invoice_date)
    _ansi(element, "SalesInvoiceValueDate", invoice.due_date)
    _ansi(element, "SalesInvoiceDeliveryDate", invoice.invoice_date)
    _ansi(element, "SalesInvoiceDueDate", invoice.due_date)
    _sub(element, "SalesInvoiceReferencenumber", invoice.reference_number)
    _sub(
        element,
        "SalesInvoiceAmount",
        comma(invoice.amount),
        iso4217currencycode="EUR",
        currencyrate="1,000000",
    )
    _sub(element, "SellerIdentifier", invoice.seller, type="name")
    _sub(
        element,
        "InvoiceStatus",
        STATUS_TEXT_FI.get(invoice.status, invoice.status),
        status=invoice.status,
    )
    _sub(element, "SalesInvoiceFreeTextBeforeLines", invoice.free_text_before_lines)
    _sub(element, "SalesInvoiceFreeTextAfterLines")
    _sub(element, "SalesInvoiceOurReference", invoice.our_reference)
    _sub(element, "SalesInvoiceYourReference")
    _sub(element, "SalesInvoicePrivateComment")
    _sub(element, "SalesInvoiceAgreementIdentifier")
    _sub(element, "InvoicingCustomerCode", customer.code)
    _sub(element, "InvoicingCustomerName", customer.name)
    _sub(element, "InvoicingCustomerNameExtension", customer.name_extension)
    _sub(element, "InvoicingCustomerNetvisorKey", str(customer.netvisor_key))
    _sub(element, "InvoicingCustomerOrganizationIdentifier", customer.business_id)
    _sub(element, "InvoicingCustomerAddressline", customer.street_address)
    _sub(element, "InvoicingCustomerAdditionalAddressLine")
    _sub(element, "InvoicingCustomerPostnumber", customer.post_number)
    _sub(element, "InvoicingCustomerTown", customer.city)
    _sub(
        element,
        "InvoicingCustomerCountryCode",
        customer.country_name,
        **{"ISO-3166": customer.country},
    )
    _sub(element, "InvoicingCustomerInCollectionProhibitation", "0")
    _sub(element, "MatchPartialPaymentsByDefault", "0")
    _sub(element, "DeliveryAddressName", customer.name)
    _sub(element, "DeliveryAddressLine", customer.street_address)
    _sub(element, "DeliveryAddressPostnumber", customer.post_number)
    _sub(element, "DeliveryAddressTown", customer.city)
    _sub(element, "DeliveryAddressCountryCode", customer.country_name)
    _sub(element, "DeliveryMethod", invoice.delivery_method)
    _sub(element, "DeliveryTerm")
    _sub(element, "PaymentTermNetDays", str((invoice.due_date - invoice.invoice_date).days))
    _sub(element, "PaymentTermCashDiscountDays", "0")
    _sub(element, "PaymentTermCashDiscount", "0", type="percentage")
    _sub(element, "WaybillIdentifier")
    _sub(element, "DeliveryOfficeIdentifier")
    if pdf:
        encoded = base64.b64encode(invoice_pdf(invoice)).decode("ascii")
        # Netvisor's Base64 may be wrapped; readers must ignore the line breaks.
        wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
        _sub(element, "LastSentInvoicePDFBase64Data", wrapped)
    line = _sub(_sub(element, "InvoiceLines"), "InvoiceLine")
    for number, row in enumerate(invoice.rows, start=1):
        _row_element(line, row, invoice.netvisor_key * 100 + number)
    if comment_lines:
        for comment in invoice.comment_lines:
            _sub(_sub(line, "SalesInvoiceCommentLine"), "Comment", comment)
    if process_history:
        history = _sub(element, "ProcessHistory")
        for entry in invoice.history:
            _history_line(history, entry)


def _row_element(parent: Element, row: SandboxRow, line_key: int) -> None:
    line = _sub(parent, "SalesInvoiceProductLine")
    _sub(line, "NetvisorKey", str(line_key))
    _sub(line, "ProductIdentifier", row.product_code, type="customer")
    _sub(line, "ProductName", row.product_name)
    _sub(line, "ProductNetvisorKey")
    _sub(line, "ProductUnitPrice", comma(row.unit_price, 4))
    _sub(line, "ProductPurchasePrice", comma(Decimal(0), 4))
    _sub(line, "ProductVatPercentage", plain_number(row.vat_percent), vatcode=row.vat_code)
    _sub(line, "ProductPrimaryEanCode")
    _sub(line, "ProductSecondaryEanCode")
    _sub(line, "SalesInvoiceProductLineQuantity", plain_number(row.quantity))
    _sub(line, "SalesInvoiceProductLineUnit", row.unit)
    _sub(line, "SalesInvoiceProductLineDiscountPercentage", "0")
    _sub(line, "SalesInvoiceProductLineFreeText", row.free_text)
    _sub(line, "SalesInvoiceProductLineVatSum", comma(row.vat))
    _sub(line, "SalesInvoiceProductLineSum", comma(row.gross))
    _sub(line, "AccountingAccountSuggestion")
    _sub(line, "AccountingAccountSuggestionAccountNumber")
    _sub(line, "ProvisionPercentage", "0")


def _history_line(parent: Element, entry: SandboxHistoryLine) -> None:
    line = _sub(parent, "ProcessHistoryLine")
    local = entry.at.astimezone(HELSINKI)
    _sub(line, "ProcessedTimeStamp", f"{local:%Y-%m-%d %H:%M:%S}", format="ansi")
    _sub(line, "MaterialTypeName", entry.material_type)
    _sub(line, "UserName", entry.user)
    _sub(line, "ProcessChannelName", entry.channel)
    _sub(line, "ProcessStatus", entry.status)


def sales_invoice(
    invoice: SandboxInvoice | None,
    *,
    pdf: bool,
    process_history: bool,
    comment_lines: bool,
    encoding: str,
) -> bytes:
    """The ``netvisorkey`` answer; a missing invoice is OK with an empty element."""
    root = _root()
    if invoice is None:
        _sub(root, "SalesInvoice")
    else:
        _invoice_element(
            root, invoice, pdf=pdf, process_history=process_history, comment_lines=comment_lines
        )
    return serialise(root, encoding)


def sales_invoices(
    invoices: list[SandboxInvoice],
    *,
    pdf_keys: frozenset[int],
    process_history: bool,
    comment_lines: bool,
    encoding: str,
) -> bytes:
    """The ``netvisorkeylist`` answer: the invoices inside ``<SalesInvoices>``."""
    root = _root()
    container = _sub(root, "SalesInvoices")
    for invoice in invoices:
        _invoice_element(
            container,
            invoice,
            pdf=invoice.netvisor_key in pdf_keys,
            process_history=process_history,
            comment_lines=comment_lines,
        )
    return serialise(root, encoding)


# --- getcustomer.nv ------------------------------------------------------------------------


def customer(record: SandboxCustomer, encoding: str) -> bytes:
    """The ``<Customer>`` of getcustomer.nv (an unknown id is a failure, not this)."""
    root = _root()
    element = _sub(root, "Customer")
    base = _sub(element, "CustomerBaseInformation")
    _sub(base, "NetvisorKey", str(record.netvisor_key))
    _sub(base, "InternalIdentifier", record.code)
    _sub(base, "ExternalIdentifier", record.business_id)
    _sub(base, "CustomerGroupNetvisorKey", "2" if record.business_id else "1")
    _sub(base, "CustomerGroupName", "Yritysasiakkaat" if record.business_id else "Kuluttajat")
    _sub(base, "Name", record.name)
    _sub(base, "NameExtension", record.name_extension)
    _sub(base, "StreetAddress", record.street_address)
    _sub(base, "AdditionalStreetAddress")
    _sub(base, "City", record.city)
    _sub(base, "PostNumber", record.post_number)
    _sub(base, "Country", record.country, type="ISO-3166")
    _sub(base, "PhoneNumber", record.phone)
    _sub(base, "FaxNumber")
    _sub(base, "Email", record.email)
    _sub(base, "EmailInvoicingAddress", record.email_invoicing_address)
    _sub(base, "HomePageUri")
    _sub(base, "IsActive", "1")
    _sub(base, "IsPrivateCustomer", "1" if record.is_private else "0")
    finvoice = _sub(element, "CustomerFinvoiceDetails")
    _sub(finvoice, "FinvoiceAddress", record.finvoice_address)
    _sub(finvoice, "FinvoiceRouterCode", record.finvoice_router_code)
    delivery = _sub(element, "CustomerDeliveryDetails")
    _sub(delivery, "DeliveryName", record.name)
    _sub(delivery, "DeliveryStreetAddress", record.street_address)
    _sub(delivery, "DeliveryCity", record.city)
    _sub(delivery, "DeliveryPostNumber", record.post_number)
    _sub(delivery, "DeliveryCountry", record.country, type="ISO-3166")
    contact = _sub(element, "CustomerContactDetails")
    _sub(contact, "ContactPerson")
    _sub(contact, "ContactPersonEmail")
    _sub(contact, "ContactPersonPhone")
    additional = _sub(element, "CustomerAdditionalInformation")
    _sub(additional, "Comment")
    _sub(additional, "CustomerAgreementIdentifier")
    _sub(additional, "ReferenceNumber")
    _sub(additional, "UseCreditorReferenceNumber", "0")
    _sub(additional, "YourDefaultReference")
    _sub(additional, "DefaultTextBeforeInvoiceLines")
    _sub(additional, "DefaultTextAfterInvoiceLines")
    _sub(additional, "EuStandardFinvoice", "1" if record.finvoice_address else "0")
    return serialise(root, encoding)
