"""The audit log: who did what, when, to which object."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from helpdesk.models.base import json_field, ts_field


class AuditEvent(SQLModel, table=True):
    """One audited action. ``agent_id`` is empty for the system (workers, imports)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_object", "object_type", "object_id"),
        Index("ix_audit_action_at", "action", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = ts_field()
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    action: str = Field(max_length=64)
    object_type: str = Field(default="", max_length=32)
    object_id: str = Field(default="", max_length=64)
    details: dict[str, Any] = json_field(dict)
