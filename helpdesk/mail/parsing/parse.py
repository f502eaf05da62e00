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
import time
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from html import unescape

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
from helpdesk.mail.parsing.sanitize import MAX_DEPTH, flatten_deep, html_to_text, sanitize_html
from helpdesk.mail.parsing.storable import make_storable

logger = logging.getLogger(__name__)

#: Seconds one mail may take to parse and clean; past them its HTML is shown as text.
PARSE_SECONDS = 10.0
#: An HTML body larger than this is shown as its text, not cleaned for display.
MAX_HTML_CHARS = 2_000_000
#: Text kept of a mail's body (all of it stays in the stored original).
MAX_TEXT_CHARS = 2_000_000
#: Boundary-like lines (``--...``) read; a mail of more parts is read up to there.
MAX_PARTS = 10_000


def _bounded(raw: bytes) -> bytes | None:
    """``raw`` cut before its ``MAX_PARTS``-th boundary-like line, or None when it has
    fewer (the email package takes linear but slow time per part: 100,000 took ~10 s)."""
    pos = -1
    for _ in range(MAX_PARTS):
        pos = raw.find(b"\n--", pos + 1)
        if pos < 0:
            return None
    return raw[: pos + 1]


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


def _fill(mail: ParsedMail, msg: Message, store: BlobStore | None, deadline: float) -> None:
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
    _body(mail, segments, deadline)


def _incomplete(mail: ParsedMail, note: str) -> None:
    """The mail is stored, but not all of it could be read: flagged, with the reason."""
    mail.unparsed = True
    mail.parse_errors.append(note)


def _tags_out(html: str) -> str:
    """Text of HTML by removing its tags: linear, for HTML too large or too late to read."""
    return re.sub(r"[ \t]{2,}", " ", unescape(re.sub(r"<[^>]*>", " ", html))).strip()


def _body(mail: ParsedMail, segments: list[Segment], deadline: float) -> None:
    """The mail's text and cleaned HTML from its body segments, within bounded work.

    HTML deeper than ``MAX_DEPTH`` is flattened first (in linear time); then HTML over
    ``MAX_HTML_CHARS`` is shown as its text, and so is all HTML once the mail's time is
    spent.
    """
    for seg in segments:
        if seg.html is None:
            continue
        seg.html, flattened = flatten_deep(seg.html)  # linear: before anything else
        if flattened:
            mail.defects.append(f"HTML nested deeper than {MAX_DEPTH}: {flattened} flattened")
        if len(seg.html) > MAX_HTML_CHARS:
            _incomplete(mail, f"an HTML body of {len(seg.html)} characters is shown as text")
            seg.plain, seg.html = _tags_out(seg.html), None
    texts = []
    for seg in segments:
        if seg.plain is not None:
            texts.append(seg.plain)
        elif time.monotonic() < deadline:
            texts.append(html_to_text(seg.html or ""))
        else:
            texts.append(_tags_out(seg.html or ""))
    mail.text = "\n".join(texts).strip("\n")
    if len(mail.text) > MAX_TEXT_CHARS:
        _incomplete(mail, f"the text is cut at {MAX_TEXT_CHARS} of {len(mail.text)} characters")
        mail.text = mail.text[:MAX_TEXT_CHARS]
    if any(s.html is not None for s in segments):
        if time.monotonic() >= deadline:
            _incomplete(mail, "the HTML was not cleaned in the time a mail has: text shown")
            return
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
    mail.text = decode_bytes(body)[0].replace("\x00", "")[:MAX_TEXT_CHARS]


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


def parse_mail(
    raw: bytes, *, store: BlobStore | None = None, seconds: float = PARSE_SECONDS
) -> ParsedMail:
    """Parse raw mail bytes into a ParsedMail; never raises.

    Every value comes back storable (``storable``); the work is bounded by the size and
    depth limits and by ``seconds`` (past them, HTML is shown as text and the mail is
    flagged ``unparsed``: not read fully).
    """
    deadline = time.monotonic() + seconds
    mail = ParsedMail(raw_sha256=hashlib.sha256(raw).hexdigest(), size=len(raw))
    cut = _bounded(raw)
    if cut is not None:
        _incomplete(mail, f"more than {MAX_PARTS} MIME parts: read up to byte {len(cut)}")
        raw = cut
    # DEFAULT: email.policy.default with cached header classes and values (``headers``).
    for policy in (DEFAULT, email.policy.compat32):
        attempt = ParsedMail(
            raw_sha256=mail.raw_sha256,
            size=mail.size,
            unparsed=mail.unparsed,
            parse_errors=list(mail.parse_errors),
        )
        try:
            msg = _read(raw, policy)
            if msg.policy is not policy:
                attempt.defects.append("MIME structure read with the compat32 policy")
            _fill(attempt, msg, store, deadline)
            return make_storable(attempt)
        except Exception as exc:  # never let one mail stop the mailbox
            name = "default" if policy is DEFAULT else "compat32"
            logger.warning("parse with policy %s failed for %s: %r", name, mail.raw_sha256, exc)
            mail.parse_errors.append(f"policy {name}: {exc!r}")
    mail.unparsed = True
    try:
        _salvage(mail, raw)
    except Exception as exc:
        mail.parse_errors.append(f"salvage: {exc!r}")
    return make_storable(mail)


__all__ = [
    "Address",
    "ParsedAttachment",
    "ParsedMail",
    "decode_bytes",
    "decode_header_value",
    "normalise_msgid",
    "parse_mail",
]
