"""The last step of parsing: every value of a ``ParsedMail`` made storable on any database.

NUL characters and lone surrogates are removed from all text (PostgreSQL refuses both,
SQLite does not) and each value that goes into a column is cut to that column's limit in
``helpdesk.limits``, the one table both databases follow. Lists are bounded too, so that
one mail cannot make a JSON column or a log line without end.
"""

from __future__ import annotations

from typing import Any

from helpdesk.limits import clean, storable, storable_or_none
from helpdesk.mail.parsing.decode import Address
from helpdesk.mail.parsing.parsed import ParsedMail

#: References kept (the last ones: the parent is last); threading reads at most 100.
MAX_REFERENCES = 100
#: Addresses kept per header (To, Cc, ...).
MAX_ADDRESSES = 500
#: Notes kept in ``parse_errors`` and ``defects``, and the length of each.
MAX_NOTES = 100
MAX_NOTE_CHARS = 1000


def _addresses(values: list[Address]) -> list[Address]:
    return [
        (storable(name, "message.from_name"), storable(addr.lower(), "message.from_address"))
        for name, addr in values[:MAX_ADDRESSES]
    ]


def _notes(values: list[str]) -> list[str]:
    kept = [clean(v)[:MAX_NOTE_CHARS] for v in values[:MAX_NOTES]]
    if len(values) > MAX_NOTES:
        kept.append(f"... {len(values) - MAX_NOTES} more")
    return kept


def clean_value(value: Any) -> Any:
    """``value`` with every string in it cleaned (dicts, lists, tuples, sets followed)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean_value(k): clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return type(value)(clean_value(v) for v in value)
    return value


def make_storable(mail: ParsedMail) -> ParsedMail:
    """Clean and cut every value of ``mail`` in place (see the module docstring)."""
    mail.subject = storable(mail.subject, "message.subject")
    mail.from_name = storable_or_none(mail.from_name, "message.from_name")
    address = mail.from_address.lower() if mail.from_address else None
    mail.from_address = storable_or_none(address, "message.from_address")
    mail.message_id = storable_or_none(mail.message_id, "message.message_id")
    # Cut as Message-IDs are, so that a reply still finds the message it names.
    mail.in_reply_to = storable_or_none(mail.in_reply_to, "message.message_id")
    references = [storable(r, "message.message_id") for r in mail.references]
    mail.references = [r for r in references if r][-MAX_REFERENCES:]
    for name in ("reply_to", "to", "cc", "delivered_to", "return_path"):
        setattr(mail, name, _addresses(getattr(mail, name)))
    mail.headers = [(clean(k), clean(v)) for k, v in mail.headers]
    mail.text = clean(mail.text)
    mail.html = clean(mail.html) if mail.html is not None else None
    for att in mail.attachments:
        att.filename = storable(att.filename, "attachment.filename")
        att.content_type = storable(att.content_type, "attachment.content_type")
        att.content_id = storable_or_none(att.content_id, "attachment.content_id")
    mail.body_parts = [clean(p) for p in mail.body_parts]
    mail.flags = {clean(f) for f in mail.flags}
    mail.annotations = clean_value(mail.annotations)
    mail.parse_errors = _notes(mail.parse_errors)
    mail.defects = _notes(mail.defects)
    return mail


__all__ = ["MAX_ADDRESSES", "MAX_REFERENCES", "clean_value", "make_storable"]
