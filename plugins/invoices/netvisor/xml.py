"""Reading Netvisor's XML answers and writing its request bodies.

Netvisor's element names are mixed case and not always consistent between
resources (``Invoicedate`` in the list, ``SalesInvoiceDate`` in the details), so the
lookups here ignore case. A missing element reads as ``None``; a present element
with text we cannot read (an amount that is not a number) is a protocol error, since
guessing an amount would be worse than stopping.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from .errors import UNREADABLE_DATA, NetvisorProtocolError, error_for_code

REQUEST_ENCODING = "ISO-8859-15"

Element = etree._Element


def _parser(encoding: str | None = None) -> etree.XMLParser:
    # No entities, no network, no DTD loading: the answer is data, never instructions.
    return etree.XMLParser(
        encoding=encoding,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,  # invoice PDFs arrive Base64-encoded inside the XML
        remove_blank_text=False,
    )


def parse_document(content: bytes) -> Element:
    """Parse an answer whatever encoding it declares; unreadable XML is a protocol error."""
    if not content.strip():
        raise NetvisorProtocolError("tyhjä vastaus", code="EMPTY_RESPONSE")
    try:
        return etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as first:
        # Some answers declare UTF-8 (or nothing) but are Latin-9; try that once.
        try:
            return etree.fromstring(content, _parser(REQUEST_ENCODING))
        except etree.XMLSyntaxError:
            raise NetvisorProtocolError(
                f"vastaus ei ole kelvollista XML:ää ({first})", code="MALFORMED_XML"
            ) from first


def local_name(element: Element) -> str:
    """The tag without a namespace, lower-cased."""
    tag = element.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return etree.QName(tag).localname.lower()


def children(element: Element | None, *names: str) -> list[Element]:
    """Child elements whose tag matches one of ``names``, ignoring case."""
    if element is None:
        return []
    wanted = {name.lower() for name in names}
    return [child for child in element if local_name(child) in wanted]


def child(element: Element | None, *names: str) -> Element | None:
    """The first child matching one of ``names`` (tried in the given order), or None."""
    for name in names:
        found = children(element, name)
        if found:
            return found[0]
    return None


def descend(element: Element | None, *path: str) -> Element | None:
    """Follow a path of child names, ignoring case."""
    for name in path:
        element = child(element, name)
        if element is None:
            return None
    return element


def element_text(element: Element | None) -> str | None:
    """Stripped text of an element; empty or missing gives None."""
    if element is None:
        return None
    value = "".join(str(part) for part in element.itertext()).strip()
    return value or None


def text(element: Element | None, *names: str) -> str | None:
    """Stripped text of the first child matching ``names``; empty or missing gives None."""
    return element_text(child(element, *names))


def attribute(element: Element | None, name: str) -> str | None:
    """An attribute value, ignoring the attribute name's case; empty gives None."""
    if element is None:
        return None
    for key, value in element.attrib.items():
        if str(key).lower() == name.lower():
            stripped = str(value).strip()
            return stripped or None
    return None


_SPACES = re.compile(r"[\s\u00a0\u202f]")


def parse_decimal(value: str | None) -> Decimal | None:
    """Netvisor's decimal-comma number (``244,00``) as a Decimal."""
    if value is None:
        return None
    cleaned = _SPACES.sub("", value).replace(",", ".")
    if not cleaned:
        return None
    try:
        number = Decimal(cleaned)
    except InvalidOperation as exc:
        raise NetvisorProtocolError(
            f"luku {value!r} ei ole kelvollinen", code=UNREADABLE_DATA
        ) from exc
    if not number.is_finite():
        raise NetvisorProtocolError(f"luku {value!r} ei ole kelvollinen", code=UNREADABLE_DATA)
    return number


def parse_date(value: str | None) -> date | None:
    """A ``format="ansi"`` date (``2026-11-24``); Finnish ``24.11.2026`` is accepted too."""
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value.strip()[:10], fmt).date()
        except ValueError:
            continue
    raise NetvisorProtocolError(f"päivämäärä {value!r} ei ole kelvollinen", code=UNREADABLE_DATA)


_TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
)


def parse_timestamp(value: str | None) -> datetime | None:
    """A ``format="ansi"`` date and time as a naive wall time; None when unreadable.

    Netvisor does not document the text of its ``ProcessedTimeStamp``; ANSI dates are
    ``2026-11-24``, so ``2026-11-24 13:05:09`` (fractions dropped) and a bare date are read,
    and so is the Finnish ``24.11.2026 13:05:09`` of the ``ResponseStatus``. Only shown to
    people, so an unknown form is kept as text rather than failing the invoice.
    """
    if value is None:
        return None
    text = value.strip().split(".")[0] if value.strip()[:4].isdigit() else value.strip()
    for fmt in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.strptime(text[:10], "%Y-%m-%d")
    except ValueError:
        return None


def parse_int(value: str | None) -> int | None:
    """An integer field; missing gives None, garbage is a protocol error."""
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError as exc:
        raise NetvisorProtocolError(
            f"kokonaisluku {value!r} ei ole kelvollinen", code=UNREADABLE_DATA
        ) from exc


def decimal_at(element: Element | None, *names: str) -> Decimal | None:
    """The decimal-comma number in the first child matching ``names``."""
    return parse_decimal(text(element, *names))


def date_at(element: Element | None, *names: str) -> date | None:
    """The date in the first child matching ``names``."""
    return parse_date(text(element, *names))


def int_at(element: Element | None, *names: str) -> int | None:
    """The integer in the first child matching ``names``."""
    return parse_int(text(element, *names))


def check_response_status(root: Element) -> None:
    """Raise the typed error when ``<ResponseStatus>`` says FAILED (missing: protocol error).

    A failure looks like ``<Status>FAILED</Status><Status>CODE :: message</Status>``.
    """
    if local_name(root) != "root":
        raise NetvisorProtocolError(
            f"odotettiin <Root>-elementtiä, saatiin <{root.tag}>", code="UNEXPECTED_SHAPE"
        )
    status = child(root, "ResponseStatus")
    statuses = [element_text(element) or "" for element in children(status, "Status")]
    if not statuses:
        raise NetvisorProtocolError("vastauksesta puuttuu ResponseStatus", code="UNEXPECTED_SHAPE")
    if statuses[0].upper() == "OK":
        return
    if statuses[0].upper() != "FAILED":
        raise NetvisorProtocolError(
            f"tuntematon vastauksen tila {statuses[0]!r}", code="UNEXPECTED_SHAPE"
        )
    detail = statuses[1] if len(statuses) > 1 else ""
    code, separator, message = detail.partition("::")
    if not separator:
        # No "CODE :: message": the whole text is either a bare code or a bare message.
        bare = detail.strip()
        if re.fullmatch(r"[A-Z_]+", bare):
            raise error_for_code(bare, "")
        raise error_for_code("", bare)
    raise error_for_code(code.strip(), message.strip())


def serialise_request(root: Element) -> bytes:
    """A request body in ISO-8859-15 with an XML declaration saying so."""
    body = etree.tostring(root, encoding=REQUEST_ENCODING, xml_declaration=True)
    return body if isinstance(body, bytes) else body.encode(REQUEST_ENCODING)
