"""Preparing a large mail from its stored raw file without holding it in memory.

The stdlib parser keeps a message several times over (the bytes, a decoded string, its
lines, the decoded payload), so a mail with a 25 MB attachment costs hundreds of MB.
Here the stored file is read line by line once: the MIME structure is followed, and the
body of every base64 attachment leaf is decoded piecewise straight into the blob store
and left out of a small *skeleton* copy of the mail. The skeleton (headers, text parts,
small parts) goes through the ordinary ``parse_mail``; its attachments are then pointed
at the blobs written here. Anything unexpected falls back to reading the file whole.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import BinaryIO

from helpdesk.blobs import BlobStore
from helpdesk.mail.filters import run_filters
from helpdesk.mail.imap.values import FetchedMessage
from helpdesk.mail.inbound.dedupe import content_digest
from helpdesk.mail.inbound.prepare import Prepared, guarded, prepare
from helpdesk.mail.parsing.parse import parse_mail

#: Leaf bodies smaller than this stay in the skeleton (parsed the ordinary way).
INLINE_LIMIT = 256 * 1024
_KEEP_TYPES = {"text/plain", "text/html", "application/ms-tnef", "application/vnd.ms-tnef"}
_HEADER_END = re.compile(rb"\r?\n\r?\n")


class _Unexpected(Exception):
    """The structure is not what the streaming reader handles; read the file whole."""


class _Lines:
    """The file's lines, with one line of push-back."""

    def __init__(self, fh: BinaryIO) -> None:
        self._it = iter(fh)
        self._back: bytes | None = None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._back is not None:
            line, self._back = self._back, None
            return line
        return next(self._it)

    def push(self, line: bytes) -> None:
        self._back = line


def prepare_fetched(message: FetchedMessage, store: BlobStore) -> Prepared:
    """``prepare`` a fetched message, whether it came as bytes or streamed into the store."""
    if message.blob is None:
        return prepare(message.raw, store)
    return prepare_stored(store, *message.blob)


def prepare_stored(store: BlobStore, sha: str, size: int) -> Prepared:
    """``prepare`` for a mail already in ``store`` as ``sha`` (see the module docstring);
    never raises for bad mail (``guarded``)."""
    try:
        with store.open(sha) as fh:
            skeleton, blobs = _split(fh, store)
        with store.open(sha) as fh:
            content_sha = _content_sha(fh)
    except Exception:  # _Unexpected, or anything else the streaming reader met
        return prepare(store.get(sha), store)

    def step() -> Prepared:
        mail = parse_mail(skeleton, store=store)
        mail.raw_sha256, mail.size = sha, size
        for att in mail.attachments:
            if att.part in blobs and att.container is None:
                att.sha256, att.size = blobs[att.part]
        return Prepared(mail=run_filters(mail), content_sha=content_sha)

    return guarded(sha, size, step)


def _content_sha(fh: BinaryIO) -> str:
    head = fh.read(1024 * 1024)
    match = _HEADER_END.search(head)
    if match is None:
        raise _Unexpected("no end of header in the first MiB")

    def body() -> Iterator[bytes]:
        yield head[match.start() :]
        while piece := fh.read(1024 * 1024):
            yield piece

    return content_digest(head[: match.start()], body())


def _headers(lines: list[bytes]) -> Message:
    return BytesHeaderParser(policy=compat32).parsebytes(b"".join(lines))


def _boundary(line: bytes, boundaries: list[bytes]) -> bytes | None:
    """The enclosing boundary this line is (``--b`` or ``--b--``), innermost first."""
    if not line.startswith(b"--"):
        return None
    stripped = line.rstrip(b"\r\n").rstrip(b" \t")
    for b in reversed(boundaries):
        if stripped in (b, b + b"--"):
            return b
    return None


