"""Bytes and header decoding for mail: charsets, RFC 2047 encoded words, ids and addresses.

Everything here is total: odd charsets, raw 8-bit bytes and broken encoded words come
back as the most plausible text (Finnish letters first), never as an exception.
"""

from __future__ import annotations

import base64
import codecs
import email.utils
import re

import charset_normalizer

Address = tuple[str, str]

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


def cp1252(data: bytes) -> str:
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
        return (cp1252(data) if codec == "cp1252" else data.decode(codec)), None
    western = cp1252(data)
    where = f"declared {charset}" if charset else "no charset"
    if _NORDIC_PLAUSIBLE.fullmatch(western):
        return western, f"{where}; decoded as windows-1252"
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return str(best), f"{where}; detected {best.encoding}"
    return data.decode("latin-1"), f"{where}; decoded as latin-1"


def unescape_8bit(value: str) -> str:
    """Undo the parser's surrogateescape of raw 8-bit header bytes (UTF-8, else cp1252)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return cp1252(raw)


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
    value = unescape_8bit(value)
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
    """The id inside ``<...>`` (raw 8-bit bytes decoded as in ``unescape_8bit``)."""
    if not value:
        return None
    value = unescape_8bit(value)
    m = _ID_RE.search(value)
    ident = m.group(1) if m else value
    ident = re.sub(r"\s+", "", ident).strip("<>")
    return ident or None


def msgid_list(value: str | None) -> list[str]:
    if not value:
        return []
    value = unescape_8bit(value)
    found = _ID_RE.findall(value) or value.split()
    ids = [re.sub(r"\s+", "", i).strip("<>") for i in found]
    return list(dict.fromkeys(i for i in ids if i))


def addresses(values: list[str]) -> list[Address]:
    result: list[Address] = []
    for name, addr in email.utils.getaddresses([unescape_8bit(v) for v in values]):
        result.append((decode_header_value(name).strip(), addr.strip().lower()))
    return result
