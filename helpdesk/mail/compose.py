"""Outgoing MIME: threading headers, encoded words, text + HTML, RFC 2231 attachment names.

The result is bytes with CRLF line endings and only ASCII in them (headers as RFC 2047
encoded words, bodies quoted-printable, attachments base64), so any SMTP server and any
IMAP APPEND takes them unchanged.
"""

from __future__ import annotations

import email.policy
import email.utils
import html
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage

from helpdesk.mail.filters.threading_keys import normalise_subject

#: Our loop-prevention header; the mail-in filters treat a mail carrying it as our own.
LOOP_HEADER = "X-Helpdesk-Loop"
#: References kept at most: the thread's root plus the newest ones (long threads stay small).
MAX_REFERENCES = 20

_POLICY = email.policy.SMTP.clone(max_line_length=78)
_TAG = re.compile(r"\s*\[[^\[\]]*#\d{1,9}\s*\]\s*")


@dataclass(frozen=True)
class OutgoingAttachment:
    """A file to attach; ``data`` is the whole content."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Draft:
    """Everything a composed mail is made of; ``message_id`` without angle brackets."""

    from_address: str
    from_name: str
    to: Sequence[str]
    subject: str
    text: str
    message_id: str
    html: str | None = None
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()
    to_names: dict[str, str] = field(default_factory=dict)
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    attachments: Sequence[OutgoingAttachment] = ()
    automatic: bool = False
    loop_domain: str = ""
    date: datetime | None = None


def new_message_id(domain: str) -> str:
    """A fresh Message-ID (without angle brackets) in our own domain."""
    return f"{uuid.uuid4().hex}@{domain}"


def reply_subject(subject: str, number: int | None) -> str:
    """``Re: <subject> [#number]``, never ``Re: Re:`` and never two tags."""
    base = _TAG.sub(" ", normalise_subject(subject or "")).strip()
    tag = f" [#{number}]" if number else ""
    return f"Re: {base}{tag}" if base else f"Re:{tag}".strip()


def tagged_subject(subject: str, number: int | None) -> str:
    """The subject of a conversation we start: ``<subject> [#number]``."""
    base = _TAG.sub(" ", subject or "").strip()
    return f"{base} [#{number}]".strip() if number else base


def cap_references(ids: Sequence[str], limit: int = MAX_REFERENCES) -> list[str]:
    """Keep the first id (the thread's root) and the newest ones, as mail clients do."""
    unique = list(dict.fromkeys(i.strip("<> ") for i in ids if i and i.strip("<> ")))
    if len(unique) <= limit:
        return unique
    return [unique[0], *unique[-(limit - 1) :]]


def text_to_html(text: str) -> str:
    """A small HTML version of plain text: escaped, paragraphs kept, quotes as blockquotes."""
    blocks: list[str] = []
    for para in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = para.split("\n")
        if all(line.startswith(">") for line in lines):
            inner = "<br>\n".join(html.escape(line[1:].lstrip()) for line in lines)
            blocks.append(f'<blockquote type="cite"><p>{inner}</p></blockquote>')
        else:
            blocks.append("<p>" + "<br>\n".join(html.escape(line) for line in lines) + "</p>")
    body = "\n".join(blocks)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>'
        f'<body style="font-family: sans-serif; font-size: 14px;">\n{body}\n</body></html>\n'
    )


def _address(addr: str, name: str = "") -> Address:
    local, _, domain = addr.strip().rpartition("@")
    return Address(display_name=name or "", username=local, domain=domain)


def compose(draft: Draft) -> bytes:
    """The finished mail as bytes (CRLF, ASCII only), ready for SMTP and IMAP APPEND."""
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = _address(draft.from_address, draft.from_name)
    msg["To"] = [_address(a, draft.to_names.get(a.lower(), "")) for a in draft.to]
    if draft.cc:
        msg["Cc"] = [_address(a) for a in draft.cc]
    msg["Subject"] = draft.subject
    msg["Date"] = email.utils.format_datetime(draft.date or email.utils.localtime())
    msg["Message-ID"] = f"<{draft.message_id}>"
    if draft.in_reply_to:
        msg["In-Reply-To"] = f"<{draft.in_reply_to.strip('<>')}>"
    refs = cap_references(draft.references)
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    if draft.loop_domain:
        msg[LOOP_HEADER] = draft.loop_domain
    if draft.automatic:
        # RFC 3834: only mail a machine wrote on its own says so; human replies do not.
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(draft.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(
        draft.html or text_to_html(draft.text),
        subtype="html",
        charset="utf-8",
        cte="quoted-printable",
    )
    for att in draft.attachments:
        maintype, _, subtype = (att.content_type or "").lower().partition("/")
        if not maintype or not subtype or maintype == "multipart":
            maintype, subtype = "application", "octet-stream"
        # Bytes are attached as base64 whatever the type, so a text file keeps its encoding.
        msg.add_attachment(att.data, maintype=maintype, subtype=subtype, filename=att.filename)
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # only the top level carries it (RFC 2045)
    return msg.as_bytes(policy=_POLICY)


def envelope_recipients(draft: Draft) -> list[str]:
    """Every address the SMTP server must deliver to (Bcc only here, never in a header)."""
    return list(dict.fromkeys(a.strip().lower() for a in (*draft.to, *draft.cc, *draft.bcc) if a))
