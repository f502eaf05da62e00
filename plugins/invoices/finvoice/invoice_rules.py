"""The rules of a Finvoice invoice that the XSD cannot express: type, dates, totals, VAT.

From Finance Finland's implementation guideline (GL, sections cited) and data list (DL):
INV02 is a credit note with a negative total and its UN code, dates are calendar days, the
totals follow the calculation rules of GL 14, and every VAT category keeps its rules
(:mod:`plugins.invoices.finvoice.vat`). Values the schema rejects are skipped, not
reported twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from lxml import etree

from plugins.invoices.finvoice.bank_rules import (
    INSTRUCTION,
    Rule,
    number_of,
    problem,
    text_of,
)
from plugins.invoices.finvoice.problems import FinvoiceProblem
from plugins.invoices.finvoice.vat import (
    NEEDS_BUYER_VAT_NUMBER,
    NEEDS_GROUNDS,
    UNCL5305,
    ZERO_RATED,
)

#: UN/CEFACT 1001 codes of credit notes (EN 16931's list): the pair of INV02.
CREDIT_NOTE_UN = frozenset({"81", "83", "381", "396", "532"})


def type_rule(root: etree._Element) -> Iterator[FinvoiceProblem]:
    """INV02 is a credit note with a negative total and a credit note's UN code (GL 10.5-10.7)."""
    details = root.find("InvoiceDetails")
    if details is None:
        return
    type_code = details.find("InvoiceTypeCode")
    code = text_of(type_code)
    un_element = details.find("InvoiceTypeCodeUN")
    un = text_of(un_element)
    total = number_of(details.find("InvoiceTotalVatIncludedAmount"))
    if code == "INV02" and type_code is not None:
        if total is not None and total >= 0:
            yield problem(type_code, "a credit note (INV02) always has a negative total (GL 10.5)")
        if un_element is not None and un not in CREDIT_NOTE_UN:
            yield problem(un_element, f"INV02 is a credit note; the UN code {un} is not (use 381)")
    elif code == "INV01" and un_element is not None and un in CREDIT_NOTE_UN:
        yield problem(un_element, f"INV01 is an invoice; the UN code {un} is a credit note's")
    origin = details.find("OriginCode")
    if text_of(origin) == "Cancel" and code != "INV02" and origin is not None:
        yield problem(origin, "OriginCode Cancel is only for a credit note, INV02 (GL 10.7)")


def date_rule(root: etree._Element) -> Iterator[FinvoiceProblem]:
    """Dates are real calendar days, and the payment's due date is the invoice's (DL)."""
    for element in root.iter():
        if isinstance(element.tag, str) and element.get("Format") == "CCYYMMDD":
            text = text_of(element)
            try:
                datetime.strptime(text, "%Y%m%d")
            except ValueError:
                yield problem(element, f"{text} is not a calendar date (CCYYMMDD)")
    epi_due = root.find(f"{INSTRUCTION}/EpiDateOptionDate")
    terms_due = root.find("InvoiceDetails/PaymentTermsDetails/InvoiceDueDate")
    if epi_due is not None and terms_due is not None and text_of(epi_due) != text_of(terms_due):
        yield problem(epi_due, "EpiDateOptionDate differs from the due date InvoiceDueDate")


def _rows(root: etree._Element) -> list[etree._Element]:
    # An InvoiceRow holding only SubInvoiceRows is a subtotal, never part of totals (GL 11).
    return [row for row in root.iterfind("InvoiceRow") if row.find("SubInvoiceRow") is None]


def _sum(elements: list[etree._Element | None]) -> Decimal | None:
    numbers = [number_of(element) for element in elements]
    if any(number is None for number in numbers):
        return None
    return sum((number for number in numbers if number is not None), Decimal(0))


