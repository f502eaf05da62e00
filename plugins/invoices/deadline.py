"""The same-day promise: an invoice sent by 15:00 on a business day goes on that day.

All rules run in Helsinki wall time and only then convert to UTC, so the deadline stays
at 15:00 local across the daylight-saving changes (last Sundays of March and October).

A business day is a weekday that is neither a Finnish public holiday (the ``holidays``
package, country FI) nor one of the team's extra closed days. The extra closed days
default to Juhannusaatto (Midsummer Eve, the Friday between 19 and 25 June) and
Jouluaatto (Christmas Eve, 24 December): offices close on them although they are not
statutory holidays, and older releases of ``holidays`` do not list them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

HELSINKI = "Europe/Helsinki"

ClosedDays = frozenset[tuple[int, int]] | Callable[[date], bool]


def is_midsummer_eve(day: date) -> bool:
    """Tell whether day is Juhannusaatto: the Friday between 19 and 25 June."""
    return day.month == 6 and 19 <= day.day <= 25 and day.weekday() == 4


def is_christmas_eve(day: date) -> bool:
    """Tell whether day is Jouluaatto, 24 December."""
    return (day.month, day.day) == (12, 24)


def default_extra_closed(day: date) -> bool:
    """The team's extra closed days: Juhannusaatto and Jouluaatto."""
    return is_midsummer_eve(day) or is_christmas_eve(day)


@lru_cache(maxsize=64)
def _finnish_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FI", years=year).keys())


def is_finnish_public_holiday(day: date) -> bool:
    """Tell whether day is a Finnish public holiday according to the holidays package."""
    return day in _finnish_holidays(day.year)


@dataclass(frozen=True)
class ServiceCalendar:
    """Service hours and the same-day cutoff of the customer-service team.

    ``extra_closed`` is either a set of (month, day) pairs closed every year or a
    function that tells whether a date is closed (needed for movable days such as
    Midsummer Eve). ``margin`` moves every deadline past the cutoff, for a team that
    promises a little slack.
    """

    cutoff: time = time(15, 0)
    opens: time = time(10, 0)
    margin: timedelta = timedelta(0)
    extra_closed: ClosedDays = field(default=default_extra_closed)
    tz: str = HELSINKI

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.tz)

    def _is_extra_closed(self, day: date) -> bool:
        if callable(self.extra_closed):
            return self.extra_closed(day)
        return (day.month, day.day) in self.extra_closed

    def is_business_day(self, day: date) -> bool:
        """Tell whether the team works on day."""
        return (
            day.weekday() < 5
            and not is_finnish_public_holiday(day)
            and not self._is_extra_closed(day)
        )

    def next_business_day(self, day: date) -> date:
        """Return the first business day after day."""
        candidate = day + timedelta(days=1)
        while not self.is_business_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def local(self, moment: datetime) -> datetime:
        """Return an aware moment in the calendar's wall time."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("an aware datetime is needed")
        return moment.astimezone(self.zone)

    def _at(self, day: date, wall: time, plus: timedelta = timedelta(0)) -> datetime:
        # Adding a timedelta to a ZoneInfo datetime is wall-clock arithmetic, which is what
        # a margin on a "15:00" promise means.
        return datetime.combine(day, wall, tzinfo=self.zone) + plus

    def deadline_for(self, first_seen: datetime) -> datetime:
        """Return, in UTC, when an invoice first seen at first_seen must have gone on.

        Seen by the cutoff (inclusive) on a business day: that day at the cutoff. Later, or
        on a closed day: the next business day at the cutoff. The margin is added to both.
        """
        seen = self.local(first_seen)
        day = seen.date()
        if not (self.is_business_day(day) and seen.time() <= self.cutoff):
            day = self.next_business_day(day)
        return self._at(day, self.cutoff, self.margin).astimezone(UTC)

    def is_open(self, now: datetime) -> bool:
        """Tell whether the service is open: from opening to the cutoff on a business day."""
        local = self.local(now)
        return self.is_business_day(local.date()) and self.opens <= local.time() < self.cutoff

    def alert_active(self, now: datetime, window: timedelta = timedelta(minutes=30)) -> bool:
        """Tell whether the last-look alert shows: from window before the cutoff to the deadline."""
        local = self.local(now)
        day = local.date()
        if not self.is_business_day(day):
            return False
        start = self._at(day, self.cutoff, -window)
        end = self._at(day, self.cutoff, self.margin)
        return start <= local <= end

    @staticmethod
    def time_left(deadline: datetime, now: datetime) -> timedelta:
        """Return the time until deadline; negative when it has passed."""
        return deadline - now
