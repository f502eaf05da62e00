"""The JSON API under /api/v1 (session or bearer token)."""

from fastapi import APIRouter

from helpdesk.web.api import (
    bulk,
    calls,
    merging,
    notifications,
    replies,
    reports,
    tags,
    tickets,
    triage,
    users,
    views,
)
from helpdesk.web.problems import API_ERRORS

router = APIRouter(prefix="/api/v1", responses=API_ERRORS)
router.include_router(bulk.router)  # before tickets: /tickets/bulk is no ticket id
router.include_router(tickets.router)
router.include_router(replies.router)
router.include_router(merging.router)
router.include_router(users.router)
router.include_router(calls.router)
router.include_router(reports.router)
router.include_router(tags.router)
router.include_router(views.router)
router.include_router(triage.router)
router.include_router(notifications.router)