def _adds_up(total: etree._Element | None, parts: list[Decimal | None]) -> bool:
    """True unless the total and its parts are all readable and the sum differs."""
    value = number_of(total)
    if total is None or value is None or any(part is None for part in parts):
        return True
    return value == sum((part for part in parts if part is not None), Decimal(0))


def totals_rule(root: etree._Element) -> Iterator[FinvoiceProblem]:
    """Totals follow the guideline's calculation rules (GL 14)."""
    details = root.find("InvoiceDetails")
    if details is None:
        return
    rows = _rows(root)
    for row in rows:
        amount = row.find("RowAmount")
        parts = [number_of(row.find("RowVatExcludedAmount")), number_of(row.find("RowVatAmount"))]
        if amount is not None and not _adds_up(amount, parts):
            yield problem(amount, "RowAmount is not RowVatExcludedAmount + RowVatAmount")
    net = details.find("InvoiceTotalVatExcludedAmount")
    vat = details.find("InvoiceTotalVatAmount")
    gross = details.find("InvoiceTotalVatIncludedAmount")
    if gross is not None and not _adds_up(gross, [number_of(net), number_of(vat)]):
        yield problem(
            gross,
            "InvoiceTotalVatIncludedAmount is not InvoiceTotalVatExcludedAmount"
            " + InvoiceTotalVatAmount",
        )
    rows_net = _sum([row.find("RowVatExcludedAmount") for row in rows]) if rows else None
    rows_total = details.find("RowsTotalVatExcludedAmount")
    if rows_total is not None and not _adds_up(rows_total, [rows_net]):
        yield problem(rows_total, f"RowsTotalVatExcludedAmount is not the rows' sum {rows_net}")
    discounts = number_of(details.find("DiscountsTotalVatExcludedAmount")) or Decimal(0)
    charges = number_of(details.find("ChargesTotalVatExcludedAmount")) or Decimal(0)
    if net is not None and not _adds_up(net, [rows_net, -discounts, charges]):
        yield problem(
            net,
            f"InvoiceTotalVatExcludedAmount is not the rows' RowVatExcludedAmount {rows_net}"
            " less discounts plus charges",
        )
    specifications = details.findall("VatSpecificationDetails")
    spec_vat = _sum([spec.find("VatRateAmount") for spec in specifications])
    if specifications and vat is not None and not _adds_up(vat, [spec_vat]):
        yield problem(vat, f"InvoiceTotalVatAmount is not the VatRateAmounts' sum {spec_vat}")
    yield from _instructed_amount(root, details, number_of(gross))


def _instructed_amount(
    root: etree._Element, details: etree._Element, total: Decimal | None
) -> Iterator[FinvoiceProblem]:
    instructed = root.find(f"{INSTRUCTION}/EpiInstructedAmount")
    amount = number_of(instructed)
    if instructed is None or amount is None or total is None:
        return
    due = total - (number_of(details.find("InvoicePaidAmount")) or Decimal(0))
    roundoff = number_of(details.find("InvoiceTotalRoundoffAmount")) or Decimal(0)
    if amount not in (due, due + roundoff):
        yield problem(
            instructed,
            f"EpiInstructedAmount {amount} is not the total less what is paid ({due}) (GL 14)",
        )


def _category_problems(
    element: etree._Element, code: str, rate: etree._Element | None, vat: etree._Element | None
) -> Iterator[FinvoiceProblem]:
    percent = number_of(rate)
    if code not in UNCL5305:
        yield problem(element, f"{code} is not a UN/CEFACT 5305 VAT category code")
    elif code == "S" and (percent is None or percent <= 0):
        yield problem(element, "the standard rate (S) needs a VAT rate above 0 %")
    elif code in ZERO_RATED and percent is not None and percent != 0:
        yield problem(element, f"VAT category {code} is a 0 % sale, not {percent} %")
    elif code == "O" and percent is not None and percent != 0:
        yield problem(element, "a sale outside the scope of VAT (O) carries no VAT rate")
    if code in ZERO_RATED | {"O"} and (number_of(vat) or 0) != 0:
        yield problem(element, f"a sale of VAT category {code} carries no VAT amount")


