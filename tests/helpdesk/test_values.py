"""Values typed by people: only ASCII digits are ids, times are HH:MM, closed days MM-DD."""

from datetime import date

import pytest

from helpdesk.settings import Settings
from helpdesk.values import as_id, parse_closed_day, parse_wall_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        ("0", 0),
        ("", None),
        (None, None),
        ("²", None),
        ("٣", None),
        ("-1", None),
        ("1.5", None),
        ("abc", None),
    ],
)
def test_as_id(text, expected):
    assert as_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("9:5", "09:05"), ("15:00", "15:00"), (" 23:59 ", "23:59")]
)
def test_wall_times_are_normalised(text, expected):
    assert parse_wall_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "12:60", "12", "²:00", "aa:bb", ""])
def test_bad_wall_times_are_refused(text):
    with pytest.raises(ValueError, match="HH:MM"):
        parse_wall_time(text)


def test_settings_refuse_a_bad_service_time():
    with pytest.raises(ValueError, match="service hours must be HH:MM"):
        Settings(service_opens="²:00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12-31", (12, 31)), (" 02-29 ", (2, 29)), ("2026-03-02", date(2026, 3, 2))],
)
def test_closed_days_are_yearly_or_once(text, expected):
    assert parse_closed_day(text) == expected


@pytest.mark.parametrize("text", ["31.12.", "13-01", "02-30", "2026-02-30", "", "²-01"])
def test_bad_closed_days_are_refused(text):
    with pytest.raises(ValueError, match="MM-DD or YYYY-MM-DD"):
        parse_closed_day(text)
