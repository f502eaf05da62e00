from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.service_hours import ServiceCalendar
from plugins.invoices.rules.deadline import InvoiceDeadline

HKI = ZoneInfo("Europe/Helsinki")
CAL = InvoiceDeadline()


def hki(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=HKI)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def test_extra_closed_days_of_the_calendar_move_the_deadline() -> None:
    cal = InvoiceDeadline(ServiceCalendar(extra_closed=lambda d: d == date(2026, 3, 2)))
    assert cal.deadline_for(hki(2026, 3, 2, 11, 0)) == utc(2026, 3, 3, 13, 0)


def test_deadline_same_day_up_to_cutoff_inclusive() -> None:
    assert CAL.deadline_for(hki(2026, 3, 27, 9, 0)) == utc(2026, 3, 27, 13, 0)
    assert CAL.deadline_for(hki(2026, 3, 27, 15, 0, 0)) == utc(2026, 3, 27, 13, 0)
    after = hki(2026, 3, 27, 15, 0, 0) + timedelta(microseconds=1)
    # Friday after the cutoff: Monday, which is already summer time (UTC+3).
    assert CAL.deadline_for(after) == utc(2026, 3, 30, 12, 0)


def test_deadline_accepts_any_time_zone() -> None:
    assert CAL.deadline_for(utc(2026, 3, 27, 12, 59, 59)) == utc(2026, 3, 27, 13, 0)
    assert CAL.deadline_for(utc(2026, 3, 27, 13, 0, 1)) == utc(2026, 3, 30, 12, 0)
    new_york = datetime(2026, 3, 27, 8, 0, tzinfo=ZoneInfo("America/New_York"))  # 14:00 HKI
    assert CAL.deadline_for(new_york) == utc(2026, 3, 27, 13, 0)


def test_deadline_across_autumn_dst_change() -> None:
    # Friday 23 Oct 2026 is summer time; Monday 26 Oct is winter time (UTC+2).
    assert CAL.deadline_for(hki(2026, 10, 23, 14, 0)) == utc(2026, 10, 23, 12, 0)
    assert CAL.deadline_for(hki(2026, 10, 23, 16, 0)) == utc(2026, 10, 26, 13, 0)
    # Seen during the repeated hour of the change night (Sunday): Monday.
    assert CAL.deadline_for(utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 26, 13, 0)


def test_deadline_over_holidays_and_weekends() -> None:
    assert CAL.deadline_for(hki(2026, 4, 2, 16, 0)) == utc(2026, 4, 7, 12, 0)  # Easter
    assert CAL.deadline_for(hki(2026, 3, 28, 10, 0)) == utc(2026, 3, 30, 12, 0)  # Saturday
    assert CAL.deadline_for(hki(2025, 12, 23, 15, 30)) == utc(2025, 12, 29, 13, 0)  # Christmas
    assert CAL.deadline_for(hki(2026, 6, 18, 15, 1)) == utc(2026, 6, 22, 12, 0)  # Midsummer


def test_margin_moves_deadline() -> None:
    cal = InvoiceDeadline(margin=timedelta(minutes=15))
    assert cal.deadline_for(hki(2026, 3, 27, 10, 0)) == utc(2026, 3, 27, 13, 15)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        CAL.deadline_for(datetime(2026, 3, 27, 10, 0))


def test_alert_window() -> None:
    assert not CAL.alert_active(hki(2026, 3, 27, 14, 29, 59))
    assert CAL.alert_active(hki(2026, 3, 27, 14, 30))
    assert CAL.alert_active(hki(2026, 3, 27, 15, 0))
    assert not CAL.alert_active(hki(2026, 3, 27, 15, 0, 1))
    assert not CAL.alert_active(hki(2026, 4, 3, 14, 45))
    assert CAL.alert_active(hki(2026, 3, 27, 14, 0), window=timedelta(hours=1))
    assert InvoiceDeadline(margin=timedelta(minutes=5)).alert_active(hki(2026, 3, 27, 15, 4))


def test_time_left() -> None:
    deadline = CAL.deadline_for(hki(2026, 3, 27, 9, 0))
    assert CAL.time_left(deadline, hki(2026, 3, 27, 14, 0)) == timedelta(hours=1)
    assert CAL.time_left(deadline, hki(2026, 3, 27, 15, 30)) == timedelta(minutes=-30)


def test_custom_cutoff() -> None:
    cal = InvoiceDeadline(cutoff=time(16, 0))
    assert cal.deadline_for(hki(2026, 3, 27, 15, 30)) == utc(2026, 3, 27, 14, 0)


def test_promise_window_is_what_deadline_for_gives_the_day() -> None:
    # Monday 9.12.2024: after Thursday's cutoff (Friday 6.12. is a holiday, then a weekend).
    opens, cutoff = CAL.promise_window(date(2024, 12, 9))
    assert (opens, cutoff) == (hki(2024, 12, 5, 15, 0), hki(2024, 12, 9, 15, 0))
    monday = CAL.deadline_for(hki(2024, 12, 9, 12, 0))
    for seen in (
        hki(2024, 12, 5, 15, 0, 1),
        hki(2024, 12, 6, 11, 0),
        hki(2024, 12, 8, 23, 0),
        hki(2024, 12, 9, 15, 0),
    ):
        assert opens < seen <= cutoff and CAL.deadline_for(seen) == monday
    assert CAL.deadline_for(hki(2024, 12, 5, 15, 0)) != monday
    assert CAL.deadline_for(hki(2024, 12, 9, 15, 1)) != monday