def vat_rule(root: etree._Element) -> Iterator[FinvoiceProblem]:
    """VAT categories are consistent with rates, state their grounds, and match the rows."""
    buyer_vat_number = text_of(root.find("BuyerPartyDetails/BuyerOrganisationTaxCode"))
    specifications = root.findall("InvoiceDetails/VatSpecificationDetails")
    for spec in specifications:
        code_element = spec.find("VatCode")
        if code_element is None:
            continue
        code = text_of(code_element)
        yield from _category_problems(
            code_element, code, spec.find("VatRatePercent"), spec.find("VatRateAmount")
        )
        grounds = [text_of(text) for text in spec.iterfind("VatFreeText")]
        if (
            code in NEEDS_GROUNDS
            and not any(grounds)
            and spec.find("VatExemptionReasonCode") is None
        ):
            yield problem(
                code_element,
                f"a sale of VAT category {code} states its grounds in VatFreeText (GL 10.4)",
            )
        if code in NEEDS_BUYER_VAT_NUMBER and not buyer_vat_number:
            yield problem(
                code_element,
                f"VAT category {code} needs the buyer's VAT number (BuyerOrganisationTaxCode, DL)",
            )
    for row in _rows(root):
        code_element = row.find("RowVatCode")
        if code_element is not None:
            yield from _category_problems(
                code_element,
                text_of(code_element),
                row.find("RowVatRatePercent"),
                row.find("RowVatAmount"),
            )
    yield from _breakdown_problems(root, specifications)


#: A VAT class's totals and the row amounts they add up.
PAIRS = (("VatBaseAmount", "RowVatExcludedAmount"), ("VatRateAmount", "RowVatAmount"))


def _breakdown_problems(
    root: etree._Element, specifications: list[etree._Element]
) -> Iterator[FinvoiceProblem]:
    """VatBaseAmount and VatRateAmount are the rows' sums per VAT class (GL 14)."""
    rows = [row for row in _rows(root) if row.find("RowVatExcludedAmount") is not None]
    details = root.find("InvoiceDetails")
    if not rows or not specifications or details is None:
        return
    by_code = all(text_of(row.find("RowVatCode")) for row in rows) and all(
        text_of(spec.find("VatCode")) for spec in specifications
    )

    def key(element: etree._Element, code: str, rate: str) -> tuple[str, Decimal | None]:
        return (text_of(element.find(code)) if by_code else "", number_of(element.find(rate)))

    row_sums: dict[tuple[str, Decimal | None], list[etree._Element]] = {}
    for row in rows:
        row_sums.setdefault(key(row, "RowVatCode", "RowVatRatePercent"), []).append(row)
    spec_sums: dict[tuple[str, Decimal | None], list[etree._Element]] = {}
    for spec in specifications:
        spec_sums.setdefault(key(spec, "VatCode", "VatRatePercent"), []).append(spec)
    for group, grouped in row_sums.items():
        label = " ".join(str(part) for part in group if part not in ("", None)) or "without rate"
        specs = spec_sums.get(group)
        if specs is None:
            yield problem(details, f"no VatSpecificationDetails for the rows of VAT class {label}")
            continue
        for spec_tag, row_tag in (
            ("VatBaseAmount", "RowVatExcludedAmount"),
            ("VatRateAmount", "RowVatAmount"),
        ):
            spec_total = _sum([spec.find(spec_tag) for spec in specs])
            row_total = _sum([row.find(row_tag) for row in grouped])
            if None not in (spec_total, row_total) and spec_total != row_total:
                yield problem(
                    specs[0], f"{spec_tag} {spec_total} is not the rows' {row_tag} sum {row_total}"
                )


INVOICE_RULES: tuple[Rule, ...] = (type_rule, date_rule, totals_rule, vat_rule)
