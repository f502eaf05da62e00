"""Invoices seen in Netvisor, their history, and the sync state.

``Invoice.status`` is ours, not Netvisor's: ``unsent`` is the queue; ``left_netvisor``
means the invoice left Netvisor's unsent list by other means (someone sent it in Netvisor
itself); ``korjattava`` waits for the user's corrections (the deadline paused);
``dispatching`` has an active dispatch, ``sent`` went out and ``finalised`` is open in
Netvisor.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Numeric, String, Text
from sqlmodel import Field, SQLModel

from helpdesk.plugin_api import json_field, ts_field


class InvoiceStatus(StrEnum):
    unsent = "unsent"
    left_netvisor = "left_netvisor"
    korjattava = "korjattava"
    dispatching = "dispatching"
    sent = "sent"
    finalised = "finalised"


class DeliveryMethod(StrEnum):
    post = "post"
    email = "email"
    einvoice = "einvoice"


#: Our statuses in which the invoice still waits for the team (the queue).
QUEUE_STATUSES = (InvoiceStatus.unsent,)


class EventKind(StrEnum):
    seen = "seen"
    updated = "updated"
    checks = "checks"
    left_netvisor = "left_netvisor"
    returned = "returned"
    dispatch = "dispatch"
    #: Sent past failing checks: the agent, the time, the reason and the checks.
    checks_overridden = "checks_overridden"
    korjattava = "korjattava"
    resolved = "resolved"
    netvisor_comment = "netvisor_comment"


def money_field() -> Any:
    """A sum in euros and cents (Decimal on both databases)."""
    return Field(default=Decimal("0.00"), sa_column=Column(Numeric(14, 2), nullable=False))


class Invoice(SQLModel, table=True):
    """One sales invoice as last read from Netvisor, with our status, deadline and checks."""

    __tablename__ = "invoice"
    __table_args__ = (
        Index("ix_invoice_queue", "status", "deadline_at", "id"),
        Index("ix_invoice_etunnus", "etunnus", "invoice_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    netvisor_key: int = Field(unique=True)
    number: str = Field(max_length=32, index=True)
    #: Without spaces, as Netvisor gave it (digits, or RF... for an RF reference).
    reference: str = Field(default="", max_length=40, index=True)
    #: The first six digits of the number; user_id links it once the user is known.
    etunnus: str = Field(default="", max_length=6)
    user_id: int | None = Field(
        default=None, foreign_key="etunnus_user.id", index=True, ondelete="SET NULL"
    )

    customer_key: int | None = None
    customer_code: str | None = Field(default=None, max_length=64)
    customer_name: str = Field(default="", max_length=250)
    #: casefold(customer_name): LIKE searches behave the same on SQLite and PostgreSQL.
    customer_name_search: str = Field(default="", max_length=250, index=True)
    customer_address: str = Field(default="", max_length=250)
    customer_postcode: str = Field(default="", max_length=32)
    customer_town: str = Field(default="", max_length=120)
    #: The country's name as Netvisor shows it (``InvoicingCustomerCountryCode``'s text).
    customer_country: str = Field(default="", max_length=64)
    #: Its ISO 3166 code (the element's ``ISO-3166`` attribute): what checks and e-invoices
    #: use. Empty when Netvisor gave none.
    customer_country_code: str = Field(default="", max_length=2)
    business_id: str = Field(default="", max_length=32)
    email: str = Field(default="", max_length=254)
    einvoice_address: str = Field(default="", max_length=64)
    einvoice_operator: str = Field(default="", max_length=64)

    #: Toimitustapa as written in Netvisor, and what we recognised in it (None: unknown).
    delivery_method_text: str = Field(default="", max_length=120)
    delivery_method: DeliveryMethod | None = Field(default=None, sa_type=String(16))

    invoice_date: date | None = None
    due_date: date | None = None
    currency: str = Field(default="EUR", max_length=3)
    net_sum: Decimal = money_field()
    vat_sum: Decimal = money_field()
    gross_sum: Decimal = money_field()
    rows: list[dict[str, Any]] = json_field(list)

    netvisor_status: str = Field(default="unsent", max_length=32)
    status: InvoiceStatus = Field(default=InvoiceStatus.unsent, sa_type=String(16))

    first_seen_at: datetime = ts_field()
    deadline_at: datetime = ts_field()
    last_synced_at: datetime = ts_field()
    #: When the invoice stopped waiting in the queue (left Netvisor's unsent list or sent).
    left_unsent_at: datetime | None = ts_field(nullable=True, default_now=False)

    checks: list[dict[str, Any]] = json_field(list)
    checks_ok: bool = True
    #: Why the last sync could not read this invoice or its customer from Netvisor, in
    #: Netvisor's words (a failed check shows it); empty when it could.
    sync_error: str = Field(default="", sa_column=Column(Text, nullable=False))
    #: Netvisor's own process history of the invoice (its ProcessHistoryLine elements:
    #: timestamp, material_type, user, channel, status), as the last sync read it.
    netvisor_history: list[dict[str, Any]] = json_field(list)

    #: Korjattava pauses the deadline: since when, and how long all earlier pauses lasted.
    paused_at: datetime | None = ts_field(nullable=True, default_now=False)
    paused_seconds: int = 0

    @property
    def failed_checks(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c.get("ok")]


class InvoiceEvent(SQLModel, table=True):
    """One line of an invoice's history: seen, changed, checks changed, left Netvisor, ..."""

    __tablename__ = "invoice_event"
    __table_args__ = (Index("ix_invoice_event_invoice", "invoice_id", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", ondelete="CASCADE")
    at: datetime = ts_field()
    kind: str = Field(max_length=32)
    agent_id: int | None = Field(default=None, foreign_key="agent.id", ondelete="SET NULL")
    details: dict[str, Any] = json_field(dict)


class SyncState(SQLModel, table=True):
    """How the last sync of one kind went (one row per ``name``)."""

    __tablename__ = "invoice_sync_state"

    name: str = Field(primary_key=True, max_length=32)
    last_started_at: datetime | None = ts_field(nullable=True, default_now=False)
    last_success_at: datetime | None = ts_field(nullable=True, default_now=False)
    last_error_at: datetime | None = ts_field(nullable=True, default_now=False)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: The highest Netvisor key seen so far.
    last_key: int | None = None
    last_counts: dict[str, Any] = json_field(dict)
