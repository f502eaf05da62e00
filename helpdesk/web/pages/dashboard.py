"""Today at a glance: new mail, open tickets, calls, the oldest unanswered, service hours."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from helpdesk.services import history
from helpdesk.web.deps import CurrentAgent, SessionDep
from helpdesk.web.templating import render

router = APIRouter()


@router.get("/dashboard", include_in_schema=False)
def dashboard(request: Request, session: SessionDep, agent: CurrentAgent) -> Response:
    return render(request, "dashboard.html", {"today": history.today(session)})
