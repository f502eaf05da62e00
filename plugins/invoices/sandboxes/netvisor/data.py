"""The records the Netvisor sandbox keeps, and the Finnish demo data that fills it.

The demo is sixteen unsent invoices of five E-tunnus users (and one of an unknown user),
plus one sent a month ago, dated relative to today so that the helpdesk demo looks live.
Everything in it agrees with itself: every reference is the invoice number plus its check
digit, every business ID and OVT code has a valid check digit, every sum is its rows',
every row's VAT code fits its rate, and every email address is in example.com/example.fi.
The exceptions are deliberate, each listed in ``DEMO_PROBLEMS`` with the check that
should catch it.

How the sandbox keeps an invoice follows Netvisor's documents: the invoice carries its
own copy of the customer's invoicing details (the ``InvoicingCustomer*`` elements), while
getcustomer.nv answers from the customer register, so a customer deleted from the
register still shows on its invoices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

#: Names of the countries the demo uses, as Netvisor writes them beside the ISO code.
COUNTRY_NAMES = {"FI": "Finland", "SE": "Sweden", "EE": "Estonia", "DE": "Germany"}
#: Netvisor's sales VAT codes the demo uses (``ProductVatPercentage/@vatcode``).
DOMESTIC_SALES = "KOMY"
EU_SERVICE_SALES = "EUPM312"
CONSTRUCTION_REVERSE_CHARGE = "RAMY"
OTHER_VAT_FREE_TURNOVER = "MUUL"


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
    """A customer register entry (getcustomer.nv); ``country`` is its ISO 3166 code."""

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

    @property
    def country_name(self) -> str:
        """The country's name, the text Netvisor writes beside the code."""
        return COUNTRY_NAMES.get(self.country, self.country)

    @property
    def is_private(self) -> bool:
        return not self.business_id


@dataclass
class SandboxRow:
    """A product line; the unit price is net of VAT, ``vat_code`` Netvisor's VAT code."""

    product_name: str
    quantity: Decimal
    unit_price: Decimal
    vat_percent: Decimal
    product_code: str = "PALVELU"
    unit: str = "kpl"
    vat_code: str = DOMESTIC_SALES
    free_text: str = ""

    @property
    def net(self) -> Decimal:
        return money(self.quantity * self.unit_price)

    @property
    def vat(self) -> Decimal:
        return money(self.net * self.vat_percent / 100)

    @property
    def gross(self) -> Decimal:
        """``SalesInvoiceProductLineSum``: the row's sum with VAT."""
        return self.net + self.vat


@dataclass
class SandboxHistoryLine:
    """One line of the invoice's process history (``ProcessHistoryLine``).

    Netvisor documents the five parts but not their words; the sandbox's are its own.
    ``kind`` tells the sandbox's bookkeeping apart: ``comment`` (salesinvoicecomment.nv)
    or ``process`` (saving, sending, printing).
    """

    at: datetime
    material_type: str
    user: str
    channel: str
    status: str
    kind: str = "process"


#: How the sandbox words the lines it writes itself.
HISTORY_MATERIAL = "Myyntilasku"
HISTORY_COMMENT_MATERIAL = "Kommentti"
HISTORY_API_USER = "Rajapinta"
HISTORY_API_CHANNEL = "Rajapinta"


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
    history: list[SandboxHistoryLine] = field(default_factory=list)
    #: ``SalesInvoiceCommentLine``s among the rows (shown with showcommentlines=1).
    comment_lines: list[str] = field(default_factory=list)
    #: Whether Netvisor's print service sent it: then even the default pdfimage
    #: (``lastsentprintservice``) returns its image.
    printed: bool = False

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
#: The customer deleted from the register after its invoice was made.
DELETED_CUSTOMER_KEY = 511

