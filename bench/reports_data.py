"""What the reports read beyond the inbox's tickets and messages: closings, calls, invoices.

Added after ``inbox_data.generate`` with core ``insert().executemany``: one
``ticket.status`` audit event per closed ticket (when its last message came), a call
for every fifth ticket (a ``call`` message and its ``call`` row, in service hours), and
about 25 invoices a business day over the whole span, of which 2 % went to Korjattava and
most went on before the day's deadline.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from inbox_data import BATCH, NOW, SPAN, after_load
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine

from helpdesk.models import AuditEvent, Call, Message, Ticket
from helpdesk.service_hours import ServiceCalendar
from plugins.invoices.models import Correction, Invoice
from plugins.invoices.rules.deadline import InvoiceDeadline

HELSINKI = ZoneInfo("Europe/Helsinki")


def _insert(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        with engine.begin() as conn:
            conn.execute(insert(table), rows[start : start + BATCH])


def add_report_rows(engine: Engine, seed: int = 11) -> dict[str, int]:
    """Add the rows; returns how many of each."""
    rng = random.Random(seed)
    tickets = Ticket.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        closed = conn.execute(
            select(tickets.c.id, tickets.c.last_message_at, tickets.c.assignee_id).where(
                tickets.c.status == "closed"
            )
        ).all()
        ticket_ids = list(conn.execute(select(tickets.c.id)).scalars())
        next_message = int(conn.execute(text("SELECT max(id) FROM message")).scalar_one()) + 1
    events = [
        {
            "at": last + timedelta(minutes=rng.randint(1, 600)),
            "agent_id": assignee,
            "action": "ticket.status",
            "object_type": "ticket",
            "object_id": str(tid),
            "details": {"old": "open", "new": "closed"},
        }
        for tid, last, assignee in closed
    ]
    _insert(engine, AuditEvent.__table__, events)  # type: ignore[attr-defined]

    calendar = ServiceCalendar()
    start_day = (NOW - SPAN).date()
    days = [start_day + timedelta(days=n) for n in range(SPAN.days)]
    business = [d for d in days if calendar.is_business_day(d)]
    messages, calls = [], []
    for n, tid in enumerate(rng.sample(ticket_ids, len(ticket_ids) // 5)):
        day = rng.choice(business)
        at = datetime.combine(day, time(10), tzinfo=HELSINKI) + timedelta(
            minutes=rng.randint(0, 300)
        )
        mid = next_message + n
        messages.append(
            {
                "id": mid,
                "ticket_id": tid,
                "kind": "call",
                "subject": "Puhelu",
                "text": "Soitto laskusta",
                "author_id": rng.randint(1, 20),
                "to_addresses": [],
                "cc_addresses": [],
                "bcc_addresses": [],
                "references": [],
                "flags": [],
                "created_at": at.astimezone(UTC),
            }
        )
        calls.append(
            {
                "message_id": mid,
                "ticket_id": tid,
                "agent_id": messages[-1]["author_id"],
                "direction": "incoming" if rng.random() < 0.8 else "outgoing",
                "started_at": at.astimezone(UTC),
                "duration_seconds": rng.randint(30, 900),
                "topic": "Lasku",
            }
        )
    _insert(engine, Message.__table__, messages)  # type: ignore[attr-defined]
    _insert(engine, Call.__table__, calls)  # type: ignore[attr-defined]

    rules = InvoiceDeadline(calendar=calendar)
    invoices, corrections = [], []
    key = 0
    for day in business:
        for _ in range(rng.randint(15, 35)):
            key += 1
            seen = datetime.combine(day, time(7), tzinfo=HELSINKI) + timedelta(
                minutes=rng.randint(0, 12 * 60)
            )
            deadline = rules.deadline_for(seen)
            korjattava = rng.random() < 0.02
            left = None if korjattava else deadline - timedelta(minutes=rng.randint(-90, 240))
            invoices.append(
                {
                    "id": key,
                    "netvisor_key": key,
                    "number": f"{100000 + key % 900:06d}{key:04d}"[:32],
                    "reference": "",
                    "etunnus": f"{100000 + key % 900:06d}",
                    "customer_name": "Asiakas Oy",
                    "customer_name_search": "asiakas oy",
                    "status": "korjattava" if korjattava else "finalised",
                    "first_seen_at": seen.astimezone(UTC),
                    "deadline_at": deadline,
                    "last_synced_at": seen.astimezone(UTC),
                    "left_unsent_at": left,
                    "rows": [],
                    "net_sum": 100,
                    "vat_sum": 25.5,
                    "gross_sum": 125.5,
                    "sync_error": "",
                    "checks": [],
                    "netvisor_history": [],
                }
            )
            if korjattava:
                corrections.append(
                    {
                        "invoice_id": key,
                        "reasons": [],
                        "message": "",
                        "marked_at": seen + timedelta(hours=1),
                    }
                )
    _insert(engine, Invoice.__table__, invoices)  # type: ignore[attr-defined]
    _insert(engine, Correction.__table__, corrections)  # type: ignore[attr-defined]
    after_load(engine, ("message", "invoice"))
    return {"closings": len(events), "calls": len(calls), "invoices": len(invoices)}


def report_period(days: int) -> tuple[date, date]:
    """The last ``days`` days of the generated span."""
    end = NOW.astimezone(HELSINKI).date()
    return end - timedelta(days=days - 1), end
