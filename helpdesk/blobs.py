"""Content-addressed bytes on disk, keyed by SHA-256: raw mail, attachments, invoice PDFs.

A blob lives at ``root/ab/cd/<sha256>``. Writes go to a temporary file in the
store, are fsynced and then renamed into place, so a crash never leaves a
half-written blob under its final name, and writing the same bytes twice is a
no-op.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

_SHA256_RE = re.compile(r"[0-9a-f]{64}")


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux syncfs(2): flush one filesystem, not the whole machine like sync(2)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        func: Callable[[int], int] = libc.syncfs
    except (OSError, AttributeError):
        return None
    return func


_syncfs = _load_syncfs()


def _fsync_dir(directory: Path) -> None:
    # The rename is only durable once the directory entry is on disk too.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class BlobStore:
    """Immutable blobs addressed by the SHA-256 of their bytes."""

    def __init__(self, root: Path, *, fsync_each: bool = True) -> None:
        self.root = Path(root)
        self._tmp = self.root / ".tmp"
        # A batch writer may defer durability to one ``sync()`` before its commit.
        self.fsync_each = fsync_each

    def sync(self) -> None:
        """Make every blob written so far durable (one syncfs of the store's filesystem)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            if _syncfs is not None and _syncfs(fd) == 0:
                return
            os.sync()
        finally:
            os.close(fd)

    def path(self, sha: str) -> Path:
        """Where the blob ``sha`` lives (or would live); rejects anything but 64 hex digits."""
        if not isinstance(sha, str) or not _SHA256_RE.fullmatch(sha):
            raise ValueError(f"not a lowercase sha256 hex digest: {sha!r}")
        return self.root / sha[:2] / sha[2:4] / sha

    def exists(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def open(self, sha: str) -> BinaryIO:
        """Open a stored blob for reading; raises FileNotFoundError when absent."""
        return self.path(sha).open("rb")

    def get(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its sha256 hex digest."""
        sha = hashlib.sha256(data).hexdigest()
        if self.exists(sha):
            return sha
        tmp_path = self._write_temp([data])[0]
        self._commit(tmp_path, sha)
        return sha

    def put_stream(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store a blob given as chunks, hashing while writing; returns (sha256, size)."""
        tmp_path, sha, size = self._write_temp(chunks)
        self._commit(tmp_path, sha)
        return sha, size

    def _write_temp(self, chunks: Iterable[bytes]) -> tuple[Path, str, int]:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="blob-")
        tmp_path = Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    fh.write(chunk)
                fh.flush()
                if self.fsync_each:
                    os.fsync(fh.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                tmp_path.unlink()
            raise
        return tmp_path, digest.hexdigest(), size

    def _commit(self, tmp_path: Path, sha: str) -> None:
        target = self.path(sha)
        if target.is_file():
            tmp_path.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp_path, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp_path.unlink()
            raise
        if self.fsync_each:
            _fsync_dir(target.parent)
