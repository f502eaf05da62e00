"""Server-rendered pages. Each module is one area of the UI."""

from fastapi import APIRouter

from helpdesk.web.pages import admin, attachments, auth, inbox, ticket

router = APIRouter()
for module in (auth, inbox, ticket, attachments, admin):
    router.include_router(module.router)
