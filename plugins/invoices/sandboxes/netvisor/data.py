"""Records the Netvisor sandbox keeps, and Finnish demo data to fill it.

The demo is about a dozen unsent invoices from five E-tunnus users, dated relative
to today so the helpdesk demo looks live. Some are clean; the others each carry one
deliberate problem the invoice checks should catch (listed in ``DEMO_PROBLEMS``).
Every email address is in the example.com / example.fi domains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def reference_check_digit(base: str) -> str:
    """Finnish reference number check digit: weights 7, 3, 1 from the right."""
    if not base.isdigit():
        raise ValueError("reference base must be digits")
    weights = (7, 3, 1)
    total = sum(int(digit) * weights[i % 3] for i, digit in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def reference_for(invoice_number: str) -> str:
    """The invoice's reference number: the invoice number plus its check digit."""
    return invoice_number + reference_check_digit(invoice_number)


def money(value: Decimal) -> Decimal:
    """Round to cents, half up, as on a Finnish invoice."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class SandboxCustomer:
    """A customer register entry (getcustomer.nv)."""

    netvisor_key: int
    code: str
    name: str
    street_address: str
    post_number: str
    city: str
    business_id: str | None = None
    name_extension: str | None = None
    country: str = "FI"
    phone: str | None = None
    email: str | None = None
    email_invoicing_address: str | None = None
    finvoice_address: str | None = None
    finvoice_router_code: str | None = None


@dataclass
class SandboxRow:
    """A product line; the unit price is net of VAT."""

    product_name: str
    quantity: Decimal
    unit_price: Decimal
    vat_percent: Decimal
    product_code: str = "PALVELU"
    unit: str = "kpl"

    @property
    def net(self) -> Decimal:
        return money(self.quantity * self.unit_price)

    @property
    def vat(self) -> Decimal:
        return money(self.net * self.vat_percent / 100)

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


@dataclass
class SandboxHistoryEvent:
    """A process history line: a status change or a comment added through the API."""

    at: datetime
    text: str
    kind: str = "comment"


@dataclass
class SandboxInvoice:
    """A sales invoice as the sandbox serves it."""

    netvisor_key: int
    invoice_number: str
    invoice_date: date
    due_date: date
    reference_number: str
    customer: SandboxCustomer
    delivery_method: str
    rows: list[SandboxRow]
    status: str = "unsent"
    #: Set to make the invoice total disagree with its rows (a deliberate problem).
    amount_override: Decimal | None = None
    our_reference: str | None = None
    free_text_before_lines: str | None = None
    seller: str = "E-tunnus"
    last_modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    history: list[SandboxHistoryEvent] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        if self.amount_override is not None:
            return self.amount_override
        return sum((row.gross for row in self.rows), Decimal(0))

    @property
    def open_sum(self) -> Decimal:
        return Decimal(0) if self.status == "paid" else self.amount

    @property
    def etunnus_number(self) -> str:
        return self.invoice_number[:6]


@dataclass(frozen=True)
class EtunnusDemoUser:
    """An E-tunnus user whose invoices appear in the demo (the six-digit number prefixes them).

    The numbers and names are those of the core demo (``helpdesk.services.demo``), so that the
    invoices, tickets and user pages of ``make run`` tell one story.
    """

    number: str
    name: str
    email: str
    trade: str


DEMO_USERS: tuple[EtunnusDemoUser, ...] = (
    EtunnusDemoUser("100102", "Matti Virtanen", "matti.virtanen@example.fi", "valokuvaus"),
    EtunnusDemoUser("100233", "Aino Korhonen", "aino.korhonen@example.fi", "graafinen suunnittelu"),
    EtunnusDemoUser("100345", "Juha Mäkinen", "juha.makinen@example.fi", "remontointi"),
    EtunnusDemoUser("100478", "Sanna Nieminen", "sanna.nieminen@example.fi", "siivous"),
    EtunnusDemoUser("100512", "Pekka Hämäläinen", "pekka.hamalainen@example.com", "ohjelmointi"),
)
#: A prefix no E-tunnus user has: the invoice using it must be flagged.
UNKNOWN_ETUNNUS_NUMBER = "999901"

#: Invoice number -> the problem planted in it (clean invoices are absent).
DEMO_PROBLEMS: dict[str, str] = {
    "1003450003": "viitenumeron tarkiste on väärä",
    "1003450004": "sähköpostilasku, mutta asiakkaalla ei ole sähköpostiosoitetta",
    "1004780021": "postilasku, postinumerossa vain neljä numeroa",
    "1004780022": "verkkolasku ilman välittäjätunnusta",
    "1005120005": "ALV 24 % vuoden 2026 laskulla",
    "1005120006": "laskun summa ei täsmää rivien kanssa",
    "1001020009": "mahdollinen kaksoiskappale laskusta 1001020007",
    "9999010001": "tuntematon e-tunnus 999901",
}


def demo_customers() -> list[SandboxCustomer]:
    """The demo customer register: companies with valid Y-tunnus, and private persons."""
    return [
        SandboxCustomer(
            501,
            "A501",
            "Rakennus Virtanen & Poika Oy",
            "Teollisuuskatu 12",
            "33100",
            "Tampere",
            business_id="2734561-5",
            phone="03 123 4567",
            email="toimisto.rakennusvirtanen@example.fi",
            email_invoicing_address="laskut.rakennusvirtanen@example.fi",
        ),
        SandboxCustomer(
            502,
            "A502",
            "Kahvila Kultainen Kuppi Oy",
            "Aleksanterinkatu 8",
            "15110",
            "Lahti",
            business_id="3102847-9",
            email="kultainenkuppi@example.com",
        ),
        SandboxCustomer(
            503,
            "A503",
            "Saaristo Design Tmi",
            "Rantakatu 3 A 4",
            "20100",
            "Turku",
            business_id="2950316-2",
            email="info.saaristodesign@example.fi",
        ),
        SandboxCustomer(
            504,
            "A504",
            "Liisa Laaksonen",
            "Kalliokatu 5 B 12",
            "00530",
            "Helsinki",
            email="liisa.laaksonen@example.com",
        ),
        SandboxCustomer(
            505,
            "A505",
            "Pekka Heikkinen",
            "Hämeenpuisto 21 C 7",
            "3310",
            "Tampere",
            phone="040 765 4321",
        ),
        SandboxCustomer(
            506,
            "A506",
            "Äijälä Öljy Oy",
            "Satamatie 40",
            "90520",
            "Oulu",
            business_id="1876543-1",
            email="ostoreskontra.aijala@example.fi",
            finvoice_address="003718765431",
            finvoice_router_code="003721291126",
        ),
        SandboxCustomer(
            507,
            "A507",
            "Metsä-Pirkka Ky",
            "Sahantie 2",
            "37600",
            "Valkeakoski",
            business_id="3298105-0",
            finvoice_address="003732981050",
        ),
        SandboxCustomer(
            508,
            "A508",
            "Kaisa Lehtonen",
            "Koivukuja 3 as 2",
            "40520",
            "Jyväskylä",
        ),
        SandboxCustomer(
            509,
            "A509",
            "Asunto Oy Koivurinne",
            "Koivurinne 14",
            "02600",
            "Espoo",
            business_id="2468013-5",
            name_extension="c/o Isännöinti Lahtinen",
            email="isannointi.koivurinne@example.fi",
        ),
        SandboxCustomer(
            510,
            "A510",
            "Ville Järvinen",
            "Puistokatu 9",
            "70100",
            "Kuopio",
            email="ville.jarvinen@example.com",
        ),
    ]


def _row(name: str, quantity: str, unit_price: str, vat: str, unit: str = "h") -> SandboxRow:
    return SandboxRow(name, Decimal(quantity), Decimal(unit_price), Decimal(vat), unit=unit)


def _user_name(number: str) -> str:
    for user in DEMO_USERS:
        if user.number == number:
            return user.name
    return "Tuntematon käyttäjä"


def demo_invoices(
    customers: dict[int, SandboxCustomer], *, today: date | None = None
) -> list[SandboxInvoice]:
    """The demo invoices, all but one unsent, dated relative to ``today``."""
    day = today or date.today()
    now = datetime.now(UTC)
    invoices: list[SandboxInvoice] = []

    def add(
        number: str,
        customer_key: int,
        method: str,
        age_days: int,
        rows: list[SandboxRow],
        **extra: object,
    ) -> None:
        issued = day - timedelta(days=age_days)
        user = number[:6]
        invoice = SandboxInvoice(
            netvisor_key=1001 + len(invoices),
            invoice_number=number,
            invoice_date=issued,
            due_date=issued + timedelta(days=14),
            reference_number=reference_for(number),
            customer=customers[customer_key],
            delivery_method=method,
            rows=rows,
            our_reference=f"E-tunnus {user} / {_user_name(user)}",
            free_text_before_lines=f"Laskuttaja: {_user_name(user)} (e-tunnus {user})",
            last_modified=now - timedelta(days=age_days),
        )
        for name, value in extra.items():
            setattr(invoice, name, value)
        invoices.append(invoice)

    # Already sent a month ago: in Avoimet saatavat, not in the unsent list.
    add(
        "1001020006",
        504,
        "Sähköposti",
        30,
        [_row("Muotokuvakuvaus", "2", "85.00", "25.5")],
        status="open",
    )
    # Clean invoices, one per delivery method and spelling.
    add(
        "1001020007",
        501,
        "Posti",
        3,
        [
            _row("Työmaan valokuvaus", "6", "65.00", "25.5"),
            _row("Kuvankäsittely", "4", "55.00", "25.5"),
        ],
    )
    add(
        "1001020008",
        504,
        "Sähköposti",
        2,
        [
            _row("Hääkuvaus", "5", "80.00", "25.5"),
            _row("Valokuvakirja", "1", "120.00", "10", unit="kpl"),
            _row("Tekijänoikeuskorvaus (AVL 45 §)", "1", "150.00", "0", unit="kpl"),
        ],
    )
    add(
        "1002330012",
        506,
        "Verkkolasku",
        1,
        [
            _row("Logosuunnittelu", "12", "70.00", "25.5"),
            _row("Painotuotteiden taitto", "3", "60.00", "25.5"),
        ],
    )
    add(
        "1002330013",
        502,
        "sähköposti",
        1,
        [
            _row("Menukarttojen suunnittelu", "4", "62.50", "25.5"),
            _row("Kakkutarjoilu avajaisiin", "30", "4.50", "13.5", unit="kpl"),
        ],
    )
    # Problem invoices (see DEMO_PROBLEMS).
    add(
        "1003450003",
        509,
        "Posti",
        4,
        [
            _row("Porrashuoneen maalaus", "16", "48.00", "25.5"),
            _row("Tarvikkeet", "1", "212.40", "25.5", unit="erä"),
        ],
        reference_number="10034500030",
    )
    add(
        "1003450004",
        508,
        "Sähköposti",
        2,
        [_row("Kylpyhuoneen silikonointi", "3", "52.00", "25.5")],
    )
    add("1004780021", 505, "Posti", 2, [_row("Muuttosiivous", "5", "38.00", "25.5")])
    add(
        "1004780022",
        507,
        "Verkkolasku",
        1,
        [_row("Toimistosiivous, marraskuu", "12", "36.00", "25.5")],
    )
    add("1005120005", 503, "Email", 1, [_row("Verkkokaupan ylläpito", "10", "75.00", "24")])
    add(
        "1005120006",
        501,
        "Posti",
        0,
        [_row("Varausjärjestelmän ohjelmointi", "20", "82.00", "25.5")],
        amount_override=Decimal("2085.00"),
    )
    # Same user, customer and sum as 1001020007, three days later.
    add(
        "1001020009",
        501,
        "Posti",
        0,
        [
            _row("Työmaan valokuvaus", "6", "65.00", "25.5"),
            _row("Kuvankäsittely", "4", "55.00", "25.5"),
        ],
    )
    add("9999010001", 510, "Sähköposti", 0, [_row("Puutarhatyöt", "4", "40.00", "25.5")])
    return invoices
