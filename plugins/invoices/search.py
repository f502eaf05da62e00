"""Finding invoices: by number, reference (any printed form), customer name, sum, or the
team's habit ``100102%`` (a trailing ``%`` means "starts with": all invoices of user 100102).

User input never becomes LIKE syntax: ``%``, ``_`` and ``\\`` are escaped, and only a
single trailing ``%`` is read as the prefix wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from helpdesk.plugin_api import fold_accents, from_rf
from plugins.invoices.models import Invoice

LIKE_ESCAPE = "\\"
_AMOUNT = re.compile(r"^(?:\d{1,3}(?:[ \u00a0]\d{3})+|\d+)(?:[.,]\d{1,2})?$")


def name_key(text: str) -> str:
    """A customer's name as stored for search: lower case, without accents, spaces kept.

    The same folding is applied to what the agent types, so ``makinen`` finds Mäkinen,
    ``mäkinen`` still does, and ``hamalainen`` finds Hämäläinen."""
    return fold_accents(" ".join(text.split()))


def escape_like(text: str) -> str:
    """Escape LIKE's special characters so that text matches only itself."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def parse_amount(text: str) -> Decimal | None:
    """``244,00``, ``244.00``, ``1 244,5`` or ``244 €`` as a Decimal, else None."""
    cleaned = text.replace("€", "").replace("EUR", "").strip()
    if not _AMOUNT.match(cleaned):
        return None
    try:
        return Decimal(cleaned.replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except InvalidOperation:
        return None


def _reference_forms(text: str) -> set[str]:
    compact = "".join(text.split()).upper()
    forms = {compact}
    if compact.startswith("RF"):
        finnish = from_rf(compact)
        if finnish:
            forms.add(finnish)
    return forms


def conditions(q: str) -> list[ColumnElement[bool]]:
    """The OR-ed conditions a free-text query means."""
    query = q.strip()
    if not query:
        return []
    if query.endswith("%") and len(query) > 1 and not query.endswith(LIKE_ESCAPE + "%"):
        prefix = escape_like(query[:-1].strip())
        return [
            col(Invoice.number).like(prefix.replace(" ", "") + "%", escape=LIKE_ESCAPE),
            # The user's invoices even where a number does not begin with the user's.
            col(Invoice.etunnus).like(prefix.replace(" ", "") + "%", escape=LIKE_ESCAPE),
            col(Invoice.customer_name_search).like(name_key(prefix) + "%", escape=LIKE_ESCAPE),
        ]
    found: list[ColumnElement[bool]] = []
    compact = "".join(query.split())
    if compact.isdigit():
        found.append(col(Invoice.number).like(f"%{compact}%", escape=LIKE_ESCAPE))
        found.append(col(Invoice.etunnus) == compact)
    forms = _reference_forms(query)
    if any(f.isdigit() or f.startswith("RF") for f in forms):
        found.append(col(Invoice.reference).in_(sorted(forms)))
    amount = parse_amount(query)
    if amount is not None:
        found.append(col(Invoice.gross_sum) == amount)
    found.append(
        col(Invoice.customer_name_search).like(
            "%" + escape_like(name_key(query)) + "%", escape=LIKE_ESCAPE
        )
    )
    return found


def search_invoices(
    session: Session,
    *,
    q: str | None = None,
    status: str | None = None,
    user: str | None = None,
    limit: int = 200,
) -> Sequence[Invoice]:
    """Invoices matching the query and filters, the most urgent first."""
    statement: Any = select(Invoice)
    if q and q.strip():
        statement = statement.where(or_(*conditions(q)))
    if status:
        statement = statement.where(Invoice.status == status)
    if user:
        statement = statement.where(Invoice.etunnus == user.strip())
    statement = statement.order_by(col(Invoice.deadline_at).desc(), col(Invoice.id).desc())
    found: Sequence[Invoice] = session.exec(statement.limit(max(1, min(limit, 500)))).all()
    return found
