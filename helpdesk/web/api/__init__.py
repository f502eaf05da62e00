"""The JSON API under /api/v1 (session or bearer token)."""

from fastapi import APIRouter

from helpdesk.web.api import tickets

router = APIRouter(prefix="/api/v1")
router.include_router(tickets.router)