def _b64decode(lines: Iterator[bytes]) -> Iterator[bytes]:
    carry = b""
    for piece in _batched(lines):
        data = carry + piece
        cut = len(data) - len(data) % 4
        carry = data[cut:]
        if cut:
            yield _a2b(data[:cut])
    if carry.rstrip(b"="):
        yield _a2b(carry + b"=" * (-len(carry) % 4))


def _batched(lines: Iterator[bytes], size: int = 1024 * 1024) -> Iterator[bytes]:
    buf: list[bytes] = []
    total = 0
    for line in lines:
        chunk = b"".join(line.split())  # base64 ignores whitespace
        buf.append(chunk)
        total += len(chunk)
        if total >= size:
            yield b"".join(buf)
            buf, total = [], 0
    if buf:
        yield b"".join(buf)


def _a2b(data: bytes) -> bytes:
    try:
        return binascii.a2b_base64(data)
    except binascii.Error as exc:
        raise _Unexpected(str(exc)) from exc


def _split(fh: BinaryIO, store: BlobStore) -> tuple[bytes, dict[str, tuple[str, int]]]:
    """(skeleton bytes, {MIME path: (sha256, size)} of the leaves moved to the store)."""
    out: list[bytes] = []
    blobs: dict[str, tuple[str, int]] = {}
    boundaries: list[bytes] = []  # enclosing multipart boundaries, innermost last
    counters: list[int] = []  # children seen per enclosing multipart
    paths: list[str] = []  # MIME path of each enclosing multipart ("" for the root)
    header: list[bytes] | None = []  # collecting an entity's header while not None
    path = ""
    lines = _Lines(fh)
    for line in lines:
        if header is not None:
            out.append(line)
            if line.strip(b"\r\n"):
                header.append(line)
                continue
            msg = _headers(header)
            header = None
            boundary = msg.get_boundary() if msg.get_content_maintype() == "multipart" else None
            if boundary:
                boundaries.append(b"--" + boundary.encode("ascii", "surrogateescape"))
                counters.append(0)
                paths.append(path)
            elif (
                msg.get_content_type() not in _KEEP_TYPES
                and msg.get_content_maintype() not in ("message", "multipart")
                and str(msg.get("Content-Transfer-Encoding", "")).strip().lower() == "base64"
            ):
                _leaf(lines, boundaries, path or "1", out, store, blobs)
            continue
        closing = _boundary(line, boundaries)
        out.append(line)
        if closing is None:
            continue
        while boundaries[-1] != closing:  # an inner multipart left unclosed
            boundaries.pop(), counters.pop(), paths.pop()
        if line.rstrip(b"\r\n").rstrip(b" \t") == closing + b"--":
            boundaries.pop(), counters.pop()
            path = paths.pop()
            continue
        counters[-1] += 1
        parent = paths[-1]
        path = f"{parent}.{counters[-1]}" if parent else str(counters[-1])
        header = []
    if header is not None and header:
        raise _Unexpected("the mail ends inside a header")
    return b"".join(out), blobs


def _leaf(
    lines: _Lines,
    boundaries: list[bytes],
    path: str,
    out: list[bytes],
    store: BlobStore,
    blobs: dict[str, tuple[str, int]],
) -> None:
    """A base64 body: small ones stay in the skeleton, large ones go to the store."""
    kept: list[bytes] = []
    size = 0
    for line in lines:
        if _boundary(line, boundaries) is not None:
            lines.push(line)
            out.extend(kept)
            return
        kept.append(line)
        size += len(line)
        if size > INLINE_LIMIT:
            break
    else:
        out.extend(kept)
        return

    def body() -> Iterator[bytes]:
        yield from kept
        kept.clear()
        for line in lines:
            if _boundary(line, boundaries) is not None:
                lines.push(line)
                return
            yield line

    blobs[path] = store.put_stream(_b64decode(body()))
    out.append(b"\r\n")


__all__ = ["INLINE_LIMIT", "prepare_fetched", "prepare_stored"]
