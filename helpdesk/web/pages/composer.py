"""Answering from the ticket: the composer, undo and retry, saved replies, who else is here.

The draft is kept in the browser (``localStorage``, keyed by the ticket id, see
``static/app.js``) and cleared when the reply is sent; nothing is stored on the server
until the agent presses Send.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from helpdesk.models import Agent, Mailbox, Message, PresenceState, utcnow
from helpdesk.services import presence, replies, saved_replies
from helpdesk.services import tickets as ticket_service
from helpdesk.services.errors import ServiceError
from helpdesk.values import Id, Key, Line, Text
from helpdesk.web.deps import CurrentAgent, SessionDep
from helpdesk.web.forms import Checkbox, OptionalId, read_attachments
from helpdesk.web.pages.ticket_view import ticket_context
from helpdesk.web.templating import render

router = APIRouter()


class ReplyForm(BaseModel):
    """The composer under the thread.

    ``last_message_id`` is the newest message the agent saw (the traffic cop), ``token``
    makes a double click send once.
    """

    body: Text = ""
    to: Line = ""
    cc: Line = ""
    bcc: Line = ""
    files: list[UploadFile] = Field(default_factory=list)
    last_message_id: Id | None = None
    confirm: Checkbox = False
    include_quote: Checkbox = False
    saved_reply_id: OptionalId = None
    token: Key = ""


class SavedReplyPick(BaseModel):
    """The saved-reply menu: the reply chosen and the text typed so far."""

    saved_reply_id: OptionalId = None
    body: Text = ""


class PresenceForm(BaseModel):
    """The presence poll: ``composing`` while the agent types, else ``viewing``."""

    state: Line = "viewing"


def _thread(request: Request, session: Session, ticket_id: int, agent: Agent) -> Response:
    context = ticket_context(request, session, ticket_id, agent)
    return render(request, "ticket.html", context, block="thread")


@router.post("/tickets/{ticket_id}/replies", include_in_schema=False)
async def send_reply(
    request: Request,
    ticket_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[ReplyForm, Form()],
) -> Response:
    """Send (queue) a reply; a stale view gets the traffic-cop warning instead."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    try:
        attachments = await read_attachments(form.files)
        replies.reply(
            session,
            ticket=ticket,
            agent=agent,
            body=form.body,
            to=form.to or None,
            cc=form.cc,
            bcc=form.bcc,
            attachments=attachments,
            include_quote=form.include_quote,
            saved_reply_id=form.saved_reply_id,
            expected_last_message_id=form.last_message_id,
            confirm=form.confirm,
            idempotency_key=f"web:{ticket_id}:{form.token}" if form.token else None,
        )
    except replies.NewerMessageExists as exc:
        if not request.headers.get("hx-request"):
            raise
        return render(
            request,
            "_composer_warning.html",
            {"newest": exc.newest, "ticket": ticket},
            headers={"HX-Retarget": "#composer-warning", "HX-Reswap": "innerHTML"},
        )
    except ServiceError as exc:
        if not request.headers.get("hx-request"):
            raise
        # Where the agent is looking: above Send and beside the field, not in the page's
        # flash area a long thread away.
        return render(
            request,
            "_composer_errors.html",
            {"message": exc.text(), "field": exc.field},
            status_code=exc.status_code,
            headers={"HX-Retarget": "#composer-error", "HX-Reswap": "innerHTML"},
        )
    presence.touch(session, ticket_id=ticket_id, agent=agent, state=PresenceState.viewing)
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)
    response = _thread(request, session, ticket_id, agent)
    response.headers["HX-Trigger"] = json.dumps({"reply-sent": {"ticket": ticket_id}})
    return response


def _delivery(request: Request, session: Session, outbound_id: int) -> Response:
    row = replies.get_outbound(session, outbound_id)
    message = session.get(Message, row.message_row_id) if row.message_row_id else None
    if message is None:
        raise ServiceError("The queued mail has no message")
    return render(request, "_delivery.html", {"m": message, "ob": row, "now": utcnow()})


@router.get("/outbox/{outbound_id}/status", include_in_schema=False)
def delivery_status(
    request: Request, outbound_id: Id, session: SessionDep, agent: CurrentAgent
) -> Response:
    """The delivery state of one message (polled while it is on its way)."""
    return _delivery(request, session, outbound_id)


@router.post("/outbox/{outbound_id}/cancel", include_in_schema=False)
def cancel_send(
    request: Request, outbound_id: Id, session: SessionDep, agent: CurrentAgent
) -> Response:
    """Undo send; the text goes back into the composer (HX-Trigger ``reply-undone``)."""
    row = replies.get_outbound(session, outbound_id)
    replies.cancel(session, outbound=row, agent=agent)
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/tickets/{row.ticket_id}", status_code=303)
    response = _delivery(request, session, outbound_id)
    message = session.get(Message, row.message_row_id) if row.message_row_id else None
    text = (message.text or "") if message else ""
    mailbox = session.get(Mailbox, row.mailbox_id)
    if mailbox is not None:  # the writer's words go back, without what sending adds again
        author = session.get(Agent, message.author_id) if message and message.author_id else agent
        text = replies.unsigned(text, author, mailbox)
    event = {"ticket": row.ticket_id, "text": text}
    response.headers["HX-Trigger"] = json.dumps({"reply-undone": event})
    return response


@router.post("/outbox/{outbound_id}/retry", include_in_schema=False)
def retry_send(
    request: Request, outbound_id: Id, session: SessionDep, agent: CurrentAgent
) -> Response:
    """Send a failed mail again."""
    row = replies.get_outbound(session, outbound_id)
    replies.retry(session, outbound=row, agent=agent)
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/tickets/{row.ticket_id}", status_code=303)
    return _delivery(request, session, outbound_id)


@router.post("/tickets/{ticket_id}/saved-reply", include_in_schema=False)
def insert_saved_reply(
    request: Request,
    ticket_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[SavedReplyPick, Form()],
) -> Response:
    """The body textarea with the chosen saved reply filled in and added to the text."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    body = text = form.body
    if form.saved_reply_id is not None:
        template = saved_replies.get_reply(session, form.saved_reply_id)
        filled = saved_replies.render(template.body, ticket=ticket, agent=agent)
        text = f"{body.rstrip()}\n\n{filled}" if body.strip() else filled
    return render(request, "_composer_body.html", {"ticket": ticket, "body": text})


@router.post("/tickets/{ticket_id}/presence", include_in_schema=False)
def ticket_presence(
    request: Request,
    ticket_id: Id,
    session: SessionDep,
    agent: CurrentAgent,
    form: Annotated[PresenceForm, Form()],
) -> Response:
    """Note that this agent is here (polled every ~15 s); answer who else is."""
    mode = PresenceState.composing if form.state == "composing" else PresenceState.viewing
    presence.touch(session, ticket_id=ticket_id, agent=agent, state=mode)
    others = presence.others(session, ticket_id=ticket_id, agent=agent)
    return render(request, "_presence.html", {"others": others})
