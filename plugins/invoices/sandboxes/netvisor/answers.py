"""XML answers of the Netvisor sandbox, in the shapes the real service documents."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal

from lxml import etree

from plugins.invoices.sandboxes.netvisor.data import SandboxCustomer, SandboxInvoice, SandboxRow
from plugins.invoices.sandboxes.netvisor.pdf import render_text_pdf

Element = etree._Element

#: Netvisor's Finnish names for the statuses, as the detail answer shows them.
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

MALFORMED = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<Root><ResponseStatus><Status>OK</Status>'
    b"<TimeStamp>1.1.2026 12:00:00</TimeStamp></ResponseStatus><SalesInvoiceList><SalesInv"
)


def comma(value: Decimal, places: int = 2) -> str:
    """A Decimal in Netvisor's decimal-comma form."""
    return f"{value:.{places}f}".replace(".", ",")


def percent(value: Decimal) -> str:
    """A VAT percentage without needless decimals: ``25,5``, ``24``, ``0``."""
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


def _sub(parent: Element, tag: str, text: str | None = None, **attrib: str) -> Element:
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _root(status: str = "OK", detail: str | None = None) -> Element:
    root = etree.Element("Root")
    response_status = _sub(root, "ResponseStatus")
    _sub(response_status, "Status", status)
    if detail is not None:
        _sub(response_status, "Status", detail)
    _sub(response_status, "TimeStamp", datetime.now(UTC).strftime("%-d.%-m.%Y %H:%M:%S"))
    return root


def serialise(root: Element, encoding: str) -> bytes:
    body = etree.tostring(root, encoding=encoding, xml_declaration=True, pretty_print=True)
    return body if isinstance(body, bytes) else body.encode(encoding)


def ok(encoding: str) -> bytes:
    return serialise(_root(), encoding)


def failed(code: str, message: str, encoding: str) -> bytes:
    """``<Status>FAILED</Status><Status>CODE :: message</Status>``."""
    return serialise(_root("FAILED", f"{code} :: {message}"), encoding)


def _ansi(parent: Element, tag: str, value: date) -> None:
    _sub(parent, tag, value.isoformat(), format="ansi")


def sales_invoice_list(invoices: list[SandboxInvoice], base_url: str, encoding: str) -> bytes:
    root = _root()
    container = _sub(root, "SalesInvoiceList")
    for invoice in invoices:
        item = _sub(container, "SalesInvoice")
        _sub(item, "NetvisorKey", str(invoice.netvisor_key))
        _sub(item, "InvoiceNumber", invoice.invoice_number)
        _ansi(item, "Invoicedate", invoice.invoice_date)
        if invoice.status in {"overdue", "reminded", "requested", "collected"}:
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


def invoice_pdf(invoice: SandboxInvoice) -> bytes:
    """The invoice image: number, customer and sum on one page."""
    customer = invoice.customer
    lines = [
        f"LASKU {invoice.invoice_number}",
        f"Päivämäärä: {invoice.invoice_date:%d.%m.%Y}   Eräpäivä: {invoice.due_date:%d.%m.%Y}",
        f"Viitenumero: {invoice.reference_number}",
        "",
        f"Asiakas: {customer.name}",
        customer.street_address,
        f"{customer.post_number} {customer.city}",
        "",
    ]
    lines += [
        f"{row.product_name}: {percent(row.quantity)} {row.unit} x {comma(row.unit_price)} € "
        f"(ALV {percent(row.vat_percent)} %) = {comma(row.gross)} €"
        for row in invoice.rows
    ]
    lines += ["", f"Yhteensä: {comma(invoice.amount)} €", invoice.free_text_before_lines or ""]
    return render_text_pdf(lines, title=f"Lasku {invoice.invoice_number}")


