"""A broad generated set of invoices: each message is XSD-valid or refused, never invalid.

``CASES`` crosses names, addresses, row sets, references and routing (long, short and empty
names and addresses, foreign addresses, credit notes, many rows, each kind of 0 % VAT, unit
prices with 3 to 5 decimals, RF references, buyers with and without an e-invoice address);
the hypothesis test then throws arbitrary data at the writer. A refusal is a
FinvoiceRefused with reasons; a message the writer returns must pass validate_finvoice
(the XSD and the bank rules), and the writer raising FinvoiceInvalid fails the test.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from finvoice_samples import BUYER, invoice, row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.references import make_reference, to_rf
from plugins.invoices.finvoice import (
    FinvoiceBuyer,
    FinvoiceInvoice,
    FinvoiceRefused,
    FinvoiceRow,
    PostalAddress,
    build_finvoice,
    validate_finvoice,
)

D = Decimal

NAMES = {
    "ordinary": "Äijälän Sähkö ja Öljy Oy",
    "exactly 70": "N" * 70,
    "long": "Kevytyrittäjien Osuuskunta " * 6,
    "one letter": "A",
    "empty": "",
    "special characters": "Buy & Sell <Ltd> \"Ö\" 'Å' €",
}
ADDRESSES = {
    "ordinary": PostalAddress("Mäkikatu 1 A 2", "00100", "Helsinki"),
    "foreign": PostalAddress("Drottninggatan 5", "111 51", "Stockholm", "SE"),
    "long street": PostalAddress(
        "Pohjoisesplanadi 11-13 B 22, sisäpiha, porras C", "00170", "Helsinki"
    ),
    "street over 105": PostalAddress("Pitkäkatu " * 12, "00100", "Helsinki"),
    "empty": PostalAddress("", "", ""),
    "no town": PostalAddress("Katu 1", "00100", ""),
    "town over 35": PostalAddress("Katu 1", "00100", "Kaupunki" * 5),
}
ROW_SETS = {
    "standard rates": [row("200.00"), row("30.00", "13.5"), row("12.00", "10")],
    "credit note": [row("-200.00", quantity="-4", unit_price="50.00")],
    "many rows": [row(f"{n}.50", description=f"Rivi {n}") for n in range(1, 61)],
    "unit prices 3-5 decimals": [
        row("12.50", quantity="100", unit_price="0.125"),
        row("12.35", quantity="10", unit_price="1.2345"),
        row("12.34", quantity="1000", unit_price="0.01234"),
    ],
    **{
        f"0 % {code}": [row("100.00"), row("250.00", "0", code=code)]
        for code in ("Z", "E", "AE", "K", "G", "O")
    },
    "0 % without its kind": [row("250.00", "0")],
}
REFERENCES = {
    "Finnish": "1001020017",
    "RF": to_rf("1001020017"),
    "RF with letters": "RF82 ABC1 2345",
}
ROUTES = {
    "e-invoice address": ("003723327487", "003721291126"),
    "address, no operator": ("003723327487", ""),
    "no e-invoice address": ("", ""),
}


@dataclass(frozen=True)
class Case:
    """One generated invoice and what should become of it."""

    name: str
    address: str
    rows: str
    reference: str
    route: str

    def invoice(self) -> FinvoiceInvoice:
        address, operator = ROUTES[self.route]
        vat_number = "SE556703748501" if self.rows == "0 % K" else ""
        buyer = replace(
            BUYER,
            name=NAMES[self.name],
            address=ADDRESSES[self.address],
            einvoice_address=address,
            einvoice_operator=operator,
            vat_number=vat_number,
        )
        return invoice(buyer=buyer, rows=ROW_SETS[self.rows], reference=REFERENCES[self.reference])

    @property
    def should_refuse(self) -> bool:
        return (
            self.name in ("one letter", "empty")
            or self.address in ("street over 105", "empty", "no town", "town over 35")
            or self.rows == "0 % without its kind"
        )


CASES = [
    Case(*values) for values in itertools.product(NAMES, ADDRESSES, ROW_SETS, REFERENCES, ROUTES)
]


def outcome(inv: FinvoiceInvoice) -> tuple[bytes | None, FinvoiceRefused | None]:
    """The message, or the refusal; anything else (an invalid message) is raised."""
    try:
        return build_finvoice(inv), None
    except FinvoiceRefused as refused:
        return None, refused


def test_every_generated_invoice_is_valid_or_refused_for_its_reason() -> None:
    valid = refused = 0
    for case in CASES:
        xml, refusal = outcome(case.invoice())
        if xml is None:
            assert refusal is not None and case.should_refuse, (case, refusal)
            refused += 1
        else:
            assert not case.should_refuse, case
            assert validate_finvoice(xml) == [], case
            valid += 1
    assert (len(CASES), valid, refused) == (4158, 1080, 3078)


# --- arbitrary data ------------------------------------------------------------------------
# Arbitrary text, amounts, quantities and prices everywhere; on top of that up to two fields
# are drawn to be broken, so that valid messages and refusals are both common.

_letters = st.characters(blacklist_categories=("Cs",))
_text = st.text(_letters, max_size=130)
_fair = st.text(_letters, min_size=2, max_size=130).filter(
    lambda text: len("".join(text.split())) > 1
)
_town = st.text(_letters, min_size=2, max_size=35).filter(
    lambda text: len("".join(text.split())) > 1
)
_money = st.decimals(min_value=-99999, max_value=99999, places=2)
BREAKABLE = (
    "name", "street", "postcode", "town", "country", "reference", "number", "terms", "email",
    "einvoice", "vat_code", "vat_rate", "row_sum", "quantity", "vat_text", "no_rows",
)  # fmt: skip
GOOD_KINDS = [(D("25.5"), ""), (D("24"), "S"), (D("14"), ""), (D("13.5"), "S"), (D("10"), "")] + [
    (D(0), code) for code in ("Z", "E", "AE", "K", "G", "O", "ae")
]


@st.composite
def _rows(draw: st.DrawFn, broken: frozenset[str]) -> FinvoiceRow:
    rate, code = draw(st.sampled_from(GOOD_KINDS))
    if "vat_code" in broken:
        rate, code = draw(st.sampled_from([(D(0), ""), (D("25.5"), "Z"), (D(0), "ZEG")]))
    if "vat_rate" in broken:
        rate, code = D("7.1255"), "S"
    net = draw(_money)
    vat = D(0) if rate == 0 else (net * rate / 100).quantize(D("0.01"))
    places = draw(st.integers(5, 12) if "quantity" in broken else st.integers(0, 4))
    return FinvoiceRow(
        description=draw(_text),
        quantity=draw(st.decimals(min_value=-1000, max_value=100000, places=places)),
        unit_price=draw(
            st.decimals(min_value=-10000, max_value=10000, places=draw(st.integers(0, 7)))
        ),
        vat_percent=rate,
        net=net,
        vat=vat,
        gross=net + vat + (1 if "row_sum" in broken else 0),
        unit=draw(st.sampled_from(["kpl", "h", "", "kappaletta-pitkä-yksikkö"])),
        vat_code=code,
        vat_text="x" * 300 if "vat_text" in broken else draw(st.sampled_from(["", "AVL 8 c §"])),
        article_code=draw(st.sampled_from(["", "A-1", "x" * 80])),
    )


@st.composite
def _invoices(draw: st.DrawFn) -> FinvoiceInvoice:
    broken = frozenset(draw(st.sets(st.sampled_from(BREAKABLE), max_size=2)))

    def pick(field: str, good: st.SearchStrategy[str], bad: st.SearchStrategy[str]) -> str:
        return draw(bad if field in broken else good)

    base = str(draw(st.integers(100, 10**18)))
    good_references = st.sampled_from([make_reference(base), to_rf(make_reference(base))])
    buyer = FinvoiceBuyer(
        name=pick("name", _fair, st.sampled_from(["", " ", "A"])),
        address=PostalAddress(
            street=pick("street", _fair, st.sampled_from(["", "Katu " * 30])),
            postcode=pick(
                "postcode",
                st.sampled_from(["00100", "111 51", "D-10115"]),
                st.sampled_from(["", "1", "x" * 36]),
            ),
            town=pick("town", _town, st.sampled_from(["", "T" * 36])),
            country_code=pick(
                "country",
                st.sampled_from(["FI", "SE", "DE"]),
                st.sampled_from(["fi", "Sweden", ""]),
            ),
        ),
        business_id=draw(st.sampled_from(["2332748-7", "", "1234567-8"])),
        einvoice_address=pick(
            "einvoice", st.sampled_from(["", "003723327487", "FI4950009420028730"]), st.just("x")
        ),
        einvoice_operator=pick(
            "einvoice", st.sampled_from(["", "003721291126", "NDEAFIHH"]), st.just("y" * 36)
        ),
        email=pick("email", st.sampled_from(["", "lasku@example.fi"]), st.just("x" * 71)),
        vat_number=draw(st.sampled_from(["", "SE556703748501"])),
    )
    invoice_date = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 700)))
    rows = [] if "no_rows" in broken else draw(st.lists(_rows(broken), min_size=1, max_size=5))
    return invoice(
        buyer=buyer,
        rows=rows,
        reference=pick(
            "reference", good_references, st.sampled_from([base + "0", "", "RF00 1234"])
        ),
        number=pick(
            "number", st.sampled_from(["100102001", "X-12/2026"]), st.sampled_from(["1" * 21, ""])
        ),
        invoice_date=invoice_date,
        due_date=invoice_date + timedelta(days=draw(st.integers(0, 60))),
        payment_terms=pick("terms", st.sampled_from(["", "14 pv netto"]), st.just("ehto " * 40)),
    )


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(_invoices())
def test_arbitrary_invoices_are_valid_or_refused(inv: FinvoiceInvoice) -> None:
    xml, refused = outcome(inv)
    if xml is not None:
        assert validate_finvoice(xml) == []
    else:
        assert refused is not None and refused.refusals
        assert all(refusal.fi and refusal.en for refusal in refused.refusals)
