"""Reading message bodies in bounded memory: size-capped batches and partial fetches.

:class:`helpdesk.mail.imap.session.ImapSession` hands these functions a ``fetch(uids, items,
action)`` callable that runs one ``UID FETCH`` and turns failures into ``ImapError``;
everything here only decides what to ask for and how to put the answers together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from helpdesk.blobs import BlobStore
from helpdesk.mail.imap.values import FetchedMessage

#: One ``UID FETCH``: (uids, data items, what to name in an error) -> imapclient's answer.
Fetch = Callable[[list[int], list[str], str], dict[int, Any]]


def fetch_batches(
    fetch: Fetch,
    uids: Sequence[int],
    *,
    batch: int,
    max_batch_bytes: int,
    stream_to: BlobStore | None,
    stream_above: int,
    chunk: int,
) -> Iterator[FetchedMessage]:
    """Yield ``uids`` in UID order, fetched in groups capped in count and total size.

    A message larger than ``stream_above`` goes alone, and with ``stream_to`` it is
    copied ``chunk`` bytes at a time into that store (see :func:`stream_message`).
    """
    wanted = sorted(set(uids))
    step = max(batch * 10, 1)
    for chunk_start in range(0, len(wanted), step):
        part = wanted[chunk_start : chunk_start + step]
        sizes = fetch(part, ["RFC822.SIZE"], "UID FETCH RFC822.SIZE")
        present = [uid for uid in part if uid in sizes]
        solo = stream_above if stream_to is not None else None
        for group in size_batches(present, sizes, batch, max_batch_bytes, solo):
            size = int(sizes[group[0]].get(b"RFC822.SIZE", 0))
            if stream_to is not None and len(group) == 1 and size > stream_above:
                streamed = stream_message(fetch, group[0], stream_to, chunk)
                if streamed is not None:
                    yield streamed
                continue
            data = fetch(group, ["BODY.PEEK[]", "FLAGS"], "UID FETCH BODY.PEEK[]")
            for uid in group:
                item = data.get(uid)
                if item is None or b"BODY[]" not in item:
                    continue
                yield FetchedMessage(uid, bytes(item[b"BODY[]"]), flags_of(item))


def stream_message(fetch: Fetch, uid: int, store: BlobStore, chunk: int) -> FetchedMessage | None:
    """Copy one message into ``store`` ``chunk`` bytes at a time (BODY.PEEK[]<o.n>).

    None when the message vanished before its first piece.
    """
    flags: tuple[str, ...] = ()
    found = True

    def pieces() -> Iterator[bytes]:
        nonlocal flags, found
        offset = 0
        while True:
            data = fetch(
                [uid], [f"BODY.PEEK[]<{offset}.{chunk}>", "FLAGS"], "UID FETCH BODY.PEEK[]<partial>"
            )
            item = data.get(uid)
            if item is None:
                found = False
                return
            flags = flags_of(item)
            piece = next((v for k, v in item.items() if k.startswith(b"BODY[]")), None)
            if not piece:
                return
            yield bytes(piece)
            if len(piece) < chunk:
                return
            offset += len(piece)

    sha, size = store.put_stream(pieces())
    return FetchedMessage(uid, b"", flags, blob=(sha, size)) if found else None


def flags_of(item: dict[bytes, Any]) -> tuple[str, ...]:
    """The FLAGS of one fetch answer, as text."""
    return tuple(
        f.decode(errors="replace") if isinstance(f, bytes) else str(f)
        for f in item.get(b"FLAGS", ())
    )


def size_batches(
    uids: Sequence[int],
    sizes: dict[int, Any],
    batch: int,
    max_bytes: int,
    solo_above: int | None = None,
) -> Iterator[list[int]]:
    """Group ``uids`` by at most ``batch`` and ``max_bytes``; above ``solo_above`` alone."""
    group: list[int] = []
    total = 0
    for uid in uids:
        size = int(sizes[uid].get(b"RFC822.SIZE", 0))
        if solo_above is not None and size > solo_above:
            if group:
                yield group
            yield [uid]
            group, total = [], 0
            continue
        if group and (len(group) >= batch or total + size > max_bytes):
            yield group
            group, total = [], 0
        group.append(uid)
        total += size
    if group:
        yield group


def header_values(raw_header: bytes, name: str) -> list[str]:
    """Unfolded values of *name* in a header block."""
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", raw_header).decode("utf-8", errors="replace")
    prefix = name.lower() + ":"
    return [
        line[len(prefix) :].strip()
        for line in unfolded.splitlines()
        if line.lower().startswith(prefix)
    ]
