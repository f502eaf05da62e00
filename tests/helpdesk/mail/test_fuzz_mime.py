"""MIME fuzzing (``tests/mimefuzz.py``): no mail makes the parser or ingest raise, and every
mail becomes a stored message with its raw source.

A few dozen deterministic examples run in the default suite; ``make fuzz`` runs thousands
of fresh ones (``HELPDESK_FUZZ_EXAMPLES``, ``HELPDESK_FUZZ_RANDOM``).
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import factories
import pytest
from hypothesis import Phase, find, given, settings
from mimefuzz import FUZZ, assert_storable, mime_mail
from sqlmodel import Session, select

from helpdesk.blobs import BlobStore
from helpdesk.mail.filters import run_filters
from helpdesk.mail.inbound.ingest import import_raw
from helpdesk.mail.inbound.rows import Source
from helpdesk.mail.parsing.parse import parse_mail
from helpdesk.models import InboundMail, InboundOutcome, Message, Ticket
from helpdesk.settings import get_settings

_uids = itertools.count(1)


@FUZZ
@given(raw=mime_mail())
def test_parsing_never_raises_and_returns_storable_values(raw: bytes) -> None:
    mail = run_filters(parse_mail(raw))
    assert_storable(mail)
    assert mail.raw_sha256 == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize(
    "needle",
    [b"=?", b"multipart/", b"\x00", b"\xe4", b"base64", b"<div><div><div>", b"boundary=a b"],
)
def test_the_fuzzer_writes_what_it_should(needle: bytes) -> None:
    """The strategies reach the hostile cases (a fuzzer that never does proves nothing)."""
    search = settings(
        max_examples=5000, derandomize=True, database=None, phases=[Phase.generate]
    )
    assert needle in find(mime_mail(), lambda raw: needle in raw, settings=search)


def test_ingest_stores_every_fuzzed_mail_with_its_raw(session: Session, data_dir: Path) -> None:
    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    store = BlobStore(get_settings().blob_dir)
    source = Source(mailbox=box, folder="INBOX", uidvalidity=11)

    @FUZZ
    @given(raw=mime_mail())
    def ingest_one(raw: bytes) -> None:
        uid = next(_uids)
        result = import_raw(session, raw, source=source, store=store, uid=uid)
        assert store.exists(hashlib.sha256(raw).hexdigest())
        inbound = session.exec(select(InboundMail).where(InboundMail.uid == uid)).one()
        assert inbound.raw_sha256 == hashlib.sha256(raw).hexdigest()
        assert result.message_id is not None and inbound.message_id == result.message_id
        message = session.get(Message, result.message_id)
        assert message is not None and message.raw_sha256 is not None
        assert store.exists(message.raw_sha256)
        assert session.get(Ticket, message.ticket_id) is not None
        if result.outcome == InboundOutcome.imported:
            # Read fully by the parser: no later stage fell back (the guard is for bugs).
            assert "unparsed" not in message.flags
        else:
            assert result.outcome in (InboundOutcome.unparsed, InboundOutcome.duplicate)
            assert result.outcome == InboundOutcome.duplicate or parse_mail(raw).unparsed

    ingest_one()
