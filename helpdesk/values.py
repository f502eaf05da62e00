"""Parsers for values people type: ids in forms, HH:MM wall times and closed days.

``str.isdigit()`` is true for characters such as "²" that ``int()`` refuses, so every
"is this a number?" check on user input goes through here.
"""

from __future__ import annotations

from datetime import date


def as_id(value: str | None) -> int | None:
    """The non-negative integer written in ``value`` with ASCII digits, else None."""
    if value is None:
        return None
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def parse_wall_time(value: str) -> str:
    """``"9:5"`` → ``"09:05"``; raises ValueError for anything that is not a valid HH:MM."""
    hours, _, minutes = value.strip().partition(":")
    h, m = as_id(hours), as_id(minutes)
    if h is None or m is None or h >= 24 or m >= 60:
        raise ValueError(f"{value!r} is not a time of day (HH:MM)")
    return f"{h:02d}:{m:02d}"


def parse_closed_day(value: str) -> tuple[int, int] | date:
    """``"12-31"`` → ``(12, 31)`` (every year), ``"2026-03-02"`` → that date (once).

    Raises ValueError for anything else; 02-29 is a valid yearly day.
    """
    text = value.strip()
    try:
        if text.count("-") == 1:
            month, day = (int(part) for part in text.split("-"))
            date(2024, month, day)  # a leap year, so 02-29 is allowed
            return (month, day)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"closed day must be MM-DD or YYYY-MM-DD: {value!r}") from exc
