"""BlobStore: content addressing, atomic idempotent writes, sha validation."""

import hashlib
from pathlib import Path

import pytest

from helpdesk.blobs import BlobStore


def test_put_get_roundtrip_and_layout(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    data = "Lasku 100 € äö".encode()
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.path(sha) == tmp_path / sha[:2] / sha[2:4] / sha
    assert store.exists(sha)
    assert store.get(sha) == data
    with store.open(sha) as fh:
        assert fh.read() == data


def test_put_is_idempotent_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    assert store.put(b"x") == store.put(b"x")
    assert list((tmp_path / ".tmp").iterdir()) == []
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_put_stream_hashes_while_writing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    chunks = [b"a" * 65536 for _ in range(20)]
    sha, size = store.put_stream(iter(chunks))
    joined = b"".join(chunks)
    assert (sha, size) == (hashlib.sha256(joined).hexdigest(), len(joined))
    assert store.get(sha) == joined
    assert store.put_stream([joined]) == (sha, size)
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_put_stream_failure_cleans_up(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)

    def chunks():
        yield b"partial"
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError):
        store.put_stream(chunks())
    assert list((tmp_path / ".tmp").iterdir()) == []


@pytest.mark.parametrize(
    "bad",
    ["", "../../etc/passwd", "A" * 64, "g" * 64, "a" * 63, "a" * 65, "ab/cd", "a" * 63 + "\n"],
)
def test_rejects_bad_sha(tmp_path: Path, bad: str) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(ValueError):
        store.path(bad)
    with pytest.raises(ValueError):
        store.get(bad)


def test_missing_blob(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = "0" * 64
    assert not store.exists(sha)
    with pytest.raises(FileNotFoundError):
        store.get(sha)
