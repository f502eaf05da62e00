"""Agents (the customer-service team) and their API tokens."""

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
    revoked_at: datetime | None = ts_field(nullable=True, default_now=False)
