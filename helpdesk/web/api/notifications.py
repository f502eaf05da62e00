"""Notifications, following and @mention-able agents over JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from helpdesk.models import Agent
from helpdesk.services import mentions, notifications
from helpdesk.services import tickets as ticket_service
from helpdesk.values import MAX_ID, Id, Search
from helpdesk.web.deps import CurrentAgent, SessionDep

router = APIRouter(tags=["notifications"])


class NotificationRead(BaseModel):
    """One notification: ``kind`` mention, note, incoming, reply, status, assigned or admin."""

    id: int
    kind: str
    text: str
    ticket_id: int | None
    ticket_number: int | None
    message_id: int | None
    actor: str | None
    created_at: datetime
    read_at: datetime | None
    url: str


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    unread: int
    #: Pass as ``before`` for the next, older page; null on the last one.
    next_before: int | None


class MarkRead(BaseModel):
    """Which notifications to mark read: the ids given, or all of the agent's if null."""

    ids: list[Annotated[int, Field(ge=0, le=MAX_ID)]] | None = Field(default=None, max_length=500)


class MarkedRead(BaseModel):
    changed: int
    unread: int


class FollowState(BaseModel):
    following: bool
    followers: list[str]


class MentionableAgent(BaseModel):
    id: int
    name: str
    email: str
    #: What to write after ``@`` in a note to mention this agent.
    handle: str


def _out(shown: notifications.Shown) -> NotificationRead:
    n = shown.notification
    return NotificationRead(
        id=n.id or 0,
        kind=str(n.kind),
        text=shown.text,
        ticket_id=n.ticket_id,
        ticket_number=shown.ticket.number if shown.ticket else None,
        message_id=n.message_id,
        actor=shown.actor.email if shown.actor else None,
        created_at=n.created_at,
        read_at=n.read_at,
        url=shown.url,
    )


@router.get("/notifications", response_model=NotificationPage)
def api_notifications(
    session: SessionDep,
    agent: CurrentAgent,
    unread: bool = False,
    before: Annotated[Id | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    """The agent's notifications, newest first (``unread=true``: only unread ones)."""
    items = notifications.list_for(
        session, agent, unread_only=unread, before=before, limit=limit + 1
    )
    more = len(items) > limit
    items = items[:limit]
    return NotificationPage(
        items=[_out(s) for s in items],
        unread=notifications.unread_count(session, agent),
        next_before=items[-1].notification.id if more and items else None,
    )


@router.post("/notifications/read", response_model=MarkedRead)
def api_mark_read(body: MarkRead, session: SessionDep, agent: CurrentAgent) -> MarkedRead:
    """Mark notifications read; ids of other agents' notifications change nothing."""
    changed = notifications.mark_read(session, agent=agent, ids=body.ids)
    return MarkedRead(changed=changed, unread=notifications.unread_count(session, agent))


@router.post("/notifications/{notification_id}/read", response_model=NotificationRead)
def api_mark_one_read(
    notification_id: Id, session: SessionDep, agent: CurrentAgent
) -> NotificationRead:
    """Mark one notification read (opening it in the app does the same)."""
    return _out(notifications.open_one(session, agent=agent, notification_id=notification_id))


def _follow_state(session: SessionDep, ticket_id: int, agent: Agent) -> FollowState:
    return FollowState(
        following=notifications.is_following(session, ticket_id=ticket_id, agent=agent),
        followers=[a.email for a in notifications.followers(session, ticket_id)],
    )


@router.get("/tickets/{ticket_id}/followers", response_model=FollowState)
def api_followers(ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> FollowState:
    """Who follows the ticket, and whether the caller does."""
    ticket_service.get_ticket(session, ticket_id)
    return _follow_state(session, ticket_id, agent)


@router.put("/tickets/{ticket_id}/follow", response_model=FollowState)
def api_follow(ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> FollowState:
    """Follow the ticket (again is fine)."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    notifications.follow(session, ticket=ticket, agent=agent)
    return _follow_state(session, ticket_id, agent)


@router.delete("/tickets/{ticket_id}/follow", response_model=FollowState)
def api_unfollow(ticket_id: Id, session: SessionDep, agent: CurrentAgent) -> FollowState:
    """Stop following the ticket."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    notifications.unfollow(session, ticket=ticket, agent=agent)
    return _follow_state(session, ticket_id, agent)


@router.get("/agents/mentionable", response_model=list[MentionableAgent])
def api_mentionable(
    session: SessionDep, agent: CurrentAgent, q: Search = ""
) -> list[MentionableAgent]:
    """Active agents whose name or address starts with ``q``, with the handle to write."""
    found = mentions.mentionable(session, q)
    handles = mentions.handles_for(session, found)
    return [
        MentionableAgent(id=a.id or 0, name=a.name, email=a.email, handle=handles[a.id or 0])
        for a in found
    ]
