"""The same-day promise: an invoice sent by 15:00 on a business day goes on that day.

Business days, holidays and the Helsinki wall clock come from the core's service
calendar (``ServiceCalendar``, from ``helpdesk.plugin_api``); this module adds only the
invoice rules: the cutoff, an optional margin and the last-look alert before the cutoff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from helpdesk.plugin_api import ServiceCalendar


@dataclass(frozen=True)
class InvoiceDeadline:
    """When an invoice must have gone on, by the team's calendar.

    ``cutoff`` is the promise's wall-clock time (15:00); ``margin`` moves every deadline
    past it, for a team that promises a little slack.
    """

    calendar: ServiceCalendar = field(default_factory=ServiceCalendar)
    cutoff: time = time(15, 0)
    margin: timedelta = timedelta(0)

    def deadline_for(self, first_seen: datetime) -> datetime:
        """Return, in UTC, when an invoice first seen at first_seen must have gone on.

        Seen by the cutoff (inclusive) on a business day: that day at the cutoff. Later, or
        on a closed day: the next business day at the cutoff. The margin is added to both.
        """
        cal = self.calendar
        seen = cal.local(first_seen)
        day = seen.date()
        if not (cal.is_business_day(day) and seen.time() <= self.cutoff):
            day = cal.next_business_day(day)
        return cal.at(day, self.cutoff, self.margin).astimezone(UTC)

    def promise_window(self, day: date) -> tuple[datetime, datetime]:
        """The first sightings whose deadline is business day ``day``, as UTC bounds.

        After the previous business day's cutoff (excluded) up to this day's cutoff
        (included): seen on ``day`` by the cutoff, after the cutoff on the day before, or on
        the closed days between. ``deadline_for`` gives each of them ``day``'s deadline.
        """
        cal = self.calendar
        previous = day - timedelta(days=1)
        while not cal.is_business_day(previous):
            previous -= timedelta(days=1)
        return (
            cal.at(previous, self.cutoff).astimezone(UTC),
            cal.at(day, self.cutoff).astimezone(UTC),
        )

    def alert_active(self, now: datetime, window: timedelta = timedelta(minutes=30)) -> bool:
        """Tell whether the last-look alert shows: from window before the cutoff to the deadline."""
        cal = self.calendar
        local = cal.local(now)
        day = local.date()
        if not cal.is_business_day(day):
            return False
        start = cal.at(day, self.cutoff, -window)
        end = cal.at(day, self.cutoff, self.margin)
        return start <= local <= end

    @staticmethod
    def time_left(deadline: datetime, now: datetime) -> timedelta:
        """Return the time until deadline; negative when it has passed."""
        return deadline - now
