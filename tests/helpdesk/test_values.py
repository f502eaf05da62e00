"""Values typed by people: only ASCII digits are ids, times are HH:MM, closed days MM-DD."""

from datetime import date

import pytest
from pydantic import TypeAdapter, ValidationError

from helpdesk.settings import Settings
from helpdesk.values import (
    MAX_ID,
    MAX_KEY,
    MAX_LINE,
    MAX_SEARCH_TERMS,
    MAX_TEXT,
    Id,
    Key,
    Line,
    Search,
    Text,
    as_id,
    parse_closed_day,
    parse_wall_time,
    search_terms,
)


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [(str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), (str(2**63), None), ("9" * 400, None)],
)
def test_as_id_is_none_beyond_the_id_columns(text, expected):
    assert as_id(text) == expected


def test_text_types_refuse_nul_lone_surrogates_and_over_long_values():
    line, text = TypeAdapter(Line), TypeAdapter(Text)
    assert line.validate_python("Matti Meikäläinen") == "Matti Meikäläinen"
    for bad in ("a\x00b", "a\ud800b", "x" * (MAX_LINE + 1)):
        with pytest.raises(ValidationError):
            line.validate_python(bad)
    assert len(text.validate_python("x" * MAX_TEXT)) == MAX_TEXT
    with pytest.raises(ValidationError):
        text.validate_python("x" * (MAX_TEXT + 1))
    with pytest.raises(ValidationError):
        TypeAdapter(Id).validate_python(MAX_ID + 1)
    with pytest.raises(ValidationError):
        TypeAdapter(Key).validate_python("k" * (MAX_KEY + 1))


def test_a_search_is_cut_not_refused():
    search = TypeAdapter(Search)
    assert len(search.validate_python("sana " * 1000)) == MAX_LINE
    with pytest.raises(ValidationError):
        search.validate_python("lasku\x00")
    words = " ".join(f"w{i}" for i in range(1000))
    assert search_terms(words) == [f"w{i}" for i in range(MAX_SEARCH_TERMS)]
    assert search_terms("a a b") == ["a", "b"]
