"""The one gate every dispatch passes: the invoice's checks, run again at send time.

``start_dispatch`` calls :func:`gate` inside its unit of work with the invoice locked, and
it is the only code that creates a dispatch, so the invoice page, the ticket sidebar, the
API and "send all clean" (``batch``) cannot send past it. The checks are recomputed from
what is stored now (never taken from a form or from the queue's last sync): an invoice
with a failing check goes only with the agent's ``override_reason`` (trimmed, non-empty,
at most :data:`OVERRIDE_REASON_MAX` characters), which the invoice's history keeps with
the agent and the time. A Korjattava invoice never goes.

The checks' view of a stored invoice (:func:`for_check`, :func:`einvoice_problems`,
:func:`earlier_invoices`) lives here too, so that the sync and the gate check alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, select

from helpdesk.plugin_api import N_, Conflict, EtunnusUser, ServiceError
from plugins.invoices.dispatch.einvoice import finvoice_input
from plugins.invoices.finvoice import FinvoiceRefused, refusals_for
from plugins.invoices.models import DeliveryMethod, Invoice, InvoiceStatus
from plugins.invoices.rules.checks import (
    CheckResult,
    InvoiceForCheck,
    OtherInvoice,
    RowForCheck,
    run_checks,
)

#: The longest reason an agent may give for sending past failing checks.
OVERRIDE_REASON_MAX = 500
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")  # and lone surrogates


class ChecksFailed(Conflict):
    """The invoice has failing checks and no reason was given to send it anyway."""

    def __init__(self, failed: Sequence[CheckResult]) -> None:
        super().__init__(
            N_("The invoice has failing checks: give a reason to send it anyway"),
            code="checks_failed",
        )
        self.failed = list(failed)


@dataclass(frozen=True)
class Clearance:
    """The gate let the invoice through; ``failed`` is non-empty when overridden."""

    failed: list[CheckResult]
    override_reason: str | None

    @property
    def overridden(self) -> bool:
        return bool(self.failed)


def reason_text(reason: str | None) -> str:
    """An agent's reason trimmed, without control characters (PostgreSQL stores no NUL)
    but line breaks and tabs; ServiceError when it is longer than OVERRIDE_REASON_MAX."""
    text = CONTROL.sub("", reason or "").strip()
    if len(text) > OVERRIDE_REASON_MAX:
        raise ServiceError(
            N_("The reason is too long (at most 500 characters)"), code="override_reason_too_long"
        )
    return text


def gate(session: Session, invoice: Invoice, *, override_reason: str | None) -> Clearance:
    """Whether the invoice may be sent now, or the refusal raised.

    Inside ``start_dispatch``'s unit with the invoice locked (the caller has made sure no
    dispatch is active). Refuses a Korjattava invoice and one not waiting in the queue,
    and one with a failing check unless ``override_reason`` is given.
    """
    if invoice.status == InvoiceStatus.korjattava:
        raise Conflict(
            N_("The invoice is Korjattava: it waits for the user's corrections"), code="korjattava"
        )
    if invoice.status != InvoiceStatus.unsent:
        raise Conflict(N_("The invoice is not waiting to be sent"), code="not_unsent")
    reason = reason_text(override_reason)
    failed = [check for check in checks_now(session, invoice) if not check.ok]
    if failed and not reason:
        raise ChecksFailed(failed)
    return Clearance(failed, reason if failed else None)


# --- the checks' view of a stored invoice -------------------------------------------------


def checks_now(session: Session, invoice: Invoice) -> list[CheckResult]:
    """The invoice's checks as they come out now, from what is stored (reads only)."""
    known = (
        session.exec(select(EtunnusUser.id).where(EtunnusUser.etunnus == invoice.etunnus)).first()
        is not None
    )
    siblings = session.exec(select(Invoice).where(Invoice.etunnus == invoice.etunnus)).all()
    return checks_for(invoice, etunnus_known=known, others=earlier_invoices(invoice, siblings))


def checks_for(
    invoice: Invoice, *, etunnus_known: bool, others: list[OtherInvoice]
) -> list[CheckResult]:
    """Every check on a stored invoice (the sync's and the gate's one way to run them)."""
    return run_checks(for_check(invoice, etunnus_known, others, einvoice_problems(invoice)))


def earlier_invoices(invoice: Invoice, candidates: Iterable[Invoice]) -> list[OtherInvoice]:
    """The user's invoices the duplicate check compares ``invoice`` with."""
    return [
        OtherInvoice(o.number, o.customer_name, o.gross_sum, o.invoice_date)
        for o in candidates
        # Only earlier invoices: the later one of a pair is the possible duplicate.
        if o.etunnus == invoice.etunnus
        and o.netvisor_key < invoice.netvisor_key
        and o.invoice_date is not None
    ]


def for_check(
    invoice: Invoice,
    etunnus_known: bool,
    others: list[OtherInvoice],
    einvoice_problems: Sequence[str] = (),
) -> InvoiceForCheck:
    """The checks' view of a stored invoice (``einvoice_problems``: :func:`einvoice_problems`)."""
    return InvoiceForCheck(
        number=invoice.number,
        reference=invoice.reference,
        etunnus_known=etunnus_known,
        delivery_method_text=invoice.delivery_method_text,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        recipient_name=invoice.customer_name,
        recipient_street=invoice.customer_address,
        recipient_postcode=invoice.customer_postcode,
        recipient_town=invoice.customer_town,
        recipient_country=invoice.customer_country,
        recipient_country_code=invoice.customer_country_code,
        email=invoice.email,
        einvoice_address=invoice.einvoice_address,
        einvoice_operator=invoice.einvoice_operator,
        business_id=invoice.business_id,
        rows=[
            RowForCheck(
                net=Decimal(row["net"]),
                vat_percent=Decimal(row["vat_percent"]),
                vat=Decimal(row["vat"]),
                gross=Decimal(row["gross"]),
            )
            for row in invoice.rows
        ],
        total_net=invoice.net_sum,
        total_vat=invoice.vat_sum,
        total_gross=invoice.gross_sum,
        customer_key=str(invoice.customer_key or ""),
        customer_name=invoice.customer_name,
        other_invoices=others,
        netvisor_error=invoice.sync_error,
        einvoice_problems=tuple(einvoice_problems),
    )


def einvoice_problems(invoice: Invoice) -> list[str]:
    """Why the Finvoice writer would refuse this invoice, in Finnish; [] if it would not.

    Only for an invoice going out as an e-invoice: the same input and preflight the
    dispatch uses (``einvoice.finvoice_input``, ``finvoice.refusals_for``), run before
    anyone clicks, so that the queue shows the refusals as a failed check.
    """
    if invoice.delivery_method != DeliveryMethod.einvoice:
        return []
    if invoice.invoice_date is None:
        return ["Laskun päivämäärä puuttuu"]
    try:
        return [refusal.fi for refusal in refusals_for(finvoice_input(invoice))]
    except FinvoiceRefused as refused:
        return [refusal.fi for refusal in refused.refusals]
    except ValueError as exc:  # the writer's input cannot be made at all
        return [str(exc)]
