"""The app's routes, enumerated for web tests so that every new route is covered."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from helpdesk.web.app import create_app

#: Routes anyone may reach without logging in.
PUBLIC_PATHS = frozenset({"/login", "/healthz"})
#: FastAPI's own documentation pages (the OpenAPI schema itself needs a login, see below).
DOC_PATHS = frozenset({"/api/docs", "/docs/oauth2-redirect"})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PARAM = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str

    @property
    def url(self) -> str:
        """The path with every parameter filled in (an id that need not exist)."""
        return _PARAM.sub("1", self.path)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def all_routes() -> list[RouteCase]:
    """Every method and path the app (core and plugins) answers, static mounts excepted."""
    cases: set[RouteCase] = set()
    for ctx in iter_route_contexts(create_app().routes):
        if isinstance(ctx.route, Mount) or not ctx.path:
            continue
        for method in ctx.methods or ():
            if method != "HEAD":
                cases.add(RouteCase(method, ctx.path))
    return sorted(cases, key=lambda c: (c.path, c.method))


def protected_routes() -> list[RouteCase]:
    return [r for r in all_routes() if r.path not in PUBLIC_PATHS | DOC_PATHS]


def unsafe_routes() -> list[RouteCase]:
    return [r for r in all_routes() if r.method in UNSAFE]


def route_params(cases: list[RouteCase]) -> list[object]:
    return [pytest.param(c, id=str(c)) for c in cases]
