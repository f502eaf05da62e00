"""Passwords (argon2 via pwdlib), API tokens, login-session tokens and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash((Argon2Hasher(),))
#: Verified against when the account does not exist, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

API_TOKEN_PREFIX = "hd_"  # noqa: S105 - a prefix, not a secret


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches; spends the same time for a missing account."""
    if not password_hash:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a crash
        return False


def new_api_token() -> tuple[str, str]:
    """A new bearer token and the SHA-256 under which it is stored."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session_token() -> tuple[str, str]:
    """A new login-session id for the cookie and the SHA-256 under which it is stored."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_for(secret_key: str, session_token: str) -> str:
    """The CSRF token of a cookie session: an HMAC of its id, so nothing more is stored.

    A new session id (at login) gives a new CSRF token, and a token from another
    session never matches.
    """
    mac = hmac.new(secret_key.encode(), b"csrf:" + session_token.encode(), hashlib.sha256)
    return mac.hexdigest()


def same_token(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two optional tokens."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
