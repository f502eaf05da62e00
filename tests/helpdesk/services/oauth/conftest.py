"""The local OAuth server for the OAuth tests (tests/oauth_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from oauth_server import OAuthServer, serve_oauth


@pytest.fixture
def oauth_server() -> Iterator[OAuthServer]:
    """A fresh local authorization server on a free loopback port."""
    with serve_oauth() as server:
        yield server
