"""Errors services raise; the web layer turns them into clear pages and JSON answers."""

from __future__ import annotations

from helpdesk.i18n import N_


class ServiceError(Exception):
    """A request that cannot be done as asked; ``message`` is safe to show to the agent."""

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NotFound(ServiceError):
    status_code = 404

    def __init__(self, message: str = N_("Not found")) -> None:
        super().__init__(message, code="not_found")


class Conflict(ServiceError):
    status_code = 409

    def __init__(self, message: str, *, code: str = "conflict") -> None:
        super().__init__(message, code=code)


class PermissionDenied(ServiceError):
    status_code = 403

    def __init__(self, message: str = N_("Permission denied")) -> None:
        super().__init__(message, code="forbidden")
