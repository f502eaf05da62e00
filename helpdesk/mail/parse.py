"""Raw RFC 5322 bytes -> ParsedMail: headers, text, sanitised HTML and attachments.

``parse_mail`` never raises. Mail that defeats the parser comes back with
``unparsed=True`` and whatever could be salvaged; the raw bytes are archived by
the caller, so such mail is shown and can be replayed later.

Every MIME leaf ends up either as a body part (its path in ``body_parts``) or as
an attachment (its path in ``ParsedAttachment.part``); ``message/*`` parts are
leaves here, kept whole as attachments.
"""

from __future__ import annotations

import base64
import codecs
import email.errors
import email.policy
import email.utils
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.message import Message
from email.parser import BytesParser
from html import escape
from io import BytesIO
from typing import Any

import charset_normalizer
import tnefparse

from helpdesk.mail.rawstore import BlobStore
from helpdesk.mail.sanitize import html_to_text, sanitize_html

logger = logging.getLogger(__name__)

Address = tuple[str, str]


@dataclass
class ParsedAttachment:
    """One stored attachment; ``part`` is its MIME path, ``container`` set when unpacked."""

    filename: str
    content_type: str
    size: int
    sha256: str
    content_id: str | None = None
    inline: bool = False
    disposition: str | None = None
    part: str = ""
    container: str | None = None
    data: bytes | None = None


@dataclass
class ParsedMail:
    """The one value passed between parse, filters and ingest; filters annotate it."""

    raw_sha256: str
    size: int
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str | None = None
    from_address: str | None = None
    reply_to: list[Address] = field(default_factory=list)
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    delivered_to: list[Address] = field(default_factory=list)
    return_path: list[Address] = field(default_factory=list)
    date: datetime | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""
    html: str | None = None
    attachments: list[ParsedAttachment] = field(default_factory=list)
    body_parts: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    annotations: dict[str, Any] = field(default_factory=dict)
    unparsed: bool = False
    parse_errors: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)

    def header_all(self, name: str) -> list[str]:
        low = name.lower()
        return [v for k, v in self.headers if k.lower() == low]


# --- bytes and header decoding -----------------------------------------------------

# Names seen in the wild that Python does not know, mapped to what they mean.
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "x-unknown": "",
    "unknown-8bit": "",
    "x-user-defined": "",
    "ks_c_5601-1987": "cp949",
    "unicode-1-1-utf-7": "utf-7",
    "x-sjis": "shift_jis",
    "ansi_x3.4-1968": "ascii",
    "windows-874": "cp874",
    "x-mac-roman": "mac_roman",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp-850": "cp850",
    "utf8": "utf-8",
}
# Finnish and Swedish text in a single-byte Western charset decodes to only these.
_NORDIC_PLAUSIBLE = re.compile(r"[\x00-\x7fäöåÄÖÅéÉèüÜ€§°–—‘’“”…«»£½´\xa0]*")


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not name:
        return None
    try:
        name = codecs.lookup(name).name
    except LookupError:
        return None
    # Mail that says Latin-1 or ASCII is in practice Windows-1252 (the WHATWG rule).
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def _cp1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # Five bytes are undefined in cp1252; latin-1 maps them to C1 controls.
        return "".join(
            chr(b) if 0x80 <= b <= 0x9F else bytes([b]).decode("cp1252") if b >= 0x80 else chr(b)
            for b in data
        )


