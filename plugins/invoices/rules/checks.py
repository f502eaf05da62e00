"""Automatic checks run on each new invoice before the team forwards it.

The input is a plain, frozen snapshot (:class:`InvoiceForCheck`) so the checks stay pure:
whoever reads Netvisor fills it in, :func:`run_checks` returns one :class:`CheckResult` per
check with a reason in Finnish, shown to the agent as it is. Check names are stable
snake_case identifiers that other code may store and filter on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from stdnum.eu import vat as eu_vat
from stdnum.fi import ytunnus

from helpdesk.plugin_api import from_rf, invoice_number_parts, is_valid_reference, make_reference
from plugins.invoices.rules.formats import eur
from plugins.invoices.rules.validators import (
    METHOD_NAMES_FI,
    DeliveryMethod,
    fold,
    is_valid_einvoice_address,
    is_valid_email,
    is_valid_operator,
    parse_delivery_method,
    valid_vat_rates,
)

CENT = Decimal("0.01")
DUPLICATE_WINDOW = timedelta(days=7)

# --- input and output shapes ---------------------------------------------------------


@dataclass(frozen=True)
class RowForCheck:
    """One invoice row's amounts."""

    net: Decimal
    vat_percent: Decimal
    vat: Decimal
    gross: Decimal


@dataclass(frozen=True)
class OtherInvoice:
    """Another invoice of the same user, for duplicate detection."""

    number: str
    customer_name: str
    gross: Decimal
    invoice_date: date


