"""Server-rendered pages. Each module is one area of the UI."""

from fastapi import APIRouter

from helpdesk.web.pages import (
    admin,
    attachments,
    auth,
    bulk,
    calls,
    composer,
    conversations,
    dashboard,
    inbox,
    links,
    mailbox_oauth,
    merge,
    notifications,
    profile,
    reports,
    ticket,
    triage,
    users,
    views,
)

router = APIRouter()
# conversations first: its /tickets/new must not be read as /tickets/{ticket_id}.
for module in (
    conversations,
    composer,
    auth,
    inbox,
    bulk,
    views,
    ticket,
    merge,
    triage,
    attachments,
    admin,
    mailbox_oauth,
    users,
    calls,
    dashboard,
    links,
    notifications,
    profile,
    reports,
):
    router.include_router(module.router)
