"""Snoozing a ticket: out of the open lists until a time, then back by itself, marked.

Nothing runs at the snooze time. ``Ticket.snoozed_until`` is compared with now wherever a
list or a page reads it: ahead of now the ticket is snoozed (hidden from the open lists,
shown in the Snoozed view); at or before now it is back and marked "back from snooze"
until an agent acts on it (a reply, a note, a status or assignee change clears the time:
``tickets.agent_acted``). A customer's mail wakes a snoozed ticket at once by moving the
time to the moment it arrived (``tickets.count_message``), so it comes back marked too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session

from helpdesk import service_hours
from helpdesk.db import reread, transaction
from helpdesk.i18n import N_
from helpdesk.models import Agent, Ticket, utcnow
from helpdesk.services import audit
from helpdesk.services.errors import ServiceError

#: How far ahead a ticket may be snoozed.
LONGEST = timedelta(days=366)
#: "Later today": this much from now.
LATER_TODAY = timedelta(hours=3)
#: Mornings the quick picks wake at (Helsinki time).
MORNING = time(8, 0)


def is_snoozed(ticket: Ticket, now: datetime | None = None) -> bool:
    """Still asleep: hidden from the open lists."""
    return ticket.snoozed_until is not None and ticket.snoozed_until > (now or utcnow())


def is_back(ticket: Ticket, now: datetime | None = None) -> bool:
    """Back from snooze and not yet acted on by an agent ("palasi torkusta")."""
    return ticket.snoozed_until is not None and ticket.snoozed_until <= (now or utcnow())


@dataclass(frozen=True)
class QuickPick:
    """One ready-made snooze time of the menu."""

    key: str
    label: str  # a msgid
    until: datetime


def quick_picks(now: datetime | None = None) -> list[QuickPick]:
    """Later today, tomorrow 8:00 and next Monday 8:00, in Helsinki time (UTC values)."""
    moment = now or utcnow()
    calendar = service_hours.calendar_from_settings()
    today = calendar.local(moment).date()
    tomorrow = today + timedelta(days=1)
    monday = today + timedelta(days=7 - today.weekday())
    return [
        QuickPick("later", N_("Later today"), moment + LATER_TODAY),
        QuickPick("tomorrow", N_("Tomorrow 8:00"), calendar.at(tomorrow, MORNING).astimezone(UTC)),
        QuickPick("monday", N_("Next Monday 8:00"), calendar.at(monday, MORNING).astimezone(UTC)),
    ]


def local_input(value: str) -> datetime:
    """A ``datetime-local`` field's value (Helsinki wall time) as an aware datetime."""
    try:
        wall = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ServiceError(N_("Give the date and time"), field="until") from exc
    if wall.tzinfo is not None:
        return wall
    return wall.replace(tzinfo=service_hours.calendar_from_settings().zone)


def snooze(
    session: Session, *, ticket: Ticket, until: datetime, by: Agent, now: datetime | None = None
) -> Ticket:
    """Hide the ticket from the open lists until ``until`` (audited)."""
    moment = now or utcnow()
    if until.tzinfo is None:
        raise ServiceError(N_("Give the date and time"), field="until")
    if until <= moment:
        raise ServiceError(N_("The snooze time must be in the future"), field="until")
    if until > moment + LONGEST:
        raise ServiceError(N_("A ticket can be snoozed for a year at most"), field="until")
    with transaction(session):
        reread(session, ticket)
        old = ticket.snoozed_until
        ticket.snoozed_until = until
        ticket.updated_at = moment
        session.add(ticket)
        audit.record(
            session,
            action="ticket.snooze",
            agent=by,
            object_type="ticket",
            object_id=ticket.id,
            old=old.isoformat() if old else None,
            new=until.isoformat(),
        )
    return ticket


def unsnooze(session: Session, *, ticket: Ticket, by: Agent) -> Ticket:
    """Wake the ticket now, or clear its "back from snooze" mark (audited)."""
    with transaction(session):
        reread(session, ticket)
        if ticket.snoozed_until is not None:
            old = ticket.snoozed_until
            ticket.snoozed_until = None
            ticket.updated_at = utcnow()
            session.add(ticket)
            audit.record(
                session,
                action="ticket.unsnooze",
                agent=by,
                object_type="ticket",
                object_id=ticket.id,
                old=old.isoformat(),
            )
    return ticket
