"""Agents (the customer-service team), their login sessions and API tokens, the login throttle."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from helpdesk.models.base import ts_field


class Role(StrEnum):
    agent = "agent"
    admin = "admin"


class AgentBase(SQLModel):
    """Public fields of an agent."""

    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    role: Role = Field(default=Role.agent, sa_type=String(16))
    active: bool = True
    language: str = Field(default="fi", max_length=5)
    signature: str = ""


class Agent(AgentBase, table=True):
    """A person who logs in; the password only as an argon2 hash."""

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = ts_field()
    last_login_at: datetime | None = ts_field(nullable=True, default_now=False)
    #: Notifications also by mail: ``off`` or ``immediately`` (``NotifyEmail``).
    notify_email: str = Field(default="off", max_length=16)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    created_at: datetime = ts_field()
    last_used_at: datetime | None = ts_field(nullable=True, default_now=False)
    #: None: valid until revoked.
    expires_at: datetime | None = ts_field(nullable=True, default_now=False)
    revoked_at: datetime | None = ts_field(nullable=True, default_now=False)


class AgentSession(SQLModel, table=True):
    """A browser login, server-side: the cookie carries only its random id.

    Only the id's SHA-256 is stored, so a copy of the table logs nobody in. A session ends
    when it is revoked (logout, deactivation, a new password), after the idle timeout
    (``last_seen_at``, written at most every few minutes) or at ``expires_at``.
    """

    __tablename__ = "agent_session"

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = ts_field()
    last_seen_at: datetime = ts_field()
    expires_at: datetime = ts_field()
    revoked_at: datetime | None = ts_field(nullable=True, default_now=False)
    user_agent: str = Field(default="", max_length=300)
    ip: str = Field(default="", max_length=64)


class LoginThrottle(SQLModel, table=True):
    """Login attempts counted per key (address and client IP, or client IP) and window.

    One row per key; an attempt increments ``attempts`` with one atomic UPSERT before
    the password is checked, so parallel tries cannot all read the same old count.
    """

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=80)
    window_start: datetime = ts_field()
    attempts: int = 0
