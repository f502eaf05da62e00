"""Phone calls over JSON: log one (into a new phone ticket or a given one), list recent."""

from __future__ import annotations

from fastapi import APIRouter

from helpdesk.i18n import N_
from helpdesk.models import CallCreate, CallRead
from helpdesk.services import calls as call_service
from helpdesk.services import people as people_service
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.values import Line
from helpdesk.web.deps import CurrentAgent, SessionDep

router = APIRouter(tags=["calls"])


@router.post("/calls", response_model=CallRead, status_code=201)
def api_log_call(body: CallCreate, session: SessionDep, agent: CurrentAgent) -> CallRead:
    """Log a call. Without ``user`` the caller is matched by ``phone``; without
    ``ticket_id`` a new phone ticket is opened. The answer carries the ``ticket_id``."""
    if body.started_at is not None and body.started_at.tzinfo is None:
        raise ServiceError(N_("The start time needs a time zone"))
    user = people_service.get_user(session, body.user) if body.user else None
    ticket = ticket_service.get_ticket(session, body.ticket_id) if body.ticket_id else None
    call = call_service.log_call(
        session,
        by=agent,
        phone=body.phone,
        direction=body.direction,
        started_at=body.started_at,
        duration_seconds=body.duration_seconds,
        topic=body.topic,
        notes=body.notes,
        user=user,
        ticket=ticket,
    )
    return call_service.call_read(session, call)


@router.get("/calls", response_model=list[CallRead])
def api_recent_calls(
    session: SessionDep, agent: CurrentAgent, user: Line | None = None, limit: int = 50
) -> list[CallRead]:
    """The latest calls, newest first (of one user with ``user``)."""
    owner = people_service.get_user(session, user) if user else None
    rows = call_service.recent(session, limit=max(1, min(limit, 200)), user=owner)
    return [call_service.call_read(session, r.call) for r in rows]
