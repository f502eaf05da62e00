"""Hypothesis strategies for hostile MIME: the raw bytes a mail server may hand us.

Mail is written byte by byte here, not with the ``email`` package, so that what it cannot
write comes out too: raw 8-bit and NUL bytes in headers, encoded words in any (or no real)
charset with broken payloads, folded and over-long lines, nested multiparts whose
boundaries are missing, wrong or never closed, unknown charsets and transfer encodings,
base64 and quoted-printable garbage, deep HTML and attachment names with bidi controls.

``HELPDESK_FUZZ_EXAMPLES`` sets how many mails a fuzz test tries (a few dozen by default,
the same ones every run); ``HELPDESK_FUZZ_RANDOM=1`` draws new ones each run (``make fuzz``).
"""

from __future__ import annotations

import base64
import os
from dataclasses import fields

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from helpdesk.limits import INDEX_BYTES, LIMITS
from helpdesk.mail.parsing.parsed import ParsedMail

#: Examples per fuzz test; ``make fuzz`` raises it.
EXAMPLES = int(os.environ.get("HELPDESK_FUZZ_EXAMPLES", "30"))

#: The fuzz tests' settings: deterministic in the default suite, fresh draws in ``make fuzz``.
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=os.environ.get("HELPDESK_FUZZ_RANDOM") != "1",
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)

HEADER_NAMES = [
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Date",
    "Return-Path",
    "Delivered-To",
    "Auto-Submitted",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Content-ID",
    "MIME-Version",
    "X-Loop",
    "Precedence",
    "List-Id",
]
CHARSETS = [
    "utf-8",
    "UTF-8",
    "iso-8859-1",
    "iso-8859-15",
    "windows-1252",
    "us-ascii",
    "utf-16",
    "utf-7",
    "koi8-r",
    "gb2312",
    "shift_jis",
    "x-unknown",
    "unknown-8bit",
    "bogus-charset",
    "",
    '"utf-8"',
    "utf-8*fi",
]
ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "bogus", ""]
TYPES = [
    "text/plain",
    "text/html",
    "application/pdf",
    "application/octet-stream",
    "application/ms-tnef",
    "image/png",
    "message/rfc822",
    "message/delivery-status",
    "text/rfc822-headers",
    "text/calendar",
    "multipart/mixed",
    "bogus",
    "text/",
]
BIDI_AND_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\x00\x07\x1b\x7f/\\"

_bytes = st.binary(max_size=80)
_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("äöå€<>\"'"),
    max_size=60,
)


@st.composite
def encoded_word(draw: st.DrawFn) -> bytes:
    """An RFC 2047 word, often broken: unknown charset, bad base64, stray ``=`` in Q."""
    charset = draw(st.sampled_from(CHARSETS)).strip('"') or "utf-8"
    raw = draw(_text).encode("utf-8") if draw(st.booleans()) else draw(_bytes)
    if draw(st.booleans()):
        payload = base64.b64encode(raw)
        payload = payload[: draw(st.integers(0, len(payload)))]  # maybe cut short
        kind = b"B"
    else:
        payload = b"".join(b"=%02X" % b if b > 126 or b < 33 else bytes([b]) for b in raw)
        payload += draw(st.sampled_from([b"", b"=", b"=Z", b"?"]))
        kind = b"Q"
    return b"=?" + charset.encode() + b"?" + kind + b"?" + payload.replace(b"?=", b"") + b"?="


@st.composite
def header_value(draw: st.DrawFn) -> bytes:
    parts = draw(
        st.lists(
            st.one_of(
                _text.map(lambda t: t.encode("utf-8")),
                _bytes,
                encoded_word(),
                st.sampled_from([b"<a@b.fi>", b"\x00", b"\xe4\xf6", b"\r\n ", b'"', b"<", b","]),
                st.integers(0, 3000).map(lambda n: b"x" * n),
            ),
            max_size=6,
        )
    )
    return b" ".join(parts).replace(b"\r\n", b"\r\n ").replace(b"\n", b"\n ")


