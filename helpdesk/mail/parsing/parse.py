"""Raw RFC 5322 bytes -> ParsedMail: headers, text, sanitised HTML and attachments.

``parse_mail`` never raises. Mail that defeats the parser comes back with
``unparsed=True`` and whatever could be salvaged; the raw bytes are archived by
the caller, so such mail is shown and can be replayed later.

Every MIME leaf ends up either as a body part (its path in ``body_parts``) or as
an attachment (its path in ``ParsedAttachment.part``); ``message/*`` parts are
leaves here, kept whole as attachments.

Charset and header decoding live in ``helpdesk.mail.parsing.decode``; its public names are
re-exported here for callers that import them from the parser.
"""

from __future__ import annotations

import email.errors
import email.policy
import email.utils
import hashlib
import logging
import re
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser

from helpdesk.blobs import BlobStore
from helpdesk.mail.parsing.decode import (
    Address,
    addresses,
    decode_bytes,
    decode_header_value,
    msgid_list,
    normalise_msgid,
)
from helpdesk.mail.parsing.headers import DEFAULT
from helpdesk.mail.parsing.mimewalk import Segment, Walker, pre
from helpdesk.mail.parsing.parsed import ParsedAttachment, ParsedMail
from helpdesk.mail.parsing.sanitize import html_to_text, sanitize_html

logger = logging.getLogger(__name__)


def _date(value: str | None, mail: ParsedMail) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        mail.defects.append(f"unparseable Date: {value!r}")
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# --- entry point ---------------------------------------------------------------------


def _fill(mail: ParsedMail, msg: Message, store: BlobStore | None) -> None:
    raw_headers = [(str(k), str(v)) for k, v in msg.raw_items()]
    mail.headers = [(k, decode_header_value(v)) for k, v in raw_headers]

    def raw(name: str) -> list[str]:
        return [v for k, v in raw_headers if k.lower() == name.lower()]

    def first(name: str) -> str | None:
        values = raw(name)
        return values[0] if values else None

    mail.message_id = normalise_msgid(first("Message-ID"))
    mail.in_reply_to = normalise_msgid(first("In-Reply-To"))
    mail.references = msgid_list(" ".join(raw("References")))
    mail.subject = decode_header_value(first("Subject") or "").strip()
    sender = addresses(raw("From")[:1])
    if sender:
        mail.from_name = sender[0][0] or None
        mail.from_address = sender[0][1] or None
    mail.reply_to = addresses(raw("Reply-To"))
    mail.to = addresses(raw("To"))
    mail.cc = addresses(raw("Cc"))
    mail.delivered_to = addresses(raw("Delivered-To"))
    mail.return_path = addresses(raw("Return-Path"))
    mail.date = _date(first("Date"), mail)
    for i, part in enumerate(msg.walk()):
        mail.defects += [f"part {i}: {type(d).__name__}: {d}" for d in part.defects]

    walker = Walker(mail, store)
    segments = walker.collect(msg, "")
    tnef_body = mail.annotations.get("tnef_body")
    if tnef_body and not any((s.plain or s.html or "").strip() for s in segments):
        segments.append(
            Segment(**{"html" if tnef_body["kind"] == "html" else "plain": tnef_body["body"]})
        )
    mail.text = "\n".join(
        s.plain if s.plain is not None else html_to_text(s.html or "") for s in segments
    ).strip("\n")
    if any(s.html is not None for s in segments):
        mail.html = "".join(
            sanitize_html(s.html) if s.html is not None else sanitize_html(pre(s.plain or ""))
            for s in segments
        )


def _salvage(mail: ParsedMail, raw: bytes) -> None:
    head, sep, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    if not sep:
        head, body = b"", raw
    unfolded = re.sub(rb"\n[ \t]+", b" ", head)
    for line in unfolded.split(b"\n"):
        name, colon, value = line.partition(b":")
        if colon and re.fullmatch(rb"[!-9;-~]+", name):
            text = value.strip().decode("utf-8", "surrogateescape")
            mail.headers.append((name.decode("ascii"), decode_header_value(text)))
    mail.subject = mail.header("Subject") or ""
    mail.message_id = normalise_msgid(mail.header("Message-ID"))
    mail.text = decode_bytes(body)[0].replace("\x00", "")


_STRUCTURE_DEFECTS = (
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.CloseBoundaryNotFoundDefect,
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.MultipartInvariantViolationDefect,
)


def _structure_defects(msg: Message) -> int:
    return sum(isinstance(d, _STRUCTURE_DEFECTS) for part in msg.walk() for d in part.defects)


def _read(raw: bytes, policy: email.policy.Policy) -> Message:
    msg = BytesParser(policy=policy).parsebytes(raw)
    if policy is DEFAULT and _structure_defects(msg):
        # The default policy's header parser mangles some unquoted boundaries
        # (Outlook Express "----=_NextPart_..."), which compat32 reads correctly.
        legacy = BytesParser(policy=email.policy.compat32).parsebytes(raw)
        if _structure_defects(legacy) < _structure_defects(msg):
            return legacy
    return msg


def parse_mail(raw: bytes, *, store: BlobStore | None = None) -> ParsedMail:
    """Parse raw mail bytes into a ParsedMail; never raises."""
    mail = ParsedMail(raw_sha256=hashlib.sha256(raw).hexdigest(), size=len(raw))
    # DEFAULT: email.policy.default with cached header classes and values (``headers``).
    for policy in (DEFAULT, email.policy.compat32):
        attempt = ParsedMail(
            raw_sha256=mail.raw_sha256, size=mail.size, parse_errors=list(mail.parse_errors)
        )
        try:
            msg = _read(raw, policy)
            if msg.policy is not policy:
                attempt.defects.append("MIME structure read with the compat32 policy")
            _fill(attempt, msg, store)
            return attempt
        except Exception as exc:  # never let one mail stop the mailbox
            name = "default" if policy is DEFAULT else "compat32"
            logger.warning("parse with policy %s failed for %s: %r", name, mail.raw_sha256, exc)
            mail.parse_errors.append(f"policy {name}: {exc!r}")
    mail.unparsed = True
    try:
        _salvage(mail, raw)
    except Exception as exc:
        mail.parse_errors.append(f"salvage: {exc!r}")
    return mail


__all__ = [
    "Address",
    "ParsedAttachment",
    "ParsedMail",
    "decode_bytes",
    "decode_header_value",
    "normalise_msgid",
    "parse_mail",
]
