"""The MIME walk: every leaf of a mail becomes a body segment or an attachment.

``message/*`` parts are leaves here, kept whole as attachments; TNEF (winmail.dat) is
unpacked where tnefparse can read it.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import Message
from html import escape
from io import BytesIO
from typing import Any

import tnefparse

from helpdesk.blobs import BlobStore
from helpdesk.mail.parsing.decode import decode_bytes, decode_header_value, normalise_msgid
from helpdesk.mail.parsing.filenames import neutral_filename
from helpdesk.mail.parsing.parsed import ParsedAttachment, ParsedMail
from helpdesk.mail.parsing.sanitize import html_to_text

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
class Segment:
    plain: str | None = None
    html: str | None = None


class Walker:
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
        name = neutral_filename(decode_header_value(filename)) if filename else ""
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

    def collect(self, part: Message, path: str) -> list[Segment]:
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
            segments: list[Segment] = []
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

    def _leaf(self, part: Message, path: str) -> list[Segment]:
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
            return [Segment(html=text) if ctype == "text/html" else Segment(plain=text)]
        self.attach_leaf(part, path)
        return []

    def _alternative(self, children: list[Message], sub: Callable[[int], str]) -> list[Segment]:
        kinds = [_kind(c) for c in children]
        best_html = max((i for i, k in enumerate(kinds) if k == "html"), default=None)
        best_plain = max((i for i, k in enumerate(kinds) if k == "plain"), default=None)
        merged = Segment()
        for i, child in enumerate(children):
            if i == best_html:
                segs = self.collect(child, sub(i + 1))
                merged.html = "".join(s.html or pre(s.plain or "") for s in segs)
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


def pre(text: str) -> str:
    return f"<pre>{escape(text)}</pre>" if text else ""
