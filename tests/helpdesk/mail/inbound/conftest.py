"""Fixtures of the mail-in tests: the blob store and a mailbox."""

from __future__ import annotations

from pathlib import Path

import factories
import pytest
from sqlmodel import Session

from helpdesk.blobs import BlobStore
from helpdesk.models import Mailbox
from helpdesk.settings import get_settings


@pytest.fixture
def store(data_dir: Path) -> BlobStore:
    return BlobStore(get_settings().blob_dir)


@pytest.fixture
def box(session: Session) -> Mailbox:
    return factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
