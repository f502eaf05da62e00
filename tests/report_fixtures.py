"""A week of helpdesk work with figures computed by hand, for the reports' tests.

The week is Monday 2 to Monday 9 December 2024 (Helsinki, UTC+2): Friday 6.12. is
Itsenäisyyspäivä (a holiday) and 7.-8.12. a weekend, so a business-hour duration that
spans Thursday to Monday counts Thursday's and Monday's hours only. Service hours 10-15.

Tickets (mailbox A = asiakaspalvelu, B = info; X and Y are agents):

| ticket | box | first incoming  | first reply (by)   | closed              | first resp. | resolution |
| T1     | A   | Thu 5.12. 14:00 | Mon 9.12. 11:00 X  | Mon 9.12. 12:00     | 2.0 h       | 3.0 h      |
| T2     | A   | Mon 2.12. 09:00 | Mon 2.12. 10:30 X  | -                   | 0.5 h       | -          |
| T3     | B   | Tue 3.12. 16:00 | Wed 4.12. 10:15 Y  | Wed 14:00, reopened Thu 09:00 by mail, closed Thu 11:00 | 0.25 h | 6.0 h |
| T4     | A   | Sat 7.12. 12:00 | Mon 9.12. 10:00 X  | -                   | 0.0 h       | -          |
| T5     | B   | Tue 3.12. 12:00 | Tue 3.12. 13:30 Y  | -                   | 1.5 h       | -          |
| T6     | A   | Mon 9.12. 10:00 | none (a call only) | -                   | -           | -          |
| T7     | -   | phone ticket Mon 2.12. 10:20 | -     | Mon 2.12. 10:30     | -           | 10 min     |

T4 also has a reply X cancelled in the undo window (Sat 13:00) and T2 a note of X: neither
is a reply. T5 was started by us (Y's mail Tue 11:00 comes before the customer's first).
T6 gets one more mail Tue 10.12. 00:30 Helsinki (9.12. 22:30 UTC): outside the period.
Calls: incoming Mon 2.12. 10:20 (Y, T7), outgoing Tue 3.12. 14:05 (Y, T7), incoming Mon
9.12. 10:40 (X, T6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import factories
from sqlmodel import Session

from helpdesk.hookspecs import ReportPeriod
from helpdesk.models import Agent, AuditEvent, Call, Mailbox, Message, Ticket
from helpdesk.service_hours import ServiceCalendar
from helpdesk.services import ticket_clocks

HELSINKI = ZoneInfo("Europe/Helsinki")
START, END = date(2024, 12, 2), date(2024, 12, 9)
#: "Now" for the backlog: the day after the period.
NOW = datetime(2024, 12, 10, 12, 0, tzinfo=HELSINKI)


def hki(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=HELSINKI).astimezone(UTC)


@dataclass
class Week:
    """The rows made, for tests that need their ids."""

    box_a: Mailbox
    box_b: Mailbox
    x: Agent
    y: Agent
    tickets: dict[str, Ticket]

    def period(self, mailbox: Mailbox | None = None) -> ReportPeriod:
        return ReportPeriod(START, END, mailbox.id if mailbox else None)


def build_week(session: Session) -> Week:
    box_a = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    box_b = factories.mailbox(session, "info@e-tunnus.fi")
    x = factories.agent(session, name="Xenia Agentti")
    y = factories.agent(session, name="Yrjö Agentti")
    specs: dict[str, tuple[Mailbox | None, datetime, str, str]] = {
        "T1": (box_a, hki(5, 14), "open", "email"),
        "T2": (box_a, hki(2, 9), "open", "email"),
        "T3": (box_b, hki(3, 16), "open", "email"),
        "T4": (box_a, hki(7, 12), "open", "email"),
        "T5": (box_b, hki(3, 11), "open", "email"),
        "T6": (box_a, hki(9, 10), "open", "email"),
        "T7": (None, hki(2, 10, 20), "open", "phone"),
    }
    tickets: dict[str, Ticket] = {}
    for n, (name, (box, at, status, channel)) in enumerate(specs.items(), start=1):
        row = Ticket(
            number=900_000 + n,
            subject=f"Raportti {name}",
            mailbox_id=box.id if box else None,
            status=status,
            channel=channel,
            created_at=at,
            updated_at=at,
            last_message_at=at,
        )
        session.add(row)
        tickets[name] = row
    session.flush()

    def msg(name: str, kind: str, at: datetime, by: Agent | None = None, **kw: Any) -> Message:
        ticket = tickets[name]
        row = Message(
            ticket_id=ticket.id or 0,
            mailbox_id=None if kind in ("call",) else ticket.mailbox_id,
            kind=kind,
            author_id=by.id if by else None,
            created_at=at,
            delivery_status=kw.pop("delivery_status", "sent" if kind == "outgoing" else None),
            **kw,
        )
        session.add(row)
        session.flush()
        return row

    def status(name: str, at: datetime, old: str, new: str, action: str = "ticket.status") -> None:
        details = {"old": old, "new": new} if action == "ticket.status" else {"old": old}
        ticket = tickets[name]
        session.add(
            AuditEvent(
                at=at,
                action=action,
                object_type="ticket",
                object_id=str(ticket.id),
                details=details,
            )
        )
        ticket.status = new if action == "ticket.status" else "open"
        session.add(ticket)

    def call(name: str, at: datetime, by: Agent, direction: str) -> None:
        row = msg(name, "call", at, by)
        session.add(
            Call(
                message_id=row.id or 0,
                ticket_id=tickets[name].id or 0,
                agent_id=by.id,
                direction=direction,
                started_at=at,
            )
        )

    for name, (_box, at, _status, channel) in specs.items():
        if channel == "email" and name != "T5":
            msg(name, "incoming", at)
    msg("T1", "outgoing", hki(9, 11), x)
    msg("T2", "outgoing", hki(2, 10, 30), x)
    msg("T2", "note", hki(2, 10, 5), x)
    msg("T3", "outgoing", hki(4, 10, 15), y)
    msg("T3", "incoming", hki(5, 9))
    msg("T4", "outgoing", hki(7, 13), x, delivery_status="cancelled")
    msg("T4", "outgoing", hki(9, 10), x)
    msg("T5", "outgoing", hki(3, 11), y)
    msg("T5", "incoming", hki(3, 12))
    msg("T5", "outgoing", hki(3, 13, 30), y)
    msg("T6", "incoming", hki(10, 0, 30))
    call("T7", hki(2, 10, 20), y, "incoming")
    call("T7", hki(3, 14, 5), y, "outgoing")
    call("T6", hki(9, 10, 40), x, "incoming")
    status("T7", hki(2, 10, 30), "open", "closed")
    status("T3", hki(4, 14), "open", "closed")
    status("T3", hki(5, 9), "closed", "open", action="ticket.reopen")
    status("T3", hki(5, 11), "open", "closed")
    status("T1", hki(9, 12), "open", "closed")
    session.flush()
    # The rows above are written as they would be stored, not through the services: the
    # tickets' clocks come from the backfill, which the figures below then check too.
    ticket_clocks.backfill(session.connection(), ServiceCalendar())
    session.commit()
    for ticket in tickets.values():
        session.refresh(ticket)
    return Week(box_a, box_b, x, y, tickets)