def decode_bytes(data: bytes, charset: str | None = None) -> tuple[str, str | None]:
    """Decode text bytes without ever failing; returns (text, note about a repair or None)."""
    codec = _codec(charset)
    is_ascii = data.isascii()
    if codec and (is_ascii or codec not in ("cp1252", "iso8859-15")):
        try:
            return data.decode(codec), None
        except (UnicodeDecodeError, LookupError):
            pass
    if is_ascii:
        return data.decode("ascii"), None
    try:
        text = data.decode("utf-8")
        note = None if codec in (None, "utf-8") else f"declared {charset} but was UTF-8"
        return text, note
    except UnicodeDecodeError:
        pass
    if codec in ("cp1252", "iso8859-15"):
        return (_cp1252(data) if codec == "cp1252" else data.decode(codec)), None
    western = _cp1252(data)
    where = f"declared {charset}" if charset else "no charset"
    if _NORDIC_PLAUSIBLE.fullmatch(western):
        return western, f"{where}; decoded as windows-1252"
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return str(best), f"{where}; detected {best.encoding}"
    return data.decode("latin-1"), f"{where}; decoded as latin-1"


def _unescape_8bit(value: str) -> str:
    """Undo the parser's surrogateescape of raw 8-bit header bytes (UTF-8, else cp1252)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _cp1252(raw)


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")


def _decode_word(enc: str, payload: str) -> bytes:
    if enc in "Bb":
        payload = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        payload += "=" * (-len(payload) % 4)
        try:
            return base64.b64decode(payload)
        except ValueError:
            return payload.encode("ascii", "replace")
    data = payload.replace("_", " ").encode("ascii", "surrogateescape")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)


def decode_header_value(value: str) -> str:
    """Unfold and decode a raw header value: RFC 2047 words in any charset, 8-bit bytes."""
    value = re.sub(r"\r?\n(?=[ \t])", "", str(value)).replace("\r", "").replace("\n", "")
    value = _unescape_8bit(value)
    out: list[str] = []
    pos = 0
    pending: tuple[str, bytes] | None = None  # adjacent words of one charset join first
    for m in _ENCODED_WORD.finditer(value):
        gap = value[pos : m.start()]
        charset = m.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        data = _decode_word(m.group(2), m.group(3))
        if pending and not gap.strip():
            if pending[0].lower() == charset.lower():
                pending = (charset, pending[1] + data)
            else:
                out.append(decode_bytes(pending[1], pending[0])[0])
                pending = (charset, data)
        else:
            if pending:
                out.append(decode_bytes(pending[1], pending[0])[0])
            out.append(gap)
            pending = (charset, data)
        pos = m.end()
    if pending:
        out.append(decode_bytes(pending[1], pending[0])[0])
    out.append(value[pos:])
    return "".join(out).replace("\x00", "")


_ID_RE = re.compile(r"<([^<>]*)>")


def normalise_msgid(value: str | None) -> str | None:
    if not value:
        return None
    m = _ID_RE.search(value)
    ident = m.group(1) if m else value
    ident = re.sub(r"\s+", "", ident).strip("<>")
    return ident or None


def _msgid_list(value: str | None) -> list[str]:
    if not value:
        return []
    found = _ID_RE.findall(value) or value.split()
    ids = [re.sub(r"\s+", "", i).strip("<>") for i in found]
    return list(dict.fromkeys(i for i in ids if i))


def _addresses(values: list[str]) -> list[Address]:
    result: list[Address] = []
    for name, addr in email.utils.getaddresses([_unescape_8bit(v) for v in values]):
        result.append((decode_header_value(name).strip(), addr.strip().lower()))
    return result


def _date(value: str | None, mail: ParsedMail) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        mail.defects.append(f"unparseable Date: {value!r}")
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# --- MIME walk ------------------------------------------------------------------------

_TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
_EXTENSIONS = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "text/plain": "txt",
    "text/html": "html",
    "text/calendar": "ics",
    "message/rfc822": "eml",
    "application/zip": "zip",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "application/pkcs7-signature": "p7s",
    "application/x-pkcs7-signature": "p7s",
    "application/pgp-signature": "asc",
    "application/pgp-encrypted": "pgp",
    "message/delivery-status": "txt",
    "text/rfc822-headers": "txt",
    "text/x-vcard": "vcf",
    "text/vcard": "vcf",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "image/tiff": "tif",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
}


@dataclass
class _Segment:
    plain: str | None = None
    html: str | None = None


def _safe_filename(name: str) -> str:
    """Drop control characters and any directory part a sender put in the name."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).replace("\\", "/").rsplit("/", 1)[-1]
    return "" if name.strip() in ("", ".", "..") else name.strip()


