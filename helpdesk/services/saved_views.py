"""Saved views: a name for a set of inbox filters, the agent's own or shared with the team.

Any agent saves views of their own. Sharing a view puts it in every agent's list, so only
admins share (and change or delete a shared view); the team's views stay few and tidy.
A view's count is how many tickets its filters select now, counted as the inbox counts
(capped at ``inbox.COUNT_CAP``).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from sqlalchemy import or_
from sqlmodel import Session, col, select

from helpdesk.db import transaction
from helpdesk.i18n import N_
from helpdesk.models import Agent, SavedView
from helpdesk.models.tags import MAX_VIEW_NAME
from helpdesk.services import audit
from helpdesk.services.errors import NotFound, PermissionDenied, ServiceError
from helpdesk.services.inbox import TicketFilter, count_matching
from helpdesk.values import MAX_LINE

#: How many views one agent may keep (each is counted on every inbox load).
MAX_VIEWS = 30


def clean_filters(values: Mapping[str, object]) -> dict[str, str]:
    """The inbox filters among ``values``; ``status`` is kept even when empty ("all")."""
    cleaned: dict[str, str] = {}
    for key in TicketFilter.KEYS:
        value = values.get(key)
        if value is None:
            continue
        text = str(value).strip()[:MAX_LINE]
        if text or key == "status":
            cleaned[key] = text
    return cleaned


def url(view: SavedView) -> str:
    """The inbox address that shows the view (an empty status means every status)."""
    return "/tickets?" + urlencode({"status": "", **view.filters, "view": view.id})


def list_views(session: Session, agent: Agent) -> list[SavedView]:
    """The agent's own views and the shared ones, shared first, each by name."""
    query = (
        select(SavedView)
        .where(or_(col(SavedView.agent_id) == agent.id, col(SavedView.shared).is_(True)))
        .order_by(col(SavedView.shared).desc(), col(SavedView.name), col(SavedView.id))
    )
    return list(session.exec(query))


def get_view(session: Session, view_id: int, agent: Agent) -> SavedView:
    """A view the agent may see (their own or a shared one)."""
    view = session.get(SavedView, view_id)
    if view is None or not (view.shared or view.agent_id == agent.id):
        raise NotFound(N_("No such view"))
    return view


def counts(session: Session, views: list[SavedView], agent: Agent) -> dict[int, int]:
    """How many tickets each view selects now (capped, as the inbox counts)."""
    return {
        v.id or 0: count_matching(session, TicketFilter.from_query(v.filters, agent)) for v in views
    }


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ServiceError(N_("A view needs a name"), field="name")
    if len(cleaned) > MAX_VIEW_NAME:
        raise ServiceError(
            N_("A view name is at most %(max)s characters"),
            field="name",
            params={"max": MAX_VIEW_NAME},
        )
    return cleaned


def _may_change(view: SavedView, agent: Agent) -> None:
    if view.shared and not agent.is_admin:
        raise PermissionDenied(N_("Only admins may change shared views"))
    if not view.shared and view.agent_id != agent.id:
        raise NotFound(N_("No such view"))


def create(
    session: Session, *, agent: Agent, name: str, filters: Mapping[str, object], shared: bool
) -> SavedView:
    """Save the filters under ``name``; only admins share (audited)."""
    cleaned = _clean_name(name)
    if shared and not agent.is_admin:
        raise PermissionDenied(N_("Only admins may share views"))
    with transaction(session):
        own = session.exec(select(SavedView.id).where(SavedView.agent_id == agent.id)).all()
        if len(own) >= MAX_VIEWS:
            raise ServiceError(
                N_("You have %(max)s views already; delete one first"), params={"max": MAX_VIEWS}
            )
        view = SavedView(
            name=cleaned, agent_id=agent.id or 0, shared=shared, filters=clean_filters(filters)
        )
        session.add(view)
        session.flush()
        audit.record(
            session,
            action="view.create",
            agent=agent,
            object_type="saved_view",
            object_id=view.id,
            name=cleaned,
            shared=shared,
        )
    return view


def update(
    session: Session,
    *,
    view: SavedView,
    agent: Agent,
    name: str | None = None,
    filters: Mapping[str, object] | None = None,
    shared: bool | None = None,
) -> SavedView:
    """Rename, re-filter or (admins) share or unshare a view (audited)."""
    _may_change(view, agent)
    if shared and not view.shared and not agent.is_admin:
        raise PermissionDenied(N_("Only admins may share views"))
    cleaned = _clean_name(name) if name is not None else view.name
    with transaction(session):
        view.name = cleaned
        if filters is not None:
            view.filters = clean_filters(filters)
        if shared is not None:
            view.shared = shared
        session.add(view)
        audit.record(
            session,
            action="view.update",
            agent=agent,
            object_type="saved_view",
            object_id=view.id,
            name=cleaned,
        )
    return view


def delete(session: Session, *, view: SavedView, agent: Agent) -> None:
    """Delete a view: one's own, or (admins) a shared one (audited)."""
    _may_change(view, agent)
    with transaction(session):
        audit.record(
            session,
            action="view.delete",
            agent=agent,
            object_type="saved_view",
            object_id=view.id,
            name=view.name,
        )
        session.delete(view)
