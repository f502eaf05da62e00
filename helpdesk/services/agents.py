"""Agents: creating, changing and deactivating them, logging in (throttled), API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from helpdesk.db import reread, transaction
from helpdesk.i18n import N_
from helpdesk.models import Agent, ApiToken, Role, utcnow
from helpdesk.security import hash_password, new_api_token, token_digest, verify_password
from helpdesk.services import access, audit, throttle
from helpdesk.services.errors import Conflict, ServiceError


class LoginThrottled(ServiceError):
    status_code = 429

    def __init__(self) -> None:
        super().__init__(N_("Too many failed logins; try again later"), code="throttled")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_agent(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    admin: bool = False,
    language: str = "fi",
    by: Agent | None = None,
) -> Agent:
    """Create an agent; refuses a second agent with the same email."""
    email = normalise_email(email)
    if "@" not in email:
        raise ServiceError(N_("A valid email address is required"))
    if len(password) < 8:
        raise ServiceError(N_("The password must have at least 8 characters"))
    password_hash = hash_password(password)  # slow on purpose: before the write lock
    with transaction(session):
        if session.exec(select(Agent).where(Agent.email == email)).first():
            raise Conflict(f"An agent with the address {email} exists already")
        agent = Agent(
            email=email,
            name=name.strip() or email,
            password_hash=password_hash,
            role=Role.admin if admin else Role.agent,
            language=language,
        )
        session.add(agent)
        session.flush()
        audit.record(
            session,
            action="agent.create",
            agent=by,
            object_type="agent",
            object_id=agent.id,
            email=email,
            role=agent.role,
        )
    return agent


def update_agent(
    session: Session,
    *,
    agent: Agent,
    by: Agent | None,
    name: str | None = None,
    role: Role | None = None,
    active: bool | None = None,
    language: str | None = None,
    signature: str | None = None,
    password: str | None = None,
    keep_session_id: int | None = None,
) -> Agent:
    """Change an agent's details; every change is audited.

    Deactivating the agent or giving them a new password ends all their login sessions and
    API tokens in the same unit (``keep_session_id`` spares the session of an agent who
    changes their own password).
    """
    password_hash = None
    if password:
        if len(password) < 8:
            raise ServiceError(N_("The password must have at least 8 characters"))
        password_hash = hash_password(password)  # slow on purpose: before the write lock
    with transaction(session):
        reread(session, agent)
        changes: dict[str, object] = {}
        if name is not None and name != agent.name:
            agent.name, changes["name"] = name, name
        if role is not None and role != agent.role:
            agent.role, changes["role"] = role, str(role)
        if active is not None and active != agent.active:
            agent.active, changes["active"] = active, active
        if language is not None and language in ("fi", "en") and language != agent.language:
            agent.language, changes["language"] = language, language
        if signature is not None and signature != agent.signature:
            agent.signature, changes["signature"] = signature, True
        if password_hash is not None:
            agent.password_hash, changes["password"] = password_hash, True
        if active is False or "password" in changes:
            own = by is not None and by.id == agent.id and agent.active
            keep = keep_session_id if own and "password" in changes else None
            ended = access.end_all_access(session, agent=agent, keep_session_id=keep)
            if ended:
                changes["access_ended"] = ended
        if changes:
            session.add(agent)
            audit.record(
                session,
                action="agent.update",
                agent=by,
                object_type="agent",
                object_id=agent.id,
                **changes,
            )
    return agent


def change_own_password(
    session: Session, *, agent: Agent, current: str, new: str, keep_session_id: int | None
) -> Agent:
    """An agent's own password change: the current password must be right.

    Their other sessions and every API token end; ``keep_session_id`` (the session they
    are using) stays.
    """
    if not verify_password(current, agent.password_hash):
        raise ServiceError(N_("The current password is wrong"), code="bad_password")
    return update_agent(
        session, agent=agent, by=agent, password=new, keep_session_id=keep_session_id
    )


def authenticate(session: Session, *, email: str, password: str, ip: str | None = None) -> Agent:
    """Check a login. Every attempt is counted first (``throttle``), failures audited.

    Refused without checking the password after ``login_max_failures`` attempts for the
    (address, IP) pair or ``login_max_failures_per_ip`` from the IP within
    ``login_window_seconds``; a successful login gives its attempt back.
    """
    email = normalise_email(email)
    if not throttle.take_attempt(session, email=email, ip=ip):
        with transaction(session):
            audit.record(
                session, action="login.throttled", object_type="login", object_id=email, ip=ip
            )
        raise LoginThrottled()
    agent = session.exec(select(Agent).where(Agent.email == email)).first()
    if not verify_password(password, agent.password_hash if agent else None) or not (
        agent and agent.active
    ):
        with transaction(session):
            audit.record(
                session, action="login.failed", object_type="login", object_id=email, ip=ip
            )
        raise ServiceError(N_("Wrong email or password"), code="bad_login")
    with transaction(session):
        throttle.give_back(session, email=email, ip=ip)
        agent.last_login_at = utcnow()
        session.add(agent)
        audit.record(
            session, action="login", agent=agent, object_type="agent", object_id=agent.id, ip=ip
        )
    return agent


def create_token(
    session: Session, *, agent: Agent, name: str = "", valid_days: int | None = None
) -> str:
    """Create an API token for ``agent`` and return it; only its hash is kept.

    ``valid_days`` makes it expire; without it the token is valid until revoked.
    """
    token, digest = new_api_token()
    expires = utcnow() + timedelta(days=valid_days) if valid_days else None
    with transaction(session):
        session.add(
            ApiToken(agent_id=agent.id or 0, token_sha256=digest, name=name, expires_at=expires)
        )
        audit.record(
            session,
            action="token.create",
            agent=agent,
            object_type="agent",
            object_id=agent.id,
            name=name,
        )
    return token


def agent_for_token(session: Session, token: str) -> Agent | None:
    """The active agent a bearer token belongs to, or None (only reads)."""
    found = token_owner(session, token)
    return found[0] if found else None


def token_owner(session: Session, token: str) -> tuple[Agent, ApiToken] | None:
    """The active agent a bearer token belongs to, with the token's row, or None.

    Only reads: recording the use is ``touch_token``'s short write of its own.
    """
    row = session.exec(
        select(ApiToken).where(
            ApiToken.token_sha256 == token_digest(token), col(ApiToken.revoked_at).is_(None)
        )
    ).first()
    if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    agent = session.get(Agent, row.agent_id)
    if agent is None or not agent.active:
        return None
    return agent, row


#: ``ApiToken.last_used_at`` is written at most this often per token, so a script that
#: polls the API does not turn its reads into writes.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def token_needs_touch(row: ApiToken, now: datetime | None = None) -> bool:
    """True when the token's last use is unknown or older than ``TOKEN_TOUCH_INTERVAL``."""
    now = now or utcnow()
    return row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH_INTERVAL


def touch_token(session: Session, token_id: int) -> None:
    """Record that the token was used, at most once per ``TOKEN_TOUCH_INTERVAL``.

    A unit of work of its own, one conditional UPDATE: the web runs it after the response
    of a request the token made, so a GET never writes; of concurrent requests with the
    same token, one writes.
    """
    now = utcnow()
    with transaction(session):
        session.execute(
            update(ApiToken)
            .where(
                col(ApiToken.id) == token_id,
                or_(
                    col(ApiToken.last_used_at).is_(None),
                    col(ApiToken.last_used_at) < now - TOKEN_TOUCH_INTERVAL,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )


def deactivate(session: Session, *, agent: Agent, by: Agent | None = None) -> Agent:
    """Deactivate ``agent``: no more logins, and every session and API token ends now."""
    return update_agent(session, agent=agent, by=by, active=False)


def get_by_email(session: Session, email: str) -> Agent | None:
    return session.exec(select(Agent).where(Agent.email == normalise_email(email))).first()


def list_agents(session: Session, *, active_only: bool = False) -> list[Agent]:
    query = select(Agent).order_by(Agent.name)
    if active_only:
        query = query.where(col(Agent.active).is_(True))
    return list(session.exec(query))
