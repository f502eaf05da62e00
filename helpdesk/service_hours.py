"""Service hours of the customer-service team: business days, holidays, open or closed now.

All rules run in Helsinki wall time and only then convert to UTC, so 10:00 and 15:00 stay
local across the daylight-saving changes (last Sundays of March and October).

A business day is a weekday that is neither a Finnish public holiday (the ``holidays``
package, country FI) nor one of the team's extra closed days. The extra closed days
default to Juhannusaatto (Midsummer Eve, the Friday between 19 and 25 June) and
Jouluaatto (Christmas Eve, 24 December): offices close on them although they are not
statutory holidays, and older releases of ``holidays`` do not list them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from helpdesk.settings import get_settings
from helpdesk.values import parse_closed_day

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
    """When the team works: weekdays ``opens``-``closes`` on business days.

    ``extra_closed`` is either a set of (month, day) pairs closed every year or a
    function that tells whether a date is closed (needed for movable days such as
    Midsummer Eve).
    """

    opens: time = time(10, 0)
    closes: time = time(15, 0)
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

    def at(self, day: date, wall: time, plus: timedelta = timedelta(0)) -> datetime:
        """Return day at the wall-clock time (plus a wall-clock offset) in the calendar's zone."""
        # Adding a timedelta to a ZoneInfo datetime is wall-clock arithmetic, which is what
        # "15:00 plus a margin" means on a day the clocks change.
        return datetime.combine(day, wall, tzinfo=self.zone) + plus

    def is_open(self, now: datetime) -> bool:
        """Tell whether the service is open: from opening to closing on a business day."""
        local = self.local(now)
        return self.is_business_day(local.date()) and self.opens <= local.time() < self.closes

    def closes_at(self, now: datetime) -> datetime | None:
        """Return, in UTC, when the service closes today if it is open now, else None."""
        if not self.is_open(now):
            return None
        return self.at(self.local(now).date(), self.closes).astimezone(UTC)

    def next_opening(self, now: datetime) -> datetime:
        """Return, in UTC, the first opening strictly after now."""
        local = self.local(now)
        day = local.date()
        if not (self.is_business_day(day) and local.time() < self.opens):
            day = self.next_business_day(day)
        return self.at(day, self.opens).astimezone(UTC)


class BusinessClock:
    """Business seconds between moments: the open hours of business days, nothing else.

    Built once for a span of days (one entry per business day: its opening and closing as
    POSIX seconds, and the business seconds before it), it answers each moment with one
    bisect, so the durations of thousands of tickets take milliseconds. Moments before or
    after the span count as its edges, so build it over every day a duration touches.
    """

    def __init__(self, calendar: ServiceCalendar, first: date, last: date) -> None:
        self._opens: list[float] = []
        self._closes: list[float] = []
        self._before: list[float] = []
        total = 0.0
        day = first
        while day <= last:
            if calendar.is_business_day(day):
                opens = calendar.at(day, calendar.opens).timestamp()
                closes = calendar.at(day, calendar.closes).timestamp()
                self._opens.append(opens)
                self._closes.append(closes)
                self._before.append(total)
                total += closes - opens
            day += timedelta(days=1)

    def elapsed(self, moment: float) -> float:
        """Business seconds from the span's start to ``moment`` (POSIX seconds)."""
        i = bisect_right(self._opens, moment) - 1
        if i < 0:
            return 0.0
        return self._before[i] + min(moment, self._closes[i]) - self._opens[i]

    def between(self, start: datetime, end: datetime) -> float:
        """Business seconds from ``start`` to ``end`` (0 when end is not after start)."""
        return self.between_seconds(start.timestamp(), end.timestamp())

    def between_seconds(self, start: float, end: float) -> float:
        """``between`` for POSIX seconds."""
        return max(0.0, self.elapsed(end) - self.elapsed(start))


@dataclass(frozen=True)
class ServiceState:
    """The service right now, for the top bar and the dashboard."""

    is_open: bool
    closes_at: datetime | None
    next_opening: datetime


def parse_closed_days(values: Iterable[str]) -> Callable[[date], bool]:
    """Extra closed days from settings: ``MM-DD`` every year or ``YYYY-MM-DD`` once.

    The default eves stay closed; these are added to them.
    """
    yearly: set[tuple[int, int]] = set()
    once: set[date] = set()
    for raw in values:
        if not raw.strip():
            continue
        parsed = parse_closed_day(raw)
        if isinstance(parsed, date):
            once.add(parsed)
        else:
            yearly.add(parsed)

    def closed(day: date) -> bool:
        return default_extra_closed(day) or (day.month, day.day) in yearly or day in once

    return closed


def _parse_wall(value: str) -> time:
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def calendar_from_settings() -> ServiceCalendar:
    """The team's calendar as configured (``HELPDESK_SERVICE_*``)."""
    settings = get_settings()
    return ServiceCalendar(
        opens=_parse_wall(settings.service_opens),
        closes=_parse_wall(settings.service_closes),
        extra_closed=parse_closed_days(settings.service_closed_days),
        tz=settings.timezone,
    )


def state(now: datetime, calendar: ServiceCalendar | None = None) -> ServiceState:
    """Whether the service is open at now, when it closes, and when it next opens."""
    cal = calendar or calendar_from_settings()
    return ServiceState(
        is_open=cal.is_open(now), closes_at=cal.closes_at(now), next_opening=cal.next_opening(now)
    )
