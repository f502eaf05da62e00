"""Notifications in the app: the top bar's unread badge, the list, following a ticket,
and the profile's "also by email" choice. Opening or marking a notification is a POST."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from helpdesk.models import Agent, NotifyEmail
from helpdesk.services import notifications
from helpdesk.services import tickets as ticket_service
from helpdesk.values import Id
from helpdesk.web.deps import CurrentAgent, SessionDep
from helpdesk.web.pages.ticket_view import follow_context
from helpdesk.web.templating import render

router = APIRouter()


class EmailForm(BaseModel):
    """The profile page's "also by email" menu."""

    notify_email: NotifyEmail


@router.get("/notifications/badge", include_in_schema=False)
def badge(request: Request, session: SessionDep, agent: CurrentAgent) -> Response:
    """The top bar's bell with the unread count; the page polls it."""
    unread = notifications.unread_count(session, agent)
    return render(request, "notifications/_badge.html", {"notifications_unread": unread})


@router.get("/notifications", include_in_schema=False)
def notification_list(
    request: Request,
    session: SessionDep,
    agent: CurrentAgent,
    unread: bool = False,
    before: Annotated[Id | None, Query()] = None,
) -> Response:
    items = notifications.list_for(
        session, agent, unread_only=unread, before=before, limit=notifications.PAGE_SIZE + 1
    )
    more = len(items) > notifications.PAGE_SIZE
    items = items[: notifications.PAGE_SIZE]
    return render(
        request,
        "notifications/list.html",
        {
            "items": items,
            "unread_only": unread,
            "notifications_unread": notifications.unread_count(session, agent),
            "next_before": items[-1].notification.id if more and items else None,
        },
    )


@router.post("/notifications/{notification_id}/open", include_in_schema=False)
def open_notification(notification_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    """Mark it read and go where it points (its ticket, at the message)."""
    shown = notifications.open_one(session, agent=agent, notification_id=notification_id)
    return RedirectResponse(shown.url, status_code=303)


@router.post("/notifications/{notification_id}/read", include_in_schema=False)
def read_one(notification_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    notifications.get_own(session, agent, notification_id)
    notifications.mark_read(session, agent=agent, ids=[notification_id])
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/read-all", include_in_schema=False)
def read_all(session: SessionDep, agent: CurrentAgent) -> Response:
    notifications.mark_read(session, agent=agent)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/settings", include_in_schema=False)
def email_setting(
    session: SessionDep, agent: CurrentAgent, form: Annotated[EmailForm, Form()]
) -> Response:
    notifications.set_email_preference(session, agent=agent, value=form.notify_email)
    return RedirectResponse("/profile#notifications", status_code=303)


def _follow_panel(request: Request, session: SessionDep, ticket_id: int, agent: Agent) -> Response:
    if request.headers.get("hx-request"):
        context: dict[str, object] = {"ticket": ticket_service.get_ticket(session, ticket_id)}
        context |= follow_context(session, ticket_id, agent)
        return render(request, "notifications/_follow.html", context)
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


@router.post("/tickets/{ticket_id}/follow", include_in_schema=False)
def follow(request: Request, ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    notifications.follow(session, ticket=ticket, agent=agent)
    return _follow_panel(request, session, ticket_id, agent)


@router.post("/tickets/{ticket_id}/unfollow", include_in_schema=False)
def unfollow(request: Request, ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> Response:
    ticket = ticket_service.get_ticket(session, ticket_id)
    notifications.unfollow(session, ticket=ticket, agent=agent)
    return _follow_panel(request, session, ticket_id, agent)
