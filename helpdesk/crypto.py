"""Secrets kept at rest: OAuth tokens and client secrets, sealed with Fernet.

Fernet (``cryptography``) is authenticated encryption (AES-128-CBC + HMAC-SHA256), so a
sealed value can be neither read nor altered without the key. The keys come from
``HELPDESK_TOKEN_KEY`` (several, comma-separated, for rotation: MultiFernet seals with the
first and opens with any), or, when that is empty, one derived from
``HELPDESK_SECRET_KEY`` with HKDF, which production already refuses to leave at its
development default.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from helpdesk.settings import get_settings

#: Binds the derived key to this one use of the secret key.
_HKDF_INFO = b"helpdesk: OAuth tokens at rest"


class UnsealError(Exception):
    """A sealed value could not be opened: another key sealed it, or it was altered."""


def seal(value: str) -> str:
    """``value`` encrypted and authenticated, as ASCII text for a database column."""
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str:
    """The value :func:`seal` sealed; :class:`UnsealError` when no key opens it."""
    try:
        return _fernet().decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise UnsealError(
            "a stored secret cannot be decrypted: HELPDESK_TOKEN_KEY or HELPDESK_SECRET_KEY "
            "changed since it was saved"
        ) from exc


def _fernet() -> MultiFernet:
    settings = get_settings()
    return _keys(settings.token_key, settings.secret_key)


@lru_cache(maxsize=4)
def _keys(token_key: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in token_key.split(",") if k.strip()]
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
            secret_key.encode("utf-8")
        )
        keys = [base64.urlsafe_b64encode(derived).decode("ascii")]
    return MultiFernet([Fernet(key) for key in keys])
