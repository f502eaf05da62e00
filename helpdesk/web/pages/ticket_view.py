"""What the ticket page shows: the thread, the sidebar slots and the composer's state.

The ticket routes and the composer's routes (which answer with the refreshed thread) both
render from here, so neither imports the other.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from markupsafe import Markup
from sqlmodel import Session

from helpdesk.mail import compose
from helpdesk.models import Agent, EtunnusUser, Mailbox, Message, MessageKind, Ticket, utcnow
from helpdesk.plugins import hook
from helpdesk.services import agents as agent_service
from helpdesk.services import calls as call_service
from helpdesk.services import linking, presence, replies, saved_replies, tags
from helpdesk.services import tickets as ticket_service
from helpdesk.settings import get_settings
from helpdesk.web.display import show
from helpdesk.web.pages.merge_view import merge_context


def ticket_context(
    request: Request, session: Session, ticket_id: int, agent: Agent
) -> dict[str, object]:
    """Everything ``ticket.html`` shows of one ticket to ``agent`` (full page or a block)."""
    ticket = ticket_service.get_ticket(session, ticket_id)
    messages = ticket_service.thread(session, ticket)
    files = ticket_service.attachments_by_message(session, messages)
    slots = [
        slot
        for slot in hook().helpdesk_ticket_sidebar(
            request=request, session=session, ticket=ticket, agent=agent
        )
        if slot
    ]
    context = {
        "ticket": ticket,
        "thread": [show(m, files.get(m.id or 0, [])) for m in messages],
        "mailbox": session.get(Mailbox, ticket.mailbox_id) if ticket.mailbox_id else None,
        "user": session.get(EtunnusUser, ticket.user_id) if ticket.user_id else None,
        "assignee": session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None,
        "agents": agent_service.list_agents(session, active_only=True),
        "authors": {a.id: a for a in agent_service.list_agents(session)},
        "sidebar_slots": [Markup(s) for s in slots],  # noqa: S704 (plugins render escaped templates)
        "links": linking.panel(session, ticket),
        "calls": call_service.calls_by_message(session, messages),
        "ticket_tags": tags.tags_by_ticket(session, [ticket.id])[ticket.id or 0],
        "all_tags": tags.list_tags(session),
    } | reply_context(session, ticket, agent, messages)
    return context | merge_context(session, ticket, messages)


def reply_context(
    session: Session, ticket: Ticket, agent: Agent, messages: list[Message]
) -> dict[str, Any]:
    """What the thread's delivery states and the composer need (merged into the ticket page)."""
    outbound = replies.for_messages(session, [m.id for m in messages if m.id is not None])
    incoming = [m for m in messages if m.kind == MessageKind.incoming]
    newest = replies.latest_human_message(session, ticket)
    mailbox = session.get(Mailbox, ticket.mailbox_id) if ticket.mailbox_id else None
    return {
        "outbound": outbound,
        "now": utcnow(),
        "composer": {
            "to": ticket.customer_email or "",
            "subject": compose.reply_subject(ticket.subject, ticket.number),
            "from_label": mailbox.label if mailbox else "",
            "can_reply": mailbox is not None,
            "signature": replies.signed("", agent, mailbox).strip() if mailbox else "",
            "quote": incoming[-1] if incoming else None,
            "saved": saved_replies.list_replies(session),
            "last_message_id": newest.id if newest and newest.id else 0,
            "token": uuid.uuid4().hex,
            "max_mb": get_settings().max_attachment_bytes / 1048576,
        },
        "others": presence.others(session, ticket_id=ticket.id or 0, agent=agent),
    }
