"""Large mail prepared from the stored file gives exactly what the in-memory path gives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mailgen import mail, mixed

from helpdesk.blobs import BlobStore
from helpdesk.mail.inbound import bigmail
from helpdesk.mail.inbound.bigmail import prepare_stored
from helpdesk.mail.inbound.prepare import Prepared, prepare

SAMPLES = Path(__file__).parents[1] / "samples"
CORPUS = (Path(__file__).parents[4] / ".." / "shared" / "mail-corpus").resolve()


def all_mails() -> list[Path]:
    found = sorted(SAMPLES.glob("*.eml"))
    if CORPUS.is_dir():
        found += sorted(
            p
            for p in CORPUS.rglob("*")
            if p.is_file()
            and p.name not in {"SOURCES.md", "SHA256SUMS"}
            and "LICENSES" not in p.relative_to(CORPUS).parts
        )
    return found


def summary(prepared: Prepared) -> dict[str, object]:
    m = prepared.mail
    return {
        "content_sha": prepared.content_sha,
        "raw_sha256": m.raw_sha256,
        "size": m.size,
        "message_id": m.message_id,
        "subject": m.subject,
        "from": (m.from_name, m.from_address),
        "text": m.text,
        "html": m.html,
        "unparsed": m.unparsed,
        "flags": m.flags,
        "attachments": [
            (a.filename, a.content_type, a.size, a.sha256, a.content_id, a.inline, a.part)
            for a in m.attachments
        ],
        "body_parts": m.body_parts,
    }


def both(raw: bytes, store: BlobStore) -> tuple[dict[str, object], dict[str, object]]:
    sha = store.put(raw)
    return summary(prepare(raw, store)), summary(prepare_stored(store, sha, len(raw)))


@pytest.mark.parametrize("path", all_mails(), ids=lambda p: p.name)
def test_streamed_equals_in_memory_for_every_sample(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tiny limit sends every base64 attachment through the streaming decoder.
    monkeypatch.setattr(bigmail, "INLINE_LIMIT", 16)
    store = BlobStore(tmp_path / "blobs")
    in_memory, streamed = both(path.read_bytes(), store)
    assert streamed == in_memory


def test_streamed_generated_mixed_mail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bigmail, "INLINE_LIMIT", 16)
    store = BlobStore(tmp_path / "blobs")
    for raw in mixed(6):
        in_memory, streamed = both(raw, store)
        assert streamed == in_memory


def test_25_mb_attachment_is_decoded_into_the_store(tmp_path: Path) -> None:
    big = os.urandom(25 * 1024 * 1024)
    raw = mail(subject="Iso liite äö", attachment=("iso-liite.pdf", big))
    store = BlobStore(tmp_path / "blobs")
    sha = store.put(raw)
    size = len(raw)
    del raw
    prepared = prepare_stored(store, sha, size)  # its memory is measured by bench/ingest.py
    (att,) = prepared.mail.attachments
    assert (att.filename, att.size) == ("iso-liite.pdf", len(big))
    assert store.get(att.sha256) == big
    assert prepared.mail.subject == "Iso liite äö" and prepared.mail.raw_sha256 == sha