#: Invoice number -> the problem planted in it (clean invoices are absent).
DEMO_PROBLEMS: dict[str, str] = {
    "1003450003": "viitenumeron tarkiste on väärä",
    "1003450004": "sähköpostilasku, mutta asiakkaalla ei ole sähköpostiosoitetta",
    "1004780021": "postilasku, postinumerossa vain neljä numeroa",
    "1004780022": "verkkolasku ilman välittäjätunnusta",
    "1004780023": "verkkolasku, asiakkaan katuosoite puuttuu (Finvoice vaatii sen)",
    "1005120005": "ALV 24 % vuoden 2026 laskulla",
    "1005120006": "laskun summa ei täsmää rivien kanssa",
    "1005120007": "asiakas on poistettu Netvisorin asiakasrekisteristä",
    "1001020009": "mahdollinen kaksoiskappale laskusta 1001020007",
    "9999010001": "tuntematon e-tunnus 999901",
}


def demo_customers() -> list[SandboxCustomer]:
    """The demo customer register: companies with valid business IDs, and private persons."""
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
            "3310",  # deliberate: four digits (DEMO_PROBLEMS 1004780021)
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
            finvoice_router_code="003721291126",  # Maventa
        ),
        SandboxCustomer(
            507,
            "A507",
            "Metsä-Pirkka Ky",
            "Sahantie 2",
            "37600",
            "Valkeakoski",
            business_id="3298105-0",
            finvoice_address="003732981050",  # deliberate: no operator (1004780022)
        ),
        SandboxCustomer(
            508,
            "A508",
            "Kaisa Lehtonen",
            "Koivukuja 3 as 2",
            "40520",
            "Jyväskylä",  # deliberate: no email (1003450004)
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
        SandboxCustomer(
            512,
            "A512",
            "Pirkan Rakennuspalvelu Oy",
            "Hatanpään valtatie 30",
            "33100",
            "Tampere",
            business_id="2871540-3",
            email="ostolaskut.pirkanrakennus@example.fi",
            finvoice_address="003728715403",
            finvoice_router_code="003723327487",  # Apix
        ),
        SandboxCustomer(
            513,
            "A513",
            "Nordljus Design AB",
            "Storgatan 12",
            "903 26",
            "Umeå",
            country="SE",
            # Netvisor's one identifier field holds a foreign customer's EU VAT number.
            business_id="SE559912345101",
            email="ekonomi.nordljus@example.com",
        ),
        SandboxCustomer(
            514,
            "A514",
            "Kuljetus Lahtinen Oy",
            "",  # deliberate: the street is missing (1004780023)
            "15100",
            "Lahti",
            business_id="2219870-8",
            finvoice_address="003722198708",
            finvoice_router_code="003723327487",
        ),
    ]


def deleted_customer() -> SandboxCustomer:
    """The customer of invoice 1005120007, no longer in the register (DEMO_PROBLEMS)."""
    return SandboxCustomer(
        DELETED_CUSTOMER_KEY,
        f"A{DELETED_CUSTOMER_KEY}",
        "Tmi Kaarina Salo",
        "Rinnekatu 1",
        "96100",
        "Rovaniemi",
        business_id="3126548-2",
        email="kaarina.salo@example.fi",
    )


def _row(
    name: str, quantity: str, unit_price: str, vat: str, unit: str = "h", **extra: str
) -> SandboxRow:
    return SandboxRow(
        name, Decimal(quantity), Decimal(unit_price), Decimal(vat), unit=unit, **extra
    )


def user_name(number: str) -> str:
    """The demo user's name for an e-tunnus number."""
    for user in DEMO_USERS:
        if user.number == number:
            return user.name
    return "Tuntematon käyttäjä"


def saved_line(at: datetime) -> SandboxHistoryLine:
    """The first line of every demo invoice: E-tunnus saved it through the API."""
    return SandboxHistoryLine(at, HISTORY_MATERIAL, "E-tunnus", HISTORY_API_CHANNEL, "Tallennettu")


