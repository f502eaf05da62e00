"""Generated Finnish mail for tests and benchmarks (plain, HTML, attachments)."""

from __future__ import annotations

import base64
import itertools
import random
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

_counter = itertools.count(1)

NAMES = ["Matti Meikäläinen", "Maija Mäkinen", "Jörö Järvinen", "Åsa Öhman", "Pekka Pöllänen"]
SUBJECTS = [
    "Lasku ei ole lähtenyt",
    "Kysymys viitenumerosta",
    "Hyvää päivää, äö å €",
    "Maksumuistutus – mitä teen?",
    "Sähköpostilasku ei mennyt perille",
]
BODY = (
    "Hei,\n\nlähetin laskun eilen, mutta asiakkaani ei ole saanut sitä. Summa on 244,00 €.\n"
    "Voisitteko tarkistaa? Kiitos jo etukäteen!\n\nTerveisin\n{name}\n"
)


def message_id(domain: str = "asiakas.example.fi") -> str:
    return f"{uuid.uuid4().hex}.{next(_counter)}@{domain}"


def mail(
    *,
    subject: str | None = None,
    sender: tuple[str, str] = ("Matti Meikäläinen", "matti@example.fi"),
    to: str = "asiakaspalvelu@e-tunnus.fi",
    body: str | None = None,
    msgid: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    html: str | None = None,
    attachment: tuple[str, bytes] | None = None,
    headers: dict[str, str] | None = None,
    date: datetime | None = None,
) -> bytes:
    """One mail as bytes (CRLF, ready for IMAP APPEND)."""
    msg = EmailMessage()
    msg["From"] = f"{sender[0]} <{sender[1]}>" if sender[0] else sender[1]
    msg["To"] = to
    msg["Subject"] = subject if subject is not None else random.choice(SUBJECTS)
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = f"<{msgid or message_id()}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body if body is not None else BODY.format(name=sender[0]))
    if html is not None:
        msg.add_alternative(html, subtype="html")
    if attachment is not None:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return msg.as_bytes(policy=SMTP)


def mixed(n: int, *, seed: int = 1, attachment_bytes: int = 20_000) -> list[bytes]:
    """``n`` varied Finnish mails: a third plain, a third HTML, a third with a PDF."""
    rng = random.Random(seed)
    pdf = b"%PDF-1.4\n" + bytes(rng.getrandbits(8) for _ in range(attachment_bytes))
    out = []
    for i in range(n):
        name = NAMES[i % len(NAMES)]
        address = f"asiakas{i}@example.fi"
        kind = i % 3
        html = None
        if kind == 1:
            html = (
                f"<p>Hei,</p><p>lähetin laskun <b>{100102000 + i}</b>, summa 244,00&nbsp;€."
                f"</p><p>Terveisin<br>{name}</p>"
            )
        out.append(
            mail(
                subject=f"{SUBJECTS[i % len(SUBJECTS)]} ({i})",
                sender=(name, address),
                html=html,
                attachment=(f"lasku-{i}-äö.pdf", pdf) if kind == 2 else None,
            )
        )
    return out


def with_trace(raw: bytes, delivered_to: str) -> bytes:
    """The copy a delivery agent leaves in one mailbox: trace fields prepended."""
    trace = (
        f"Return-Path: <matti@example.fi>\r\nDelivered-To: {delivered_to}\r\n"
        f"Received: from mx.example.fi by imap.e-tunnus.fi for <{delivered_to}>; "
        f"{format_datetime(datetime.now(UTC))}\r\n"
    )
    return trace.encode() + raw


# --- poison mail: each of these once stopped a mailbox ---------------------------------


def _raw(headers: list[bytes], body: bytes, ctype: bytes = b"text/plain; charset=utf-8") -> bytes:
    head = [*headers, b"Date: Mon, 3 Jun 2024 10:15:00 +0300", b"MIME-Version: 1.0"]
    head.append(b"Content-Type: " + ctype)
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def eight_bit_message_id() -> bytes:
    """A Message-ID (and References) with raw 8-bit bytes: Latin-1 and UTF-8 mixed."""
    return _raw(
        [
            b"From: Matti <matti@example.fi>",
            b"To: asiakaspalvelu@e-tunnus.fi",
            b"Subject: 8-bit Message-ID",
            b"Message-ID: <\xe4\xf6-\xc3\xa4-" + uuid.uuid4().hex.encode() + b"@example.fi>",
            b"References: <viesti-\xe5@example.fi>",
        ],
        "Hei, viestin tunnisteessa on ääkkösiä.\r\n".encode(),
    )


def nested_divs(depth: int = 250_000) -> bytes:
    """An HTML body of ``depth`` nested divs (nh3 alone takes minutes on it)."""
    html = "<div>" * depth + "Syvällä sisällä" + "</div>" * depth
    return _raw(
        [
            b"From: syva@example.fi",
            b"To: asiakaspalvelu@e-tunnus.fi",
            b"Subject: Nested divs",
            f"Message-ID: <{message_id()}>".encode(),
        ],
        html.encode(),
        b"text/html; charset=utf-8",
    )


def long_from_with_nul(length: int = 900) -> bytes:
    """A From of ``length`` characters with NUL bytes, a NUL in the subject and body."""
    name = (b"Pitk\xc3\xa4 \x00nimi " * length)[: length - 30]
    return _raw(
        [
            b'From: "' + name + b'" <' + b"a" * 20 + b"@example.fi>",
            b"To: asiakaspalvelu@e-tunnus.fi",
            b"Subject: NUL\x00 in the subject " + b"x" * 1200,
            f"Message-ID: <{message_id()}>".encode(),
        ],
        b"Body with a NUL \x00 byte.\r\n",
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


__all__ = [
    "b64",
    "eight_bit_message_id",
    "long_from_with_nul",
    "mail",
    "make_msgid",
    "message_id",
    "mixed",
    "nested_divs",
    "with_trace",
]