class _Walker:
    def __init__(self, mail: ParsedMail, store: BlobStore | None) -> None:
        self.mail = mail
        self.store = store
        self.counter = 0

    # attachments ---------------------------------------------------------------------

    def attach(
        self,
        data: bytes,
        *,
        ctype: str,
        filename: str | None,
        path: str,
        content_id: str | None = None,
        disposition: str | None = None,
        inline: bool = False,
        container: str | None = None,
    ) -> None:
        self.counter += 1
        name = _safe_filename(decode_header_value(filename)) if filename else ""
        if not name:
            name = f"attachment-{self.counter}.{_EXTENSIONS.get(ctype, 'bin')}"
        sha = hashlib.sha256(data).hexdigest()
        if self.store is not None:
            self.store.put(data)
        self.mail.attachments.append(
            ParsedAttachment(
                filename=name,
                content_type=ctype,
                size=len(data),
                sha256=sha,
                content_id=normalise_msgid(content_id),
                inline=inline,
                disposition=disposition,
                part=path,
                container=container,
                data=None if self.store is not None else data,
            )
        )

    def attach_leaf(self, part: Message, path: str) -> None:
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        content_id = part.get("Content-ID")
        if part.get_content_maintype() == "message":
            data = self._message_bytes(part)
            if ctype in ("message/rfc822", "message/global"):
                filename = filename or self._embedded_name(part, path)
            else:
                filename = filename or f"{part.get_content_subtype()}.txt"
        else:
            data = _payload(part)
            if ctype == "text/rfc822-headers" and not filename:
                filename = "rfc822-headers.txt"
        is_tnef = ctype in _TNEF_TYPES or (filename or "").lower() == "winmail.dat"
        if is_tnef and self._unpack_tnef(data, path, filename or "winmail.dat"):
            return
        inline = disposition == "inline" or (disposition is None and content_id is not None)
        self.attach(
            data,
            ctype=ctype,
            filename=filename,
            path=path,
            content_id=content_id,
            disposition=disposition,
            inline=inline,
        )

    def force_attach(self, part: Message, path: str) -> None:
        """Keep every leaf under ``part`` as an attachment (unchosen alternatives)."""
        if part.is_multipart() and part.get_content_maintype() != "message":
            for i, child in enumerate(_children(part), 1):
                self.force_attach(child, f"{path}.{i}" if path else str(i))
        else:
            self.attach_leaf(part, path or "1")

    def _message_bytes(self, part: Message) -> bytes:
        payload = _children(part)
        if payload:
            buf = BytesIO()
            policy = (
                email.policy.compat32
                if part.policy is email.policy.compat32
                else (email.policy.default.clone(refold_source="none", max_line_length=0))
            )
            for sub in payload:
                BytesGenerator(buf, mangle_from_=False, policy=policy).flatten(sub)
                if len(payload) > 1:
                    buf.write(b"\n")
            return buf.getvalue()
        return _payload(part)

    def _embedded_name(self, part: Message, path: str) -> str:
        inner = next(iter(_children(part)), None)
        subject = decode_header_value(inner.get("Subject", "")) if inner is not None else ""
        if inner is not None:
            self.mail.annotations.setdefault("embedded_messages", []).append(
                {
                    "part": path,
                    "subject": subject,
                    "message_id": normalise_msgid(str(inner.get("Message-ID", "")) or None),
                    "from": decode_header_value(inner.get("From", "")),
                }
            )
        stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", subject).strip(" ._")[:80]
        return f"{stem or f'message-{self.counter + 1}'}.eml"

    def _unpack_tnef(self, data: bytes, path: str, name: str) -> bool:
        try:
            tnef = tnefparse.TNEF(data, do_checksum=False)
            files = [(a.long_filename() or a.name, a.data) for a in tnef.attachments]
            body = tnef.htmlbody or tnef.body
        except Exception as exc:  # tnefparse raises anything on odd input
            self.mail.parse_errors.append(f"{path}: TNEF not unpacked: {exc!r}")
            return False
        if not files and not body:
            return False
        for fname, fdata in files:
            fbytes = fdata if isinstance(fdata, bytes) else str(fdata).encode("utf-8")
            self.attach(
                fbytes,
                ctype="application/octet-stream",
                filename=str(fname),
                path=path,
                disposition="attachment",
                container=name,
            )
        if body:
            text = body if isinstance(body, str) else decode_bytes(body)[0]
            key = "html" if tnef.htmlbody else "text"
            self.mail.annotations["tnef_body"] = {"kind": key, "body": text.rstrip("\x00")}
            if not files:
                self.mail.body_parts.append(path)
        return True

    # bodies -------------------------------------------------------------------------

    def collect(self, part: Message, path: str) -> list[_Segment]:
        """Body segments of ``part`` in order; everything else becomes attachments."""
        maintype = part.get_content_maintype()
        if maintype == "message" or not part.is_multipart():
            return self._leaf(part, path or "1")
        subtype = part.get_content_subtype()
        children = _children(part)

        def sub(i: int) -> str:
            return f"{path}.{i}" if path else str(i)

        if subtype == "report":
            self._note_report(part)
        if subtype == "alternative":
            return self._alternative(children, sub)
        if subtype == "related" and children:
            root_index = self._related_root(part, children)
            segments: list[_Segment] = []
            for i, child in enumerate(children, 1):
                if i - 1 == root_index:
                    segments += self.collect(child, sub(i))
                else:
                    self.force_attach(child, sub(i))
            return segments
        segments = []
        for i, child in enumerate(children, 1):
            segments += self.collect(child, sub(i))
        return segments

    def _leaf(self, part: Message, path: str) -> list[_Segment]:
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        is_text = ctype in ("text/plain", "text/html") or part.get_content_maintype() == (
            "multipart"
        )  # a multipart without a usable boundary: its body is text
        if is_text and disposition != "attachment" and not part.get_filename():
            text, note = decode_bytes(_payload(part), part.get_content_charset())
            if note:
                self.mail.defects.append(f"{path}: charset {note}")
            text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
            self.mail.body_parts.append(path)
            return [_Segment(html=text) if ctype == "text/html" else _Segment(plain=text)]
        self.attach_leaf(part, path)
        return []

    def _alternative(self, children: list[Message], sub: Callable[[int], str]) -> list[_Segment]:
        kinds = [_kind(c) for c in children]
        best_html = max((i for i, k in enumerate(kinds) if k == "html"), default=None)
        best_plain = max((i for i, k in enumerate(kinds) if k == "plain"), default=None)
        merged = _Segment()
        for i, child in enumerate(children):
            if i == best_html:
                segs = self.collect(child, sub(i + 1))
                merged.html = "".join(s.html or _pre(s.plain or "") for s in segs)
            elif i == best_plain:
                segs = self.collect(child, sub(i + 1))
                merged.plain = "\n".join(s.plain or html_to_text(s.html or "") for s in segs)
            else:
                self.force_attach(child, sub(i + 1))
        return [merged] if merged.html is not None or merged.plain is not None else []

    @staticmethod
    def _related_root(part: Message, children: list[Message]) -> int:
        param = part.get_param("start")
        start = normalise_msgid(param) if isinstance(param, str) else None
        if start:
            for i, child in enumerate(children):
                if normalise_msgid(child.get("Content-ID")) == start:
                    return i
        return 0

    def _note_report(self, part: Message) -> None:
        report_type = part.get_param("report-type")
        report: dict[str, Any] = {"report_type": str(report_type or "").lower() or None}
        for child in _children(part):
            ctype = child.get_content_type()
            if ctype in ("message/delivery-status", "message/disposition-notification"):
                report[ctype.split("/")[1].replace("-", "_")] = decode_bytes(
                    self._message_bytes(child)
                )[0]
            elif ctype == "text/rfc822-headers":
                report["original_headers"] = decode_bytes(_payload(child))[0]
            elif ctype in ("message/rfc822", "message/global"):
                for inner in _children(child)[:1]:
                    report["original_headers"] = "\n".join(
                        f"{k}: {decode_header_value(str(v))}" for k, v in inner.raw_items()
                    )
        self.mail.annotations["report"] = report


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _kind(part: Message) -> str:
    """What an alternative offers: 'html', 'plain' or 'other'."""
    ctype = part.get_content_type()
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        leaves = [p.get_content_type() for p in part.walk() if not p.is_multipart()]
        return "html" if "text/html" in leaves else ("plain" if "text/plain" in leaves else "other")
    if part.get_content_disposition() == "attachment" or part.get_filename():
        return "other"
    return {"text/html": "html", "text/plain": "plain"}.get(ctype, "other")