@st.composite
def headers(draw: st.DrawFn, content_type: bytes | None = None) -> list[bytes]:
    names = draw(st.lists(st.sampled_from(HEADER_NAMES), max_size=10))
    lines = [name.encode() + b": " + draw(header_value()) for name in names]
    if draw(st.booleans()):
        lines.append(draw(_bytes).replace(b"\n", b"") + b": " + draw(header_value()))
    if content_type is not None:
        lines.append(b"Content-Type: " + content_type)
    return lines


def _filename(name: str) -> bytes:
    return b'Content-Disposition: attachment; filename="' + name.encode("utf-8") + b'"'


@st.composite
def leaf(draw: st.DrawFn) -> bytes:
    ctype = draw(st.sampled_from(TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    cte = draw(st.sampled_from(ENCODINGS))
    head = [f"Content-Type: {ctype}; charset={charset}".encode()]
    if cte:
        head.append(b"Content-Transfer-Encoding: " + cte.encode())
    if draw(st.booleans()):
        name = draw(st.text(alphabet=st.sampled_from(BIDI_AND_CONTROLS + "abä.pdf"), max_size=20))
        head.append(_filename(name))
    if ctype == "text/html" and draw(st.booleans()):
        depth = draw(st.integers(0, 3000))
        body = ("<div>" * depth + draw(_text) + "</div>" * draw(st.integers(0, depth))).encode()
    elif cte == "base64" and draw(st.booleans()):
        body = base64.encodebytes(draw(_bytes)) + draw(st.sampled_from([b"", b"=", b"!!*", b"A"]))
    else:
        body = draw(_bytes) + draw(_text).encode("utf-8")
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def multipart(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "digest"]))
        boundary = draw(st.sampled_from([b"b1", b"----=_NextPart_000", b"", b"a b", b'"q"']))
        used = boundary if draw(st.integers(0, 4)) else draw(st.sampled_from([b"other", b""]))
        head = b"Content-Type: multipart/" + subtype.encode() + b"; boundary=" + boundary
        parts = [b"--" + used + b"\r\n" + child for child in draw(st.lists(children, max_size=4))]
        closing = b"\r\n--" + used + b"--\r\n" if draw(st.booleans()) else b""
        preamble = draw(st.sampled_from([b"", b"preamble\r\n"]))
        return head + b"\r\n\r\n" + preamble + b"\r\n".join(parts) + closing

    return build()


@st.composite
def mime_mail(draw: st.DrawFn) -> bytes:
    """A whole mail: hostile headers over a leaf or a (maybe broken) multipart tree."""
    body = draw(st.recursive(leaf(), multipart, max_leaves=8))
    head = b"\r\n".join(draw(headers()))
    line_end = draw(st.sampled_from([b"\r\n", b"\n"]))
    raw = (head + b"\r\n" + body) if head else body
    return raw.replace(b"\r\n", line_end)



# --- the invariant ---------------------------------------------------------------------


def strings(mail: ParsedMail) -> list[str]:
    """Every string the parsed mail holds, however deep."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, list | tuple | set):
            for v in value:
                walk(v)
        elif hasattr(value, "__dataclass_fields__"):
            for f in fields(value):  # type: ignore[arg-type]
                walk(getattr(value, f.name))

    walk(mail)
    return found


def assert_storable(mail: ParsedMail) -> None:
    for value in strings(mail):
        assert "\x00" not in value
        value.encode("utf-8")  # no lone surrogates
    assert len(mail.subject) <= LIMITS["message.subject"].chars
    assert len(mail.from_name or "") <= LIMITS["message.from_name"].chars
    assert len(mail.from_address or "") <= LIMITS["message.from_address"].chars
    for ident in [mail.message_id or "", mail.in_reply_to or "", *mail.references]:
        assert len(ident) <= 998 and len(ident.encode()) <= INDEX_BYTES
    for att in mail.attachments:
        assert len(att.filename) <= LIMITS["attachment.filename"].chars


__all__ = ["EXAMPLES", "FUZZ", "assert_storable", "mime_mail"]