def _invoice_element(
    parent: Element, invoice: SandboxInvoice, *, pdf: bool, process_history: bool
) -> None:
    customer = invoice.customer
    element = _sub(parent, "SalesInvoice")
    _sub(element, "SalesInvoiceNetvisorKey", str(invoice.netvisor_key))
    _sub(element, "SalesInvoiceNumber", invoice.invoice_number)
    _ansi(element, "SalesInvoiceDate", invoice.invoice_date)
    _ansi(element, "SalesInvoiceDeliveryDate", invoice.invoice_date)
    _ansi(element, "SalesInvoiceDueDate", invoice.due_date)
    _sub(element, "SalesInvoiceReferencenumber", invoice.reference_number)
    _sub(
        element,
        "SalesInvoiceAmount",
        comma(invoice.amount),
        iso4217currencycode="EUR",
        currencyrate="1",
    )
    _sub(element, "SellerIdentifier", invoice.seller, type="name")
    _sub(
        element,
        "InvoiceStatus",
        STATUS_TEXT_FI.get(invoice.status, invoice.status),
        status=invoice.status,
    )
    _sub(element, "SalesInvoiceFreeTextBeforeLines", invoice.free_text_before_lines or "")
    _sub(element, "SalesInvoiceFreeTextAfterLines", "")
    _sub(element, "SalesInvoiceOurReference", invoice.our_reference or "")
    _sub(element, "SalesInvoiceYourReference", "")
    _sub(element, "SalesInvoicePrivateComment", "")
    _sub(element, "InvoicingCustomerNetvisorKey", str(customer.netvisor_key))
    _sub(element, "InvoicingCustomerCode", customer.code)
    _sub(element, "InvoicingCustomerIdentifier", customer.code)
    _sub(element, "InvoicingCustomerName", customer.name)
    _sub(element, "InvoicingCustomerNameExtension", customer.name_extension or "")
    _sub(element, "InvoicingCustomerOrganizationIdentifier", customer.business_id or "")
    _sub(element, "InvoicingCustomerAddressline", customer.street_address)
    _sub(element, "InvoicingCustomerPostnumber", customer.post_number)
    _sub(element, "InvoicingCustomerTown", customer.city)
    _sub(
        element,
        "InvoicingCustomerCountryCode",
        {"FI": "Finland", "SE": "Sweden"}.get(customer.country, customer.country),
        **{"ISO-3166": customer.country},
    )
    _sub(element, "MatchPartialPaymentsByDefault", "Ei")
    _sub(element, "DeliveryAddressName", customer.name)
    _sub(element, "DeliveryAddressLine", customer.street_address)
    _sub(element, "DeliveryAddressPostnumber", customer.post_number)
    _sub(element, "DeliveryAddressTown", customer.city)
    _sub(element, "DeliveryAddressCountryCode", customer.country, type="ISO-3166")
    _sub(element, "DeliveryMethod", invoice.delivery_method)
    _sub(element, "DeliveryTerm", "")
    _sub(element, "PaymentTermNetDays", str((invoice.due_date - invoice.invoice_date).days))
    lines = _sub(_sub(element, "InvoiceLines"), "InvoiceLine")
    for row in invoice.rows:
        _row_element(lines, row)
    if process_history:
        history = _sub(element, "ProcessHistory")
        for event in invoice.history:
            entry = _sub(history, "ProcessHistoryLine")
            _sub(entry, "ProcessedTimeStamp", event.at.strftime("%Y-%m-%d %H:%M:%S"), format="ansi")
            _sub(entry, "MaterialTypeName", "Myyntilasku")
            _sub(entry, "UserName", "Rajapinta")
            _sub(entry, "ProcessChannelName", "Kommentti" if event.kind == "comment" else "Tila")
            _sub(entry, "ProcessStatus", event.text)
    if pdf:
        encoded = base64.b64encode(invoice_pdf(invoice)).decode("ascii")
        _sub(element, "LastSentInvoicePDFBase64Data", encoded)


def _row_element(parent: Element, row: SandboxRow) -> None:
    line = _sub(parent, "SalesInvoiceProductLine")
    _sub(line, "ProductIdentifier", row.product_code, type="customer")
    _sub(line, "ProductName", row.product_name)
    _sub(line, "ProductUnitPrice", comma(row.unit_price, 4), type="net")
    _sub(line, "ProductVatPercentage", percent(row.vat_percent), vatcode="KOMY")
    _sub(line, "SalesInvoiceProductLineQuantity", percent(row.quantity))
    _sub(line, "SalesInvoiceProductLineUnit", row.unit)
    _sub(line, "SalesInvoiceProductLineDiscountPercentage", "0")
    _sub(line, "SalesInvoiceProductLineFreeText", "")
    _sub(line, "SalesInvoiceProductLineVatSum", comma(row.vat))
    _sub(line, "SalesInvoiceProductLineSum", comma(row.gross))


def sales_invoice(
    invoice: SandboxInvoice | None, *, pdf: bool, process_history: bool, encoding: str
) -> bytes:
    """The single-invoice answer; a missing invoice is OK with an empty element."""
    root = _root()
    if invoice is None:
        _sub(root, "SalesInvoice")
    else:
        _invoice_element(root, invoice, pdf=pdf, process_history=process_history)
    return serialise(root, encoding)


def sales_invoices(
    invoices: list[SandboxInvoice], *, pdf: bool, process_history: bool, encoding: str
) -> bytes:
    """The ``netvisorkeylist`` answer: the invoices inside ``<SalesInvoices>``."""
    root = _root()
    container = _sub(root, "SalesInvoices")
    for invoice in invoices:
        _invoice_element(container, invoice, pdf=pdf, process_history=process_history)
    return serialise(root, encoding)


def customer(record: SandboxCustomer | None, encoding: str) -> bytes:
    root = _root()
    element = _sub(root, "Customer")
    if record is None:
        return serialise(root, encoding)
    base = _sub(element, "CustomerBaseInformation")
    _sub(base, "NetvisorKey", str(record.netvisor_key))
    _sub(base, "InternalIdentifier", record.code)
    _sub(base, "ExternalIdentifier", record.business_id or "")
    _sub(base, "CustomerGroupNetvisorKey", "1")
    _sub(base, "CustomerGroupName", "Asiakkaat")
    _sub(base, "Name", record.name)
    _sub(base, "NameExtension", record.name_extension or "")
    _sub(base, "StreetAddress", record.street_address)
    _sub(base, "AdditionalStreetAddress", "")
    _sub(base, "City", record.city)
    _sub(base, "PostNumber", record.post_number)
    _sub(base, "Country", record.country, type="ISO-3166")
    _sub(base, "PhoneNumber", record.phone or "")
    _sub(base, "FaxNumber", "")
    _sub(base, "Email", record.email or "")
    _sub(base, "EmailInvoicingAddress", record.email_invoicing_address or "")
    _sub(base, "HomePageUri", "")
    _sub(base, "IsActive", "1")
    finvoice = _sub(element, "CustomerFinvoiceDetails")
    _sub(finvoice, "FinvoiceAddress", record.finvoice_address or "")
    _sub(finvoice, "FinvoiceRouterCode", record.finvoice_router_code or "")
    return serialise(root, encoding)
