"""Values people and scripts send: ids, text, search terms, HH:MM wall times, closed days.

``str.isdigit()`` is true for characters such as "²" that ``int()`` refuses, so every
"is this a number?" check on user input goes through here.

The annotated types are what every route and form model takes, core and plugin, so that
an input the database cannot hold is refused in one place, before any query:

- ``Id``: a row id in a path, a query or a body. Every id column is a 32-bit ``INTEGER``
  on PostgreSQL (SQLite's is 64-bit), so anything outside 0..2^31-1 names no row; the
  web layer answers a path id outside it with 404 and a body field with 422.
- ``Key``: an ``Idempotency-Key`` header or a form's one-time token (150 characters,
  so that with its prefix it fits the ``idempotency_key`` columns).
- ``Search``: what a search box sends; cut to ``MAX_LINE`` characters, and services use
  only its first ``MAX_SEARCH_TERMS`` words (``search_terms``).
- ``Line`` and ``Text``: a one-line value (a name, a subject, an address, a search) and
  a long one (a mail body, a note). Both refuse NUL characters (PostgreSQL's text cannot
  hold them) and lone UTF-16 surrogates (JSON's ``"\\ud800"``: no UTF-8 encodes them),
  and have a maximum length, so a megabyte of "name" is a field error, not a slow query.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

#: The largest id: PostgreSQL's ``INTEGER`` (int4), the type of every id column.
MAX_ID = 2**31 - 1
#: The longest one-line value (names, subjects, addresses, search strings).
MAX_LINE = 1000
#: The longest free text (a reply, a note): 200k characters is a long mail already.
MAX_TEXT = 200_000
#: A search uses at most this many words; the rest of a pasted text is ignored.
MAX_SEARCH_TERMS = 12


def as_id(value: str | None) -> int | None:
    """The id written in ``value`` with ASCII digits (0..``MAX_ID``), else None."""
    if value is None:
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def check_text(value: str) -> str:
    """``value`` unchanged; ValueError if it holds a NUL or a lone surrogate."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (a lone surrogate was sent)") from exc
    return value


#: A row id in a path, query or body: 0..``MAX_ID`` (0 is no row, as "seen nothing yet").
Id = Annotated[int, Field(ge=0, le=MAX_ID)]
#: A one-line value: no NUL, no lone surrogate, at most ``MAX_LINE`` characters.
Line = Annotated[str, StringConstraints(max_length=MAX_LINE), AfterValidator(check_text)]
#: Free text (a reply, a note): no NUL, no lone surrogate, at most ``MAX_TEXT`` characters.
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(check_text)]


def _cut(value: str) -> str:
    return value[:MAX_LINE]


#: An idempotency key (a header, or a form's token): with our prefix it must fit the
#: 200 characters of the ``idempotency_key`` columns.
MAX_KEY = 150
Key = Annotated[str, StringConstraints(max_length=MAX_KEY), AfterValidator(check_text)]

#: A search box: as ``Line``, but a longer text (a pasted page) is cut, not refused.
Search = Annotated[str, AfterValidator(check_text), AfterValidator(_cut)]


def search_terms(query: str, limit: int = MAX_SEARCH_TERMS) -> list[str]:
    """The first ``limit`` distinct words of ``query``: a pasted page is a bounded search."""
    return list(dict.fromkeys(query.split()))[:limit]


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