def _pre(text: str) -> str:
    return f"<pre>{escape(text)}</pre>" if text else ""


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
    mail.references = _msgid_list(" ".join(raw("References")))
    mail.subject = decode_header_value(first("Subject") or "").strip()
    sender = _addresses(raw("From")[:1])
    if sender:
        mail.from_name = sender[0][0] or None
        mail.from_address = sender[0][1] or None
    mail.reply_to = _addresses(raw("Reply-To"))
    mail.to = _addresses(raw("To"))
    mail.cc = _addresses(raw("Cc"))
    mail.delivered_to = _addresses(raw("Delivered-To"))
    mail.return_path = _addresses(raw("Return-Path"))
    mail.date = _date(first("Date"), mail)
    for i, part in enumerate(msg.walk()):
        mail.defects += [f"part {i}: {type(d).__name__}: {d}" for d in part.defects]

    walker = _Walker(mail, store)
    segments = walker.collect(msg, "")
    tnef_body = mail.annotations.get("tnef_body")
    if tnef_body and not any((s.plain or s.html or "").strip() for s in segments):
        segments.append(
            _Segment(**{"html" if tnef_body["kind"] == "html" else "plain": tnef_body["body"]})
        )
    mail.text = "\n".join(
        s.plain if s.plain is not None else html_to_text(s.html or "") for s in segments
    ).strip("\n")
    if any(s.html is not None for s in segments):
        mail.html = "".join(
            sanitize_html(s.html) if s.html is not None else sanitize_html(_pre(s.plain or ""))
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
    if policy is email.policy.default and _structure_defects(msg):
        # The default policy's header parser mangles some unquoted boundaries
        # (Outlook Express "----=_NextPart_..."), which compat32 reads correctly.
        legacy = BytesParser(policy=email.policy.compat32).parsebytes(raw)
        if _structure_defects(legacy) < _structure_defects(msg):
            return legacy
    return msg


def parse_mail(raw: bytes, *, store: BlobStore | None = None) -> ParsedMail:
    """Parse raw mail bytes into a ParsedMail; never raises."""
    mail = ParsedMail(raw_sha256=hashlib.sha256(raw).hexdigest(), size=len(raw))
    for policy in (email.policy.default, email.policy.compat32):
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
            name = "default" if policy is email.policy.default else "compat32"
            logger.warning("parse with policy %s failed for %s: %r", name, mail.raw_sha256, exc)
            mail.parse_errors.append(f"policy {name}: {exc!r}")
    mail.unparsed = True
    try:
        _salvage(mail, raw)
    except Exception as exc:
        mail.parse_errors.append(f"salvage: {exc!r}")
    return mail
