"""The one table of column limits for text that comes from outside (mail above all).

SQLite stores any string in any column; PostgreSQL refuses a value longer than its
``VARCHAR(n)``, any NUL character, a string that is not valid UTF-8 (Python's lone
surrogates) and a B-tree index entry larger than about 2.7 kB. So that the two databases
agree, text from mail is made storable before it reaches either: ``storable`` removes NUL
and surrogates and cuts to the limit written here. The models take their ``max_length``
from this table too (the migrations hold the same numbers; a test reads them back from a
migrated PostgreSQL database).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Limit(NamedTuple):
    """Characters a column holds; ``indexed``: also at most ``INDEX_BYTES`` of UTF-8."""

    chars: int
    indexed: bool = False


#: PostgreSQL's B-tree refuses entries over about a third of an 8 kB page (2704 bytes);
#: an indexed text column keeps well under it whatever the characters are.
INDEX_BYTES = 2000

#: ``table.column`` -> its limit. Text columns (``message.text``) have none but NUL.
LIMITS: dict[str, Limit] = {
    "ticket.subject": Limit(998),
    "ticket.customer_email": Limit(254, indexed=True),
    "ticket.customer_name": Limit(200),
    "message.subject": Limit(998),
    "message.from_name": Limit(300),
    "message.from_address": Limit(254),
    "message.message_id": Limit(998, indexed=True),
    "message.in_reply_to": Limit(998),
    "attachment.filename": Limit(500),
    "attachment.content_type": Limit(255),
    "attachment.content_id": Limit(998),
    "inbound_mail.header_message_id": Limit(998, indexed=True),
}

#: What PostgreSQL cannot store in text: NUL, and surrogates (not encodable as UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def chars(column: str) -> int:
    """The ``max_length`` of ``column`` (``table.column``)."""
    return LIMITS[column].chars


def clean(value: str) -> str:
    """``value`` without NUL characters and lone surrogates."""
    return _UNSTORABLE.sub("", value) if _UNSTORABLE.search(value) else value


def storable(value: str, column: str | None = None) -> str:
    """``value`` cleaned (``clean``) and cut to the limit of ``column`` (if given)."""
    value = clean(value)
    if column is None:
        return value
    limit = LIMITS[column]
    value = value[: limit.chars]
    if limit.indexed and len(value) * 4 > INDEX_BYTES:
        encoded = value.encode("utf-8")
        if len(encoded) > INDEX_BYTES:
            value = encoded[:INDEX_BYTES].decode("utf-8", "ignore")
    return value


def storable_or_none(value: str | None, column: str) -> str | None:
    """``storable``, with None for a value that is None or empty once cleaned."""
    return (storable(value, column) or None) if value is not None else None


__all__ = ["INDEX_BYTES", "LIMITS", "Limit", "chars", "clean", "storable", "storable_or_none"]
