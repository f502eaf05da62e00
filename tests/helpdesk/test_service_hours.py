"""Service hours: weekends, Finnish holidays, the eves, DST days and the 15:00 boundary."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk import service_hours
from helpdesk.service_hours import (
    ServiceCalendar,
    calendar_from_settings,
    default_extra_closed,
    is_christmas_eve,
    is_midsummer_eve,
    parse_closed_days,
)
from helpdesk.settings import Settings, get_settings

HKI = ZoneInfo("Europe/Helsinki")
CAL = ServiceCalendar()


def hki(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=HKI)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def test_business_days() -> None:
    assert CAL.is_business_day(date(2026, 3, 27))  # Friday
    assert not CAL.is_business_day(date(2026, 3, 28))  # Saturday
    assert not CAL.is_business_day(date(2026, 3, 29))  # Sunday
    assert not CAL.is_business_day(date(2026, 4, 3))  # Good Friday
    assert not CAL.is_business_day(date(2026, 4, 6))  # Easter Monday
    assert not CAL.is_business_day(date(2026, 5, 1))  # Vappu, Friday
    assert not CAL.is_business_day(date(2026, 5, 14))  # Ascension Day, Thursday
    assert not CAL.is_business_day(date(2025, 12, 24))  # Jouluaatto, Wednesday
    assert not CAL.is_business_day(date(2025, 12, 25))  # Christmas Day
    assert not CAL.is_business_day(date(2025, 12, 26))  # Tapaninpäivä
    assert not CAL.is_business_day(date(2026, 6, 19))  # Juhannusaatto
    assert not CAL.is_business_day(date(2027, 12, 6))  # Independence Day, Monday
    assert CAL.is_business_day(date(2026, 6, 22))  # the Monday after Midsummer
    assert CAL.next_business_day(date(2026, 4, 2)) == date(2026, 4, 7)
    assert CAL.next_business_day(date(2026, 6, 18)) == date(2026, 6, 22)
    assert CAL.next_business_day(date(2025, 12, 23)) == date(2025, 12, 29)


def test_eve_helpers() -> None:
    assert is_midsummer_eve(date(2025, 6, 20))
    assert is_midsummer_eve(date(2026, 6, 19))
    assert not is_midsummer_eve(date(2026, 6, 26))
    assert is_christmas_eve(date(2027, 12, 24))
    assert default_extra_closed(date(2026, 6, 19))
    assert not default_extra_closed(date(2026, 6, 18))


def test_extra_closed_as_month_day_set() -> None:
    cal = ServiceCalendar(extra_closed=frozenset({(12, 31)}))
    assert not cal.is_business_day(date(2026, 12, 31))  # a Thursday
    assert cal.is_business_day(date(2026, 12, 30))


def test_extra_closed_as_callable() -> None:
    cal = ServiceCalendar(extra_closed=lambda d: d == date(2026, 3, 2))
    assert not cal.is_business_day(date(2026, 3, 2))
    assert cal.next_opening(hki(2026, 3, 2, 9, 0)) == utc(2026, 3, 3, 8, 0)


def test_is_open_around_the_boundaries() -> None:
    assert CAL.is_open(hki(2026, 3, 27, 10, 0))
    assert CAL.is_open(hki(2026, 3, 27, 14, 59, 59))
    assert not CAL.is_open(hki(2026, 3, 27, 9, 59, 59))
    assert not CAL.is_open(hki(2026, 3, 27, 15, 0))  # 15:00 is already closed
    assert not CAL.is_open(hki(2026, 3, 28, 12, 0))  # Saturday
    assert not CAL.is_open(hki(2026, 4, 3, 12, 0))  # Good Friday
    assert not CAL.is_open(hki(2026, 4, 6, 12, 0))  # Easter Monday
    assert not CAL.is_open(hki(2025, 12, 24, 11, 0))  # Christmas Eve
    assert not CAL.is_open(hki(2026, 6, 19, 11, 0))  # Midsummer Eve


def test_is_open_on_dst_days_uses_helsinki_wall_time() -> None:
    # Monday 30 March 2026, the first weekday of summer time (UTC+3): opens 07:00 UTC.
    assert not CAL.is_open(utc(2026, 3, 30, 6, 59))
    assert CAL.is_open(utc(2026, 3, 30, 7, 0))
    assert not CAL.is_open(utc(2026, 3, 30, 12, 0))  # 15:00 local
    # Friday 27 March, still winter time (UTC+2): 07:30 UTC is 09:30 local.
    assert not CAL.is_open(utc(2026, 3, 27, 7, 30))
    assert CAL.is_open(utc(2026, 3, 27, 12, 59))
    # Monday 26 October 2026, back on winter time: open 08:00-13:00 UTC.
    assert CAL.is_open(utc(2026, 10, 26, 12, 30))
    assert not CAL.is_open(utc(2026, 10, 26, 13, 0))


def test_closes_at_and_next_opening() -> None:
    assert CAL.closes_at(hki(2026, 3, 27, 11, 0)) == utc(2026, 3, 27, 13, 0)
    assert CAL.closes_at(hki(2026, 3, 27, 16, 0)) is None
    # Before opening on a business day: today.
    assert CAL.next_opening(hki(2026, 3, 27, 8, 0)) == utc(2026, 3, 27, 8, 0)
    # Friday afternoon, across the spring DST change: Monday 10:00 summer time.
    assert CAL.next_opening(hki(2026, 3, 27, 15, 0)) == utc(2026, 3, 30, 7, 0)
    # Easter: Thursday evening to Tuesday.
    assert CAL.next_opening(hki(2026, 4, 2, 15, 30)) == utc(2026, 4, 7, 7, 0)
    # Midsummer: Thursday to Monday.
    assert CAL.next_opening(hki(2026, 6, 18, 15, 0)) == utc(2026, 6, 22, 7, 0)
    # Christmas 2025: Tuesday 23rd to Monday 29th.
    assert CAL.next_opening(hki(2025, 12, 23, 15, 0)) == utc(2025, 12, 29, 8, 0)
    # While open, the next opening is the next business day's.
    assert CAL.next_opening(hki(2026, 3, 26, 12, 0)) == utc(2026, 3, 27, 8, 0)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        CAL.is_open(datetime(2026, 3, 27, 10, 0))


def test_custom_hours() -> None:
    cal = ServiceCalendar(opens=time(9, 0), closes=time(16, 0))
    assert cal.is_open(hki(2026, 3, 27, 9, 0))
    assert cal.is_open(hki(2026, 3, 27, 15, 30))
    assert not cal.is_open(hki(2026, 3, 27, 16, 0))


def test_closed_days_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "service_opens", "09:00")
    monkeypatch.setattr(settings, "service_closes", "16:00")
    monkeypatch.setattr(settings, "service_closed_days", ["12-31", "2026-03-02"])
    cal = calendar_from_settings()
    assert cal.opens == time(9, 0) and cal.closes == time(16, 0)
    assert not cal.is_business_day(date(2026, 12, 31))
    assert not cal.is_business_day(date(2027, 12, 31))
    assert not cal.is_business_day(date(2026, 3, 2))
    assert cal.is_business_day(date(2027, 3, 2))
    assert not cal.is_business_day(date(2026, 6, 19))  # the eves stay closed
    now = hki(2026, 3, 2, 12, 0)
    state = service_hours.state(now, cal)
    assert not state.is_open
    assert state.next_opening == utc(2026, 3, 3, 7, 0)
    assert service_hours.state(now + timedelta(days=1), cal).closes_at == utc(2026, 3, 3, 14, 0)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        parse_closed_days(["31.12."])
    with pytest.raises(ValueError):
        Settings(service_opens="25:00")
    with pytest.raises(ValueError):
        Settings(service_closed_days=["13-01"])
    assert Settings(service_closes="9:5").service_closes == "09:05"