@dataclass(frozen=True)
class InvoiceForCheck:
    """What the checks need to know about one invoice.

    ``delivery_method`` is for a caller that already knows the method; otherwise it is
    recognised from ``delivery_method_text`` (see :attr:`resolved_delivery_method`).
    """

    number: str
    reference: str = ""
    etunnus_known: bool = False
    delivery_method_text: str = ""
    delivery_method: DeliveryMethod | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    recipient_name: str = ""
    recipient_street: str = ""
    recipient_postcode: str = ""
    recipient_town: str = ""
    #: The country's name as Netvisor shows it, and its ISO 3166 code (may be empty).
    recipient_country: str = ""
    recipient_country_code: str = ""
    email: str = ""
    einvoice_address: str = ""
    einvoice_operator: str = ""
    business_id: str = ""
    rows: Sequence[RowForCheck] = ()
    total_net: Decimal = Decimal(0)
    total_vat: Decimal = Decimal(0)
    total_gross: Decimal = Decimal(0)
    customer_key: str = ""
    customer_name: str = ""
    other_invoices: Sequence[OtherInvoice] = field(default=())
    #: Netvisor's own words when it would not give the invoice or its customer (e.g. a
    #: customer deleted from its register); empty when everything was read.
    netvisor_error: str = ""
    #: Why an e-invoice could not be written as Finvoice (the writer's preflight, run by
    #: whoever fills this in: the rules know nothing of the format).
    einvoice_problems: Sequence[str] = ()

    @property
    def resolved_delivery_method(self) -> DeliveryMethod | None:
        """The delivery method given, else the one recognised in delivery_method_text."""
        if self.delivery_method is not None:
            return self.delivery_method
        return parse_delivery_method(self.delivery_method_text)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check; reason is Finnish text for the agent, also when ok."""

    name: str
    ok: bool
    reason: str


# --- formatting helpers for reasons -----------------------------------------------------


def _pct(rate: Decimal) -> str:
    text = format(rate.normalize(), "f")
    return text.replace(".", ",") + "\u00a0%"


def _day(value: date) -> str:
    return f"{value.day}.{value.month}.{value.year}"


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= CENT


# --- the checks ------------------------------------------------------------------------


def check_reference(inv: InvoiceForCheck) -> CheckResult:
    """The reference has a valid check digit and is the invoice number + check digit."""
    name = "reference"
    text = inv.reference.strip()
    if not text:
        return CheckResult(name, False, "Viitenumero puuttuu.")
    reference = from_rf(text) if text.upper().startswith("RF") else text.replace(" ", "")
    if reference is None or not is_valid_reference(reference):
        return CheckResult(name, False, f"Viitenumeron {text} tarkiste on väärä.")
    number = inv.number.strip()
    if invoice_number_parts(number) is None or len(number) > 19:
        return CheckResult(
            name, False, f"Viitenumeroa ei voi verrata, koska laskunumero {number} on virheellinen."
        )
    expected = make_reference(number)
    if reference.lstrip("0") != expected:
        return CheckResult(
            name,
            False,
            f"Viitenumero {text} ei vastaa laskunumeroa {number}; sen pitäisi olla {expected}.",
        )
    return CheckResult(name, True, "Viitenumero on oikein.")


def check_etunnus_prefix(inv: InvoiceForCheck) -> CheckResult:
    """The invoice number starts with the e-tunnus number of a known user."""
    name = "etunnus_prefix"
    parts = invoice_number_parts(inv.number)
    if parts is None:
        return CheckResult(
            name,
            False,
            f"Laskunumero {inv.number} ei ole muotoa e-tunnus (6 numeroa) + juokseva numero.",
        )
    etunnus, _ = parts
    if not inv.etunnus_known:
        return CheckResult(
            name, False, f"Laskunumeron alussa oleva e-tunnus {etunnus} ei ole tunnettu käyttäjä."
        )
    return CheckResult(name, True, f"Laskunumero alkaa käyttäjän e-tunnuksella {etunnus}.")


def check_delivery_method(inv: InvoiceForCheck) -> CheckResult:
    """The delivery method (Toimitustapa) is one the team can act on."""
    name = "delivery_method"
    method = inv.resolved_delivery_method
    if method is not None:
        return CheckResult(name, True, f"Toimitustapa on {METHOD_NAMES_FI[method].lower()}.")
    if not inv.delivery_method_text.strip():
        return CheckResult(name, False, "Toimitustapa puuttuu.")
    return CheckResult(
        name, False, f"Toimitustapaa ”{inv.delivery_method_text.strip()}” ei tunnistettu."
    )


def _is_finland(inv: InvoiceForCheck) -> bool:
    """The ISO code decides; without one, the name (Netvisor's customers are Finnish by default)."""
    code = inv.recipient_country_code.strip().upper()
    if code:
        return code == "FI"
    return fold(inv.recipient_country) in {"", "fi", "fin", "finland", "suomi"}


def check_delivery_data(inv: InvoiceForCheck) -> CheckResult:
    """The details the chosen delivery method needs are present and well formed."""
    name = "delivery_data"
    method = inv.resolved_delivery_method
    if method is None:
        return CheckResult(
            name, False, "Toimitustietoja ei voi tarkistaa, koska toimitustapaa ei tunnistettu."
        )
    if method == "post":
        missing = [
            label
            for label, value in (
                ("vastaanottajan nimi", inv.recipient_name),
                ("katuosoite", inv.recipient_street),
                ("postinumero", inv.recipient_postcode),
                ("postitoimipaikka", inv.recipient_town),
            )
            if not value.strip()
        ]
        if missing:
            return CheckResult(name, False, f"Postiosoitteesta puuttuu: {', '.join(missing)}.")
        postcode = inv.recipient_postcode.strip()
        if _is_finland(inv) and not re.fullmatch(r"\d{5}", postcode):
            return CheckResult(name, False, f"Postinumero {postcode} ei ole viisinumeroinen.")
        return CheckResult(name, True, "Postiosoite on täydellinen.")
    if method == "email":
        address = inv.email.strip()
        if not address:
            return CheckResult(name, False, "Vastaanottajan sähköpostiosoite puuttuu.")
        if not is_valid_email(address):
            return CheckResult(name, False, f"Sähköpostiosoite {address} ei ole kelvollinen.")
        return CheckResult(name, True, f"Sähköpostiosoite {address} on kelvollinen.")
    address = inv.einvoice_address.strip()
    operator = inv.einvoice_operator.strip()
    problems: list[str] = []
    if not address:
        problems.append("verkkolaskuosoite puuttuu")
    elif not is_valid_einvoice_address(address):
        problems.append(f"verkkolaskuosoite {address} ei ole kelvollinen OVT-tunnus tai IBAN")
    if not operator:
        problems.append("välittäjätunnus puuttuu")
    elif not is_valid_operator(operator):
        problems.append(f"välittäjätunnus {operator} ei ole kelvollinen OVT-tunnus tai BIC")
    if problems:
        return CheckResult(
            name, False, "Verkkolaskutiedoissa on vikaa: " + "; ".join(problems) + "."
        )
    return CheckResult(name, True, "Verkkolaskuosoite ja välittäjätunnus ovat kelvollisia.")


def check_sums(inv: InvoiceForCheck) -> CheckResult:
    """Each row adds up, VAT matches the rate, and the rows add up to the totals (1 cent)."""
    name = "sums"
    if not inv.rows:
        return CheckResult(name, False, "Laskulla ei ole rivejä.")
    problems: list[str] = []
    for index, row in enumerate(inv.rows, start=1):
        if not _close(row.net + row.vat, row.gross):
            problems.append(
                f"rivi {index}: veroton {eur(row.net)} + ALV {eur(row.vat)} "
                f"ei ole verollinen {eur(row.gross)}"
            )
        expected_vat = (row.net * row.vat_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        if not _close(expected_vat, row.vat):
            problems.append(
                f"rivi {index}: ALV {eur(row.vat)} ei vastaa verokantaa {_pct(row.vat_percent)} "
                f"(odotettu {eur(expected_vat)})"
            )
    totals = (
        ("veroton summa", sum((row.net for row in inv.rows), Decimal(0)), inv.total_net),
        ("ALV yhteensä", sum((row.vat for row in inv.rows), Decimal(0)), inv.total_vat),
        ("verollinen summa", sum((row.gross for row in inv.rows), Decimal(0)), inv.total_gross),
    )
    for label, rows_sum, total in totals:
        if not _close(rows_sum, total):
            problems.append(f"{label} {eur(total)} ei vastaa rivien summaa {eur(rows_sum)}")
    if not _close(inv.total_net + inv.total_vat, inv.total_gross):
        problems.append(
            f"veroton {eur(inv.total_net)} + ALV {eur(inv.total_vat)} "
            f"ei ole verollinen {eur(inv.total_gross)}"
        )
    if problems:
        return CheckResult(name, False, "Summat eivät täsmää: " + "; ".join(problems) + ".")
    return CheckResult(name, True, f"Summat täsmäävät ({eur(inv.total_gross)}).")


def check_vat_rates(inv: InvoiceForCheck) -> CheckResult:
    """Every row's VAT rate is in force on the invoice date."""
    name = "vat_rates"
    if inv.invoice_date is None:
        return CheckResult(
            name, False, "ALV-kantoja ei voi tarkistaa, koska laskun päivämäärä puuttuu."
        )
    allowed = valid_vat_rates(inv.invoice_date)
    wrong = sorted({row.vat_percent for row in inv.rows if row.vat_percent not in allowed})
    if wrong:
        listed = ", ".join(_pct(rate) for rate in wrong)
        valid = ", ".join(_pct(rate) for rate in sorted(allowed, reverse=True))
        return CheckResult(
            name,
            False,
            f"ALV-kanta {listed} ei ole voimassa {_day(inv.invoice_date)} (voimassa: {valid}).",
        )
    return CheckResult(name, True, "ALV-kannat ovat voimassa laskun päivämääränä.")


def check_due_date(inv: InvoiceForCheck) -> CheckResult:
    """The due date is there and not before the invoice date."""
    name = "due_date"
    if inv.due_date is None:
        return CheckResult(name, False, "Eräpäivä puuttuu.")
    if inv.invoice_date is None:
        return CheckResult(name, False, "Laskun päivämäärä puuttuu.")
    if inv.due_date < inv.invoice_date:
        return CheckResult(
            name,
            False,
            f"Eräpäivä {_day(inv.due_date)} on ennen laskun päivämäärää {_day(inv.invoice_date)}.",
        )
    return CheckResult(
        name, True, f"Eräpäivä {_day(inv.due_date)} ei ole ennen laskun päivämäärää."
    )


def check_business_id(inv: InvoiceForCheck) -> CheckResult:
    """A business ID, where given, is a valid Y-tunnus; a foreign customer's an EU VAT number."""
    name = "business_id"
    business_id = inv.business_id.strip()
    if not business_id:
        return CheckResult(name, True, "Y-tunnusta ei ole annettu.")
    if ytunnus.is_valid(business_id):
        return CheckResult(name, True, f"Y-tunnus {ytunnus.format(business_id)} on kelvollinen.")
    if not _is_finland(inv) and eu_vat.is_valid(business_id):
        # Netvisor's one identifier field holds a foreign customer's VAT number.
        return CheckResult(name, True, f"ALV-numero {eu_vat.compact(business_id)} on kelvollinen.")
    if not _is_finland(inv):
        return CheckResult(
            name, False, f"Tunnus {business_id} ei ole kelvollinen Y-tunnus eikä EU-ALV-numero."
        )
    return CheckResult(name, False, f"Y-tunnus {business_id} ei ole kelvollinen.")


def _same_customer(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def check_duplicate(inv: InvoiceForCheck) -> CheckResult:
    """No other invoice of the user to the same customer with the same sum within 7 days."""
    name = "duplicate"
    for other in inv.other_invoices:
        if other.number.strip() == inv.number.strip():
            continue
        if not _same_customer(other.customer_name, inv.customer_name):
            continue
        if not _close(other.gross, inv.total_gross):
            continue
        if inv.invoice_date is not None and (
            abs(other.invoice_date - inv.invoice_date) > DUPLICATE_WINDOW
        ):
            continue
        return CheckResult(
            name,
            False,
            f"Mahdollinen tuplalasku: lasku {other.number} samalle asiakkaalle "
            f"{other.customer_name}, {eur(other.gross)}, päivätty {_day(other.invoice_date)}.",
        )
    return CheckResult(
        name, True, "Samalle asiakkaalle ei ole samansuuruista laskua viikon sisällä."
    )


def check_netvisor_data(inv: InvoiceForCheck) -> CheckResult:
    """Netvisor gave the invoice and its customer; if not, its own message says why."""
    name = "netvisor_data"
    error = inv.netvisor_error.strip()
    if error:
        return CheckResult(name, False, f"Netvisor ei antanut kaikkia laskun tietoja: {error}")
    return CheckResult(name, True, "Laskun ja asiakkaan tiedot luettiin Netvisorista.")


def check_einvoice_message(inv: InvoiceForCheck) -> CheckResult:
    """An e-invoice can be written as a valid Finvoice message."""
    name = "einvoice_message"
    if inv.resolved_delivery_method != "einvoice":
        return CheckResult(name, True, "Ei verkkolasku: Finvoice-sanomaa ei tarvita.")
    if inv.einvoice_problems:
        problems = "; ".join(problem.rstrip(".") for problem in inv.einvoice_problems)
        return CheckResult(name, False, f"Verkkolaskua ei voi muodostaa: {problems}.")
    return CheckResult(name, True, "Verkkolaskusta voi muodostaa kelvollisen Finvoice-sanoman.")


CHECKS: tuple[Callable[[InvoiceForCheck], CheckResult], ...] = (
    check_reference,
    check_etunnus_prefix,
    check_delivery_method,
    check_delivery_data,
    check_sums,
    check_vat_rates,
    check_due_date,
    check_business_id,
    check_duplicate,
    check_netvisor_data,
    check_einvoice_message,
)


def run_checks(inv: InvoiceForCheck) -> list[CheckResult]:
    """Run every check on the invoice, in a stable order."""
    return [check(inv) for check in CHECKS]
