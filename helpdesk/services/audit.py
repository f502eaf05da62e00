"""Recording audit events. Callers add them inside their own transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from helpdesk.models import Agent, AuditEvent


def record(
    session: Session,
    *,
    action: str,
    agent: Agent | None = None,
    object_type: str = "",
    object_id: object = "",
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the session (committed with the change it describes)."""
    event = AuditEvent(
        agent_id=agent.id if agent else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details={k: v for k, v in details.items() if v is not None},
    )
    session.add(event)
    return event
