"""A dead preparation worker costs speed, never mail: the rest is prepared in-process."""

from __future__ import annotations

import os
import signal

from mailgen import mixed

from helpdesk.blobs import BlobStore
from helpdesk.mail.imap.values import FetchedMessage
from helpdesk.mail.inbound.prepare import CHUNK, POOL_THRESHOLD, Preparer


def test_every_message_comes_out_after_the_worker_is_killed(tmp_path):
    count = POOL_THRESHOLD + 3 * CHUNK
    raws = mixed(count, attachment_bytes=200)
    fetched = [FetchedMessage(uid=i + 1, raw=raw, flags=()) for i, raw in enumerate(raws)]
    with Preparer(BlobStore(tmp_path), expected=count) as preparer:
        assert preparer._pool is not None
        preparer._pool.submit(int).result()  # start the worker process
        for pid in list(preparer._pool._processes):
            os.kill(pid, signal.SIGKILL)
        out = list(preparer.stream(fetched))
    assert [m.uid for m, _ in out] == [m.uid for m in fetched]
    assert all(prepared is None for _, prepared in out)  # prepared in-process by the caller
