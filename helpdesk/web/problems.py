"""The JSON API's error answers, documented once for every route (core and plugin).

Every error the API gives has the same shape, ``{"detail": ..., "code": ...}``, and a 422
adds ``errors``, one per field (see the handlers in ``helpdesk.web.app``). ``API_ERRORS``
puts these shapes into the OpenAPI document for each status an API route may answer, and
replaces FastAPI's default 422 shape, which the app never sends. Routers under ``/api/v1``
take it as ``APIRouter(..., responses=API_ERRORS)``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """An error: ``detail`` is for people (in the agent's language), ``code`` for scripts."""

    detail: str
    code: str


class FieldError(BaseModel):
    """One field that could not be read: its dotted name and what is wrong with it."""

    field: str
    message: str


class ValidationProblem(Problem):
    """422: the request's fields that could not be read (``code`` is ``invalid``)."""

    errors: list[FieldError]


def _problem(description: str, model: type[BaseModel] = Problem) -> dict[str, Any]:
    return {"model": model, "description": description}


#: The error answers of every API route, by status.
API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("The request cannot be done as asked (code ``invalid``)"),
    401: _problem("No valid session or bearer token (code ``unauthenticated``)"),
    403: _problem("Not allowed, or a session request without its CSRF token"),
    404: _problem("No such object; also an id that is no number or out of range"),
    409: _problem("The object's state does not allow it now (undo too late, a newer message)"),
    422: _problem("Fields that could not be read, one entry each", ValidationProblem),
}
