"""The OpenAPI schema and its Swagger UI page, behind the login like every other page.

FastAPI's stock docs page loads Swagger UI from a CDN and starts it with an inline script,
which the site-wide CSP forbids; this page gets its own CSP that allows exactly that CDN and
the hash of that one script.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from helpdesk.web.deps import CurrentAgent

OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/docs"
SWAGGER_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def _docs_policy(html: str) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src {SWAGGER_CDN} {hashes}; style-src {SWAGGER_CDN}; "
        "img-src 'self' data: https:; object-src 'none'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    )


def docs_router(app: FastAPI) -> APIRouter:
    """Routes serving ``app``'s OpenAPI schema and docs page to logged-in agents."""
    router = APIRouter()

    @router.get(OPENAPI_URL, include_in_schema=False)
    def openapi_schema(agent: CurrentAgent) -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get(DOCS_URL, include_in_schema=False)
    def api_docs(agent: CurrentAgent) -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{app.title} API")
        html = bytes(page.body).decode()
        page.headers["Content-Security-Policy"] = _docs_policy(html)
        return page

    return router
