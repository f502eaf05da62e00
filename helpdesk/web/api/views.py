"""Saved inbox views over JSON: one's own and the shared ones, with their counts."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlmodel import Session

from helpdesk.models import Agent, SavedView, SavedViewRead
from helpdesk.services import saved_views
from helpdesk.values import Id, Line
from helpdesk.web.deps import CurrentAgent, SessionDep

router = APIRouter(tags=["views"])


class ViewFilters(BaseModel):
    """The inbox filters a view holds (as ``GET /tickets`` takes them)."""

    status: Line | None = None
    mailbox: Line | None = None
    assignee: Line | None = None
    tag: Line | None = None
    user: Line | None = None
    q: Line | None = None


class ViewCreate(BaseModel):
    """A new view; ``shared`` (every agent sees it) is for admins."""

    name: Line
    filters: ViewFilters = ViewFilters()
    shared: bool = False


class ViewUpdate(BaseModel):
    """Rename, re-filter, or (admins) share or unshare a view."""

    name: Line | None = None
    filters: ViewFilters | None = None
    shared: bool | None = None


def view_out(
    session: Session, view: SavedView, agent: Agent, count: int | None = None
) -> SavedViewRead:
    owner = session.get(Agent, view.agent_id)
    return SavedViewRead(
        id=view.id or 0,
        name=view.name,
        shared=view.shared,
        owner=owner.email if owner else None,
        filters=view.filters,
        count=count,
    )


@router.get("/views", response_model=list[SavedViewRead])
def api_list_views(session: SessionDep, agent: CurrentAgent) -> list[SavedViewRead]:
    """The agent's views and the shared ones, each with how many tickets it shows now
    (counted up to 1000; a larger count reads 1001)."""
    views = saved_views.list_views(session, agent)
    counts = saved_views.counts(session, views, agent)
    return [view_out(session, v, agent, counts.get(v.id or 0)) for v in views]


@router.post("/views", response_model=SavedViewRead, status_code=201)
def api_create_view(body: ViewCreate, session: SessionDep, agent: CurrentAgent) -> SavedViewRead:
    """Save filters under a name."""
    view = saved_views.create(
        session,
        agent=agent,
        name=body.name,
        filters=body.filters.model_dump(exclude_none=True),
        shared=body.shared,
    )
    return view_out(session, view, agent)


@router.get("/views/{view_id}", response_model=SavedViewRead)
def api_get_view(view_id: Id, session: SessionDep, agent: CurrentAgent) -> SavedViewRead:
    """One view with its count."""
    view = saved_views.get_view(session, view_id, agent)
    return view_out(session, view, agent, saved_views.counts(session, [view], agent)[view.id or 0])


@router.patch("/views/{view_id}", response_model=SavedViewRead)
def api_update_view(
    view_id: Id, body: ViewUpdate, session: SessionDep, agent: CurrentAgent
) -> SavedViewRead:
    """Change a view: one's own, or (admins) a shared one."""
    view = saved_views.get_view(session, view_id, agent)
    filters = body.filters.model_dump(exclude_none=True) if body.filters is not None else None
    view = saved_views.update(
        session, view=view, agent=agent, name=body.name, filters=filters, shared=body.shared
    )
    return view_out(session, view, agent)


@router.delete("/views/{view_id}", status_code=204)
def api_delete_view(view_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    """Delete a view: one's own, or (admins) a shared one."""
    saved_views.delete(session, view=saved_views.get_view(session, view_id, agent), agent=agent)
    return Response(status_code=204)
