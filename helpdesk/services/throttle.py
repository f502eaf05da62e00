"""The login throttle: attempts counted atomically, per (address, client IP) and per IP.

An attempt is counted *before* its password is checked, with one UPSERT per key that
returns the new count (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, on SQLite and
PostgreSQL alike). Parallel tries therefore each get a different number, and only those
numbered within the limit are checked at all; reading a count and writing a failure later
let every parallel try read the same old count. A login that succeeds gives its attempt
back (the address's count starts again, the IP's goes down by one).

Counting per pair, not per address, keeps a stranger from locking an agent out by guessing
from elsewhere; the looser per-IP count still slows one client trying many addresses. A
key's window is fixed: it starts with the first attempt and lasts
``HELPDESK_LOGIN_WINDOW_SECONDS``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from helpdesk.db import is_postgres, transaction
from helpdesk.models import LoginThrottle, utcnow
from helpdesk.models.base import UTCDateTime
from helpdesk.settings import get_settings


def _key(kind: str, *parts: str) -> str:
    # Hashed: the address is whatever the form said, the key column has a fixed length.
    return kind + ":" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _keys(email: str, ip: str | None) -> list[tuple[str, int]]:
    settings = get_settings()
    keys = [(_key("pair", email, ip or ""), settings.login_max_failures)]
    if ip:
        keys.append((_key("ip", ip), settings.login_max_failures_per_ip))
    return keys


def _count(session: Session, key: str, now: datetime) -> int:
    """Add one attempt to ``key``'s window (a new window when the old one is over)."""
    table = LoginThrottle.__table__  # type: ignore[attr-defined]
    cutoff = now - timedelta(seconds=get_settings().login_window_seconds)
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    over = table.c.window_start < literal(cutoff, UTCDateTime())
    statement = (
        insert(table)
        .values(key=key, window_start=now, attempts=1)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "attempts": case((over, 1), else_=table.c.attempts + 1),
                "window_start": case(
                    (over, literal(now, UTCDateTime())), else_=table.c.window_start
                ),
            },
        )
        .returning(table.c.attempts)
    )
    return int(session.execute(statement).scalar_one())


def take_attempt(session: Session, *, email: str, ip: str | None) -> bool:
    """Count a login attempt in its own short unit; False when it is over a limit."""
    now = utcnow()
    with transaction(session):
        # Windows that are over hold nothing worth keeping: the table stays a few rows.
        cutoff = now - timedelta(seconds=get_settings().login_window_seconds)
        session.execute(delete(LoginThrottle).where(col(LoginThrottle.window_start) < cutoff))
        counts = [(_count(session, key, now), limit) for key, limit in _keys(email, ip)]
    return all(count <= limit for count, limit in counts)


def give_back(session: Session, *, email: str, ip: str | None) -> None:
    """A step of a successful login's unit: its attempt was no failure."""
    pair, *by_ip = _keys(email, ip)
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == pair[0]))
    for key, _limit in by_ip:
        session.execute(
            update(LoginThrottle)
            .where(col(LoginThrottle.key) == key, col(LoginThrottle.attempts) > 0)
            .values(attempts=col(LoginThrottle.attempts) - 1)
            .execution_options(synchronize_session=False)
        )
