"""Mail tests run against real servers from tests/mailservers.py."""

import sys
from pathlib import Path

# pyproject already puts tests/ on sys.path; this keeps the directory runnable alone.
_TESTS_DIR = str(Path(__file__).resolve().parents[2])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from mailservers import *  # noqa: E402, F403
from oauth_server import oauth_dovecot, oauth_provider, oauth_server, oauth_smtp  # noqa: E402, F401