def demo_invoices(
    customers: dict[int, SandboxCustomer], *, today: date | None = None
) -> list[SandboxInvoice]:
    """The demo invoices, all but one unsent, dated relative to ``today``."""
    day = today or date.today()
    invoices: list[SandboxInvoice] = []
    register = dict(customers)
    register.setdefault(DELETED_CUSTOMER_KEY, deleted_customer())

    def add(
        number: str,
        customer_key: int,
        method: str,
        age_days: int,
        rows: list[SandboxRow],
        **extra: object,
    ) -> SandboxInvoice:
        issued = day - timedelta(days=age_days)
        saved = datetime.combine(issued, time(9, 0), tzinfo=UTC) + timedelta(
            minutes=7 * len(invoices)
        )
        user = number[:6]
        invoice = SandboxInvoice(
            netvisor_key=1001 + len(invoices),
            invoice_number=number,
            invoice_date=issued,
            due_date=issued + timedelta(days=14),
            reference_number=reference_for(number),
            customer=register[customer_key],
            delivery_method=method,
            rows=rows,
            our_reference=f"E-tunnus {user} / {user_name(user)}",
            free_text_before_lines=f"Laskuttaja: {user_name(user)} (e-tunnus {user})",
            last_modified=saved,
            history=[saved_line(saved)],
        )
        for name, value in extra.items():
            setattr(invoice, name, value)
        invoices.append(invoice)
        return invoice

    # Sent by email a month ago: in Avoimet saatavat, not in the unsent list.
    sent = add(
        "1001020006",
        504,
        "Sähköposti",
        30,
        [_row("Muotokuvakuvaus", "2", "85.00", "25.5")],
        status="open",
    )
    sent.history.append(
        SandboxHistoryLine(
            sent.history[0].at + timedelta(hours=3),
            HISTORY_MATERIAL,
            "Asiakaspalvelu",
            "Sähköposti",
            "Lähetetty",
        )
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
            # Copyright fees of a photographer's own works are VAT-free turnover.
            _row(
                "Tekijänoikeuskorvaus (AVL 45 §)",
                "1",
                "150.00",
                "0",
                unit="kpl",
                vat_code=OTHER_VAT_FREE_TURNOVER,
            ),
        ],
        comment_lines=["Kiitos, että sain kuvata hääpäivänne!"],
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
        reference_number="10034500030",  # deliberate: the check digit is 5
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
    add(
        "1005120005",
        503,
        "Email",
        1,
        [_row("Verkkokaupan ylläpito", "10", "75.00", "24")],  # deliberate: 24 % in 2026
    )
    add(
        "1005120006",
        501,
        "Posti",
        0,
        [_row("Varausjärjestelmän ohjelmointi", "20", "82.00", "25.5")],
        amount_override=Decimal("2085.00"),  # deliberate: the rows make 2058.20
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
    # A foreign customer: the country's name beside its code, an EU service sale at 0 %.
    add(
        "1002330014",
        513,
        "Posti",
        1,
        [
            _row(
                "Logo- ja ilmesuunnittelu",
                "20",
                "92.00",
                "0",
                vat_code=EU_SERVICE_SALES,
                free_text="Käännetty verovelvollisuus / Reverse charge, VAT Directive art. 196",
            )
        ],
    )
    # A clean e-invoice with a 0 % row: construction services sold to a builder.
    add(
        "1003450005",
        512,
        "Verkkolasku",
        1,
        [
            _row(
                "Asuntojen maalaustyö",
                "24",
                "46.00",
                "0",
                vat_code=CONSTRUCTION_REVERSE_CHARGE,
                free_text="Rakentamispalvelun ostaja on verovelvollinen (AVL 8 c §)",
            ),
            _row("Maalit ja tarvikkeet", "1", "318.60", "25.5", unit="erä"),
        ],
    )
    add(
        "1004780023",
        514,
        "Verkkolasku",
        0,
        [_row("Varastosiivous", "6", "39.00", "25.5")],
    )
    add(
        "1005120007",
        DELETED_CUSTOMER_KEY,
        "Sähköposti",
        0,
        [_row("Kotisivujen päivitys", "4", "78.00", "25.5")],
    )
    return invoices
