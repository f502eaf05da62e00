"""E-tunnus users: the directory with search, a user's page with their history, the form.

Every agent may edit a user's contact details and notes (audited): in a team of three
to five the person on the phone is the one who hears "my number changed", and waiting
for an admin would leave the directory stale. Creating users stays with admins, since
new users come from the E-tunnus register (``helpdesk users import``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel

from helpdesk.models import Agent, EtunnusUser
from helpdesk.plugins import hook
from helpdesk.services import history
from helpdesk.services import people as people_service
from helpdesk.services.errors import ServiceError
from helpdesk.values import Line, Search, Text
from helpdesk.web.deps import AdminAgent, CurrentAgent, HtmxTarget, SessionDep
from helpdesk.web.templating import render

router = APIRouter()
_LIST_SEPARATORS = re.compile(r"[;,\n]+")


class UserForm(BaseModel):
    """A user's details as an agent edits them; emails and phones one per line."""

    name: Line
    emails: Line = ""
    phones: Line = ""
    notes: Text = ""


class NewUserForm(UserForm):
    """A new user: the details and the E-tunnus number."""

    etunnus: Line


def split_list(text: str) -> list[str]:
    """Addresses or numbers typed one per line, or separated by ``;`` or ``,``."""
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


@router.get("/users", include_in_schema=False)
def user_list(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    target: HtmxTarget,
    q: Search = "",
) -> Response:
    users = people_service.search(session, q, limit=100) if q.strip() else []
    if not q.strip():
        users = people_service.list_users(session, limit=100)
    context = {
        "q": q,
        "users": users,
        "emails": {u.id: people_service.emails_of(session, u) for u in users},
        "phones": {u.id: people_service.phones_of(session, u) for u in users},
    }
    block = "user_rows" if target == "user-rows" else None
    return render(request, "users/list.html", context, block=block)


def _form(
    request: Request,
    *,
    user: EtunnusUser | None,
    values: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "users/form.html",
        {"user": user, "values": values, "error": error},
        status_code=status_code,
    )


@router.get("/users/new", include_in_schema=False)
def new_user(request: Request, agent: AdminAgent) -> Response:
    return _form(request, user=None, values={})


@router.post("/users", include_in_schema=False)
def create_user(
    request: Request,
    session: SessionDep,
    agent: AdminAgent,
    form: Annotated[NewUserForm, Form()],
) -> Response:
    try:
        user = people_service.create_user(
            session,
            etunnus=form.etunnus,
            name=form.name,
            emails=split_list(form.emails),
            phones=split_list(form.phones),
            notes=form.notes,
            by=agent,
        )
    except ServiceError as exc:
        return _form(
            request,
            user=None,
            values=form.model_dump(),
            error=exc.text(),
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/users/{user.etunnus}", status_code=303)


def _user_slots(
    request: Request, session: SessionDep, user: EtunnusUser, agent: Agent
) -> list[Markup]:
    slots = hook().helpdesk_user_page(request=request, session=session, user=user, agent=agent)
    return [Markup(s) for s in slots if s]  # noqa: S704 (plugins render escaped templates)


@router.get("/users/{etunnus}", include_in_schema=False)
def user_page(
    request: Request, etunnus: Line, session: SessionDep, agent: CurrentAgent
) -> Response:
    user = people_service.get_user(session, etunnus)
    context: dict[str, Any] = {
        "user": user,
        "emails": people_service.emails_of(session, user),
        "phones": people_service.phones_of(session, user),
        "history": history.user_history(session, user),
        "slots": _user_slots(request, session, user, agent),
    }
    return render(request, "users/page.html", context)


@router.get("/users/{etunnus}/edit", include_in_schema=False)
def edit_user(
    request: Request, etunnus: Line, session: SessionDep, agent: CurrentAgent
) -> Response:
    user = people_service.get_user(session, etunnus)
    values = {
        "etunnus": user.etunnus,
        "name": user.name,
        "emails": "\n".join(people_service.emails_of(session, user)),
        "phones": "\n".join(
            people_service.format_phone(p) for p in people_service.phones_of(session, user)
        ),
        "notes": user.notes,
    }
    return _form(request, user=user, values=values)


@router.post("/users/{etunnus}", include_in_schema=False)
def save_user(
    request: Request,
    etunnus: Line,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[UserForm, Form()],
) -> Response:
    user = people_service.get_user(session, etunnus)
    try:
        people_service.update_user(
            session,
            user=user,
            name=form.name,
            emails=split_list(form.emails),
            phones=split_list(form.phones),
            notes=form.notes,
            by=agent,
        )
    except ServiceError as exc:
        return _form(
            request,
            user=user,
            values={"etunnus": etunnus, **form.model_dump()},
            error=exc.text(),
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/users/{user.etunnus}", status_code=303)
