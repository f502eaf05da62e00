"""E-tunnus users over JSON: search, one user, create (admins), change (every agent)."""

from __future__ import annotations

from fastapi import APIRouter

from helpdesk.models import UserCreate, UserRead, UserUpdate
from helpdesk.services import people as people_service
from helpdesk.values import Line, Search
from helpdesk.web.deps import AdminAgent, CurrentAgent, SessionDep

router = APIRouter(tags=["users"])


@router.get("/users", response_model=list[UserRead])
def api_search_users(
    session: SessionDep, agent: CurrentAgent, q: Search = "", limit: int = 20
) -> list[UserRead]:
    """Users matching ``q`` (e-tunnus number, name, email or phone, as prefixes); without
    ``q``, users by name."""
    size = max(1, min(limit, 200))
    users = (
        people_service.search(session, q, limit=size)
        if q.strip()
        else people_service.list_users(session, limit=size)
    )
    return [people_service.user_read(session, u) for u in users]


@router.get("/users/{etunnus}", response_model=UserRead)
def api_get_user(etunnus: Line, session: SessionDep, agent: CurrentAgent) -> UserRead:
    """One user with their addresses and numbers (E.164)."""
    return people_service.user_read(session, people_service.get_user(session, etunnus))


@router.post("/users", response_model=UserRead, status_code=201)
def api_create_user(body: UserCreate, session: SessionDep, agent: AdminAgent) -> UserRead:
    """Create a user (admins; users normally come from ``helpdesk users import``)."""
    user = people_service.create_user(
        session,
        etunnus=body.etunnus,
        name=body.name,
        emails=body.emails,
        phones=body.phones,
        notes=body.notes,
        by=agent,
    )
    return people_service.user_read(session, user)


@router.patch("/users/{etunnus}", response_model=UserRead)
def api_update_user(
    etunnus: Line, change: UserUpdate, session: SessionDep, agent: CurrentAgent
) -> UserRead:
    """Change name, notes, or replace the addresses or numbers; fields left out stay."""
    user = people_service.get_user(session, etunnus)
    people_service.update_user(
        session,
        user=user,
        name=change.name,
        emails=change.emails,
        phones=change.phones,
        notes=change.notes,
        by=agent,
    )
    return people_service.user_read(session, user)
