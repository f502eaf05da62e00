"""The Finnish texts of sending invoices on: the invoice email and the notice to the user.

Each text has a built-in default; an admin may replace it on /admin/invoice-texts (stored
in ``InvoiceText``). Placeholders in braces are filled from the invoice and the dispatch;
an unknown placeholder is left as it is rather than failing a dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from helpdesk.plugin_api import (
    N_,
    Agent,
    NotFound,
    ServiceError,
    get_settings,
    record_audit,
    transaction,
    utcnow,
)
from plugins.invoices.models import Invoice, InvoiceText
from plugins.invoices.rules.formats import eur

INVOICE_EMAIL = "invoice_email"
USER_NOTICE = "user_notice"


@dataclass(frozen=True)
class TextDefault:
    """A built-in text and what its placeholders mean (shown on the admin page)."""

    title: str
    subject: str
    body: str
    placeholders: tuple[str, ...]


DEFAULTS: dict[str, TextDefault] = {
    INVOICE_EMAIL: TextDefault(
        title=N_("Invoice by email (to the invoice recipient)"),
        subject="Lasku {numero}",
        body=(
            "Hei,\n\n"
            "liitteenä lasku {numero}.\n\n"
            "Summa: {summa}\n"
            "Eräpäivä: {erapaiva}\n"
            "Viitenumero: {viite}\n\n"
            "Laskuttaja: {laskuttaja}\n\n"
            "Tämä lasku on lähetetty E-tunnus-palvelun kautta. Vastaathan tähän viestiin, "
            "jos laskussa on kysyttävää.\n\n"
            "Ystävällisin terveisin\nE-tunnus\nlaskut@e-tunnus.fi"
        ),
        placeholders=("numero", "summa", "erapaiva", "viite", "asiakas", "laskuttaja"),
    ),
    USER_NOTICE: TextDefault(
        title=N_("Notice to the user that the invoice was sent"),
        subject="Laskusi {numero} on lähetetty",
        body=(
            "Hei {nimi},\n\n"
            "Laskusi {numero} on lähetetty asiakkaallesi {tapa} {aika}.\n\n"
            "Lasku näkyy nyt avoimissa saatavissa.\n\n"
            "Ystävällisin terveisin\nE-tunnus asiakaspalvelu"
        ),
        placeholders=("nimi", "numero", "tapa", "aika", "asiakas", "summa"),
    ),
}


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, values: dict[str, Any]) -> str:
    """``template`` with ``{name}`` placeholders filled; unknown ones stay as written."""
    try:
        return template.format_map(_Keep(values))
    except (ValueError, IndexError, AttributeError):
        # A stray brace in an admin's text: send it as written rather than fail.
        return template


def local_time(moment: datetime) -> str:
    """``26.11.2026 klo 14.05`` in the team's time zone."""
    local = moment.astimezone(ZoneInfo(get_settings().timezone))
    return local.strftime("%d.%m.%Y klo %H.%M")


def how_sent(method: str, recipient: str) -> str:
    """How an invoice went, in Finnish: ``postitse``, ``sähköpostilla osoitteeseen x``."""
    if method == "email":
        return f"sähköpostilla osoitteeseen {recipient}"
    if method == "einvoice":
        return f"verkkolaskuna osoitteeseen {recipient}" if recipient else "verkkolaskuna"
    return "postitse"


def invoice_values(invoice: Invoice) -> dict[str, Any]:
    """Placeholders every text can use."""
    return {
        "numero": invoice.number,
        "summa": eur(invoice.gross_sum),
        "erapaiva": invoice.due_date.strftime("%d.%m.%Y") if invoice.due_date else "",
        "viite": invoice.reference,
        "asiakas": invoice.customer_name,
        "laskuttaja": f"E-tunnus {invoice.etunnus}" if invoice.etunnus else "E-tunnus",
    }


def get_text(session: Session, key: str) -> tuple[str, str]:
    """(subject, body) of a text: the admin's version, else the default."""
    default = DEFAULTS.get(key)
    if default is None:
        raise NotFound(N_("No such text"))
    stored = session.get(InvoiceText, key)
    if stored is not None and stored.body.strip():
        return stored.subject or default.subject, stored.body
    return default.subject, default.body


def render_text(session: Session, key: str, values: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) with the placeholders filled."""
    subject, body = get_text(session, key)
    return fill(subject, values), fill(body, values)


def save_text(session: Session, *, key: str, subject: str, body: str, by: Agent) -> InvoiceText:
    """Store an admin's version of a text (audited); an empty body restores the default."""
    if key not in DEFAULTS:
        raise NotFound(N_("No such text"))
    if len(subject) > 250:
        raise ServiceError(N_("The subject is too long"))
    with transaction(session):
        row = session.get(InvoiceText, key) or InvoiceText(key=key)
        row.subject = subject.strip()
        row.body = body.replace("\r\n", "\n").strip()
        row.updated_by = by.id
        row.updated_at = utcnow()
        session.add(row)
        record_audit(
            session, action="invoices.text", agent=by, object_type="invoice_text", object_id=key
        )
    return row
