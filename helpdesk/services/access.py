"""Who may come in: browser login sessions and API tokens, listed and revocable.

A login session lives in the ``agent_session`` table; the browser's cookie carries only its
random id, of which the table keeps the SHA-256. Logging out, deactivating the agent or
changing the password revokes it there, so a copied cookie stops working at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.i18n import N_
from helpdesk.models import Agent, AgentSession, ApiToken, utcnow
from helpdesk.security import new_session_token, token_digest
from helpdesk.services import audit
from helpdesk.services.errors import NotFound
from helpdesk.settings import get_settings

#: ``AgentSession.last_seen_at`` is written at most this often per session, in a short
#: unit of its own: an agent's reads do not turn into writes, and the idle timeout is
#: noticed within this much.
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)


def start_session(session: Session, *, agent: Agent, user_agent: str = "", ip: str | None) -> str:
    """A new login session for ``agent``; returns the id the cookie carries."""
    token, digest = new_session_token()
    now = utcnow()
    with transaction(session):
        session.add(
            AgentSession(
                agent_id=agent.id or 0,
                token_sha256=digest,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(seconds=get_settings().session_max_age_seconds),
                user_agent=user_agent[:300],
                ip=(ip or "")[:64],
            )
        )
    return token


def is_live(row: AgentSession, now: datetime) -> bool:
    """Not revoked, not past its absolute end, not idle too long."""
    idle = timedelta(seconds=get_settings().session_idle_seconds)
    return row.revoked_at is None and now < row.expires_at and now - row.last_seen_at < idle


def live_session(session: Session, token: str) -> AgentSession | None:
    """The live session a cookie's id names, or None (only reads: ``touch_session`` notes
    the visit)."""
    row = session.exec(
        select(AgentSession).where(AgentSession.token_sha256 == token_digest(token))
    ).first()
    return row if row is not None and is_live(row, utcnow()) else None


def session_needs_touch(row: AgentSession, now: datetime | None = None) -> bool:
    """True when the session's last visit is older than ``SESSION_TOUCH_INTERVAL``."""
    return (now or utcnow()) - row.last_seen_at >= SESSION_TOUCH_INTERVAL


def touch_session(session: Session, session_id: int) -> None:
    """Note a visit, at most once per ``SESSION_TOUCH_INTERVAL``: one conditional UPDATE
    (of parallel requests of one session, one writes) in a unit of its own. Call it in a
    session of its own, not the request's, so no request's read transaction holds it."""
    now = utcnow()
    with transaction(session):
        session.execute(
            update(AgentSession)
            .where(
                col(AgentSession.id) == session_id,
                col(AgentSession.revoked_at).is_(None),
                col(AgentSession.last_seen_at) < now - SESSION_TOUCH_INTERVAL,
            )
            .values(last_seen_at=now)
            .execution_options(synchronize_session=False)
        )


def end_session(session: Session, *, token: str, agent: Agent) -> None:
    """Log out: the session named by ``token`` is revoked server-side."""
    with transaction(session):
        session.execute(
            update(AgentSession)
            .where(
                col(AgentSession.token_sha256) == token_digest(token),
                col(AgentSession.revoked_at).is_(None),
            )
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        audit.record(session, action="logout", agent=agent, object_type="agent", object_id=agent.id)


def end_all_access(session: Session, *, agent: Agent, keep_session_id: int | None = None) -> int:
    """Revoke every live session and API token of ``agent``; a step inside the caller's unit.

    ``keep_session_id`` spares one session (the agent's own, when they change their own
    password). Returns how many sessions and tokens were revoked.
    """
    now = utcnow()
    sessions = update(AgentSession).where(
        col(AgentSession.agent_id) == agent.id, col(AgentSession.revoked_at).is_(None)
    )
    if keep_session_id is not None:
        sessions = sessions.where(col(AgentSession.id) != keep_session_id)
    ended = session.execute(
        sessions.values(revoked_at=now).execution_options(synchronize_session=False)
    )
    tokens = session.execute(
        update(ApiToken)
        .where(col(ApiToken.agent_id) == agent.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(ended, "rowcount", 0) or 0) + int(getattr(tokens, "rowcount", 0) or 0)


def sessions_of(session: Session, agent: Agent) -> list[AgentSession]:
    """The agent's live login sessions, newest first."""
    now = utcnow()
    rows = session.exec(
        select(AgentSession)
        .where(
            col(AgentSession.agent_id) == agent.id,
            col(AgentSession.revoked_at).is_(None),
            col(AgentSession.expires_at) > now,
        )
        .order_by(col(AgentSession.created_at).desc(), col(AgentSession.id).desc())
    )
    return [row for row in rows if is_live(row, now)]


def tokens_of(session: Session, agent: Agent, *, include_ended: bool = True) -> list[ApiToken]:
    """The agent's API tokens, newest first (revoked and expired ones too, unless asked)."""
    query = select(ApiToken).where(col(ApiToken.agent_id) == agent.id)
    if not include_ended:
        query = query.where(
            col(ApiToken.revoked_at).is_(None),
            or_(col(ApiToken.expires_at).is_(None), col(ApiToken.expires_at) > utcnow()),
        )
    return list(session.exec(query.order_by(col(ApiToken.id).desc())))


def _revoke(
    session: Session, row: AgentSession | ApiToken, *, action: str, by: Agent | None
) -> None:
    """A step: mark ``row`` revoked (once) and audit it."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        audit.record(
            session,
            action=action,
            agent=by,
            object_type=str(type(row).__tablename__),
            object_id=row.id,
            owner_id=row.agent_id,
        )


def revoke_session(session: Session, *, session_id: int, owner: Agent) -> None:
    """Revoke one of ``owner``'s sessions (the profile page's button)."""
    with transaction(session):
        row = session.get(AgentSession, session_id)
        if row is None or row.agent_id != owner.id:
            raise NotFound(N_("No such session"))
        _revoke(session, row, action="session.revoke", by=owner)


def revoke_token(
    session: Session, *, token_id: int, owner: Agent | None = None, by: Agent | None = None
) -> ApiToken:
    """Revoke an API token; with ``owner`` only one of theirs (the CLI may revoke any)."""
    with transaction(session):
        row = session.get(ApiToken, token_id)
        if row is None or (owner is not None and row.agent_id != owner.id):
            raise NotFound(N_("No such API token"))
        _revoke(session, row, action="token.revoke", by=by or owner)
    return row
