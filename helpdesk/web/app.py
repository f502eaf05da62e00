"""The FastAPI application: middleware (session cookie, CSRF, CSP, language, proxies), routes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from helpdesk import i18n, words
from helpdesk.i18n import N_
from helpdesk.plugins import check_settings, collect, hook
from helpdesk.services.errors import NotFound, ServiceError
from helpdesk.settings import get_settings
from helpdesk.web.api import router as api_router
from helpdesk.web.auth import (
    LANGUAGE_COOKIE,
    CsrfFailed,
    LoginRequired,
    api_language,
    check_csrf,
    reload_agent,
    write_session_cookie,
)
from helpdesk.web.docs import docs_router
from helpdesk.web.pages import router as pages_router
from helpdesk.web.templating import render

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent.parent

#: No inline script or style anywhere; remote images only after the agent asks for them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "object-src 'none'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)

#: The ``code`` of an API answer FastAPI or Starlette gives by itself, by status.
HTTP_CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/v1/")


def _back(request: Request) -> str | None:
    """Where an error page's Back leads: the page the agent came from, if it is one of
    ours (a path on this host), else nothing (the page still links to the inbox)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return None
    if not referer.path.startswith("/") or referer.path.startswith("//"):
        return None
    if referer.path == request.url.path and request.method == "GET":
        return None  # the failing page itself
    return referer.path + (f"?{referer.query}" if referer.query else "")


def create_app() -> FastAPI:
    """Build the app with the core's routes and every plugin's routers.

    Refuses (``SettingsRefused``, pydantic's ``ValidationError``) settings unfit for the
    environment, such as a sandbox or the development secret in production.
    """
    settings = get_settings()
    check_settings()
    # Voikko is loaded now, so that a missing one is said (once) when the app starts.
    words.lemmatiser()
    app = FastAPI(
        title="E-tunnus helpdesk",
        version="0.1.0",
        # Served by helpdesk.web.docs behind the login instead of FastAPI's public pages.
        docs_url=None,
        openapi_url=None,
        redoc_url=None,
        dependencies=[Depends(check_csrf), Depends(api_language)],
    )

    @app.middleware("http")
    async def language_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        lang = request.cookies.get(LANGUAGE_COOKIE)
        if lang not in i18n.LANGUAGES:
            # Scripts without a browser session get English; api_language then picks
            # the language of the agent behind a bearer token.
            lang = "en" if _is_api(request) else settings.default_language
        token = i18n.current_language.set(lang)
        try:
            response = await call_next(request)
        finally:
            i18n.current_language.reset(token)
        write_session_cookie(request, response)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    if settings.trusted_proxies:
        # The outermost layer: the client's address (login throttle, audit) and scheme
        # come from X-Forwarded-For / -Proto only when the peer is a proxy named in
        # HELPDESK_TRUSTED_PROXIES; uvicorn's own proxy handling is off (cli serve, dev).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": "Authentication required", "code": "unauthenticated"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = "/login?next=" + quote(
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, _exc: CsrfFailed) -> Response:
        message = i18n.gettext("The form has expired. Reload the page and try again.")
        if _is_api(request):
            return JSONResponse({"detail": message, "code": "csrf"}, status_code=403)
        if request.headers.get("hx-request"):
            return render(
                request,
                "_flash.html",
                {"error": message},
                status_code=403,
                headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
            )
        context = {"message": message, "back": _back(request)}
        return render(request, "error.html", context, status_code=403)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        message = exc.text()
        if _is_api(request):
            return JSONResponse({"detail": message, "code": exc.code}, status_code=exc.status_code)
        # The error may have rolled a unit of work back, expiring the agent the page shows.
        await run_in_threadpool(reload_agent, request)
        if request.headers.get("hx-request"):
            return render(
                request,
                "_flash.html",
                {"error": message},
                status_code=exc.status_code,
                headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
            )
        context = {"message": message, "back": _back(request)}
        return render(request, "error.html", context, status_code=exc.status_code)

    @app.exception_handler(DataError)
    async def value_out_of_range(request: Request, exc: DataError) -> Response:
        # The last line of defence behind the input types of helpdesk.values: a value the
        # database refuses (longer than its column, out of a number's range) is the
        # request's fault, not a server error. The unit of work has rolled back.
        log.warning(
            "refused by the database: %s %s: %s", request.method, request.url.path, exc.orig
        )
        return await service_error(
            request, ServiceError(N_("A value is too long or out of range"), code="invalid")
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI's and Starlette's own refusals (a body that is no JSON, a path no route
        # has, a method a route lacks): in the API, the documented problem shape.
        if not _is_api(request):
            return await http_exception_handler(request, exc)
        return JSONResponse(
            {"detail": str(exc.detail), "code": HTTP_CODES.get(exc.status_code, "error")},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if any(err.get("loc", ("",))[0] == "path" for err in exc.errors()):
            # A path id that is no number, or outside the ids a row can have (values.Id),
            # names nothing: not found, as an id that is free.
            return await service_error(request, NotFound())
        errors = [
            {"field": ".".join(str(p) for p in err.get("loc", ())[1:]), "message": err.get("msg")}
            for err in exc.errors()
        ]
        if not _is_api(request):
            # A page form with a missing or malformed field: a page (or flash), not JSON.
            return await service_error(
                request, ServiceError(N_("Some fields are missing or invalid"))
            )
        return JSONResponse(
            {"detail": "Invalid request", "code": "invalid", "errors": errors}, status_code=422
        )

    app.include_router(pages_router)
    app.include_router(api_router)
    app.include_router(docs_router(app))
    for router in collect(hook().helpdesk_routers()):
        app.include_router(router)

    for name, folder in collect(hook().helpdesk_static_dirs()):
        if Path(folder).is_dir():
            app.mount(
                f"/static/plugins/{name}", StaticFiles(directory=folder), name=f"static-{name}"
            )
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
