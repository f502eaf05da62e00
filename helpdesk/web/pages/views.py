"""Saving the inbox's filters as a named view, and deleting one."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from helpdesk.i18n import gettext
from helpdesk.services import saved_views
from helpdesk.values import Id, Line
from helpdesk.web.deps import CurrentAgent, SessionDep
from helpdesk.web.forms import Checkbox
from helpdesk.web.templating import render

router = APIRouter()


class ViewForm(BaseModel):
    """A name for the filters of the inbox address ``query`` (its query string)."""

    name: Line = ""
    query: Line = ""
    shared: Checkbox = False


def _done(request: Request, notice: str, url: str) -> Response:
    if not request.headers.get("hx-request"):
        return RedirectResponse(url, status_code=303)
    trigger: dict[str, dict[str, str]] = {"views-changed": {}}
    return render(
        request, "_flash.html", {"notice": notice}, headers={"HX-Trigger": json.dumps(trigger)}
    )


@router.post("/views", include_in_schema=False)
def save_view(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[ViewForm, Form()],
) -> Response:
    filters = dict(parse_qsl(urlsplit(form.query).query or form.query, keep_blank_values=True))
    filters.setdefault("status", "active")  # the inbox's own default
    view = saved_views.create(
        session, agent=agent, name=form.name, filters=filters, shared=form.shared
    )
    notice = gettext("View %(name)s saved") % {"name": view.name}
    return _done(request, notice, saved_views.url(view))


@router.post("/views/{view_id}/delete", include_in_schema=False)
def delete_view(
    request: Request, view_id: Id, session: SessionDep, agent: CurrentAgent
) -> Response:
    view = saved_views.get_view(session, view_id, agent)
    name = view.name
    saved_views.delete(session, view=view, agent=agent)
    return _done(request, gettext("View %(name)s deleted") % {"name": name}, "/tickets")
