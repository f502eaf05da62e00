"""Server-rendered pages. Each module is one area of the UI."""

from fastapi import APIRouter

from helpdesk.web.pages import (
    admin,
    attachments,
    auth,
    calls,
    composer,
    conversations,
    dashboard,
    inbox,
    links,
    mailbox_oauth,
    profile,
    reports,
    ticket,
    users,
)

router = APIRouter()
# conversations first: its /tickets/new must not be read as /tickets/{ticket_id}.
for module in (
    conversations,
    composer,
    auth,
    inbox,
    ticket,
    attachments,
    admin,
    mailbox_oauth,
    users,
    calls,
    dashboard,
    links,
    profile,
    reports,
):
    router.include_router(module.router)
