"""Bulk actions over JSON: one request changes many tickets, all or none."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from helpdesk.services import agents as agent_service
from helpdesk.services import bulk
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.values import Id, Line
from helpdesk.web.deps import CurrentAgent, SessionDep

router = APIRouter(tags=["tickets"])


class BulkRequest(BaseModel):
    """The tickets and what to do to them.

    ``status`` with action ``status``; ``assignee`` (an agent email, or null for nobody)
    with ``assign``; ``tag`` (a name, made if new when added) with ``add_tag`` and
    ``remove_tag``; ``into`` (a ticket id; it may be among ``ids``) with ``merge``."""

    ids: list[Id] = Field(min_length=1, max_length=bulk.MAX_BULK)
    action: Literal["status", "assign", "add_tag", "remove_tag", "merge"]
    status: Literal["open", "pending", "closed"] | None = None
    assignee: Line | None = None
    tag: Line | None = None
    into: Id | None = None


class BulkAnswer(BaseModel):
    """What the action did: ``changed`` of the ``selected`` tickets changed."""

    action: str
    selected: int
    changed: int
    summary: str


@router.post("/tickets/bulk", response_model=BulkAnswer)
def api_bulk(change: BulkRequest, session: SessionDep, agent: CurrentAgent) -> BulkAnswer:
    """Change status, assignee or tags of many tickets, or merge them into one, in one
    transaction (audited per ticket as a single change is). An unknown ticket id changes
    nothing (404)."""
    assignee = None
    if change.action == "assign" and change.assignee:
        assignee = agent_service.get_by_email(session, change.assignee)
        if assignee is None:
            raise ServiceError(
                "No agent with the address %(email)s", params={"email": change.assignee}
            )
    result = bulk.apply(
        session,
        ticket_ids=change.ids,
        action=change.action,
        by=agent,
        status=change.status,
        assignee=assignee,
        tag=change.tag,
        target=ticket_service.get_ticket(session, change.into) if change.into is not None else None,
    )
    return BulkAnswer(
        action=str(result.action),
        selected=result.selected,
        changed=result.changed,
        summary=bulk.summary(result),
    )
