"""Errors services raise; the web layer turns them into clear pages and JSON answers."""

from __future__ import annotations

from collections.abc import Mapping

from helpdesk.i18n import N_, gettext


class ServiceError(Exception):
    """A request that cannot be done as asked; ``message`` is safe to show to the agent.

    ``message`` is a catalog id (marked with ``N_``) with ``%(name)s`` placeholders filled
    from ``params`` after translation (:meth:`text`); ``field`` names the form field it is
    about, so a form can show the error beside it."""

    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        field: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.code = code
        self.field = field
        self.params = dict(params or {})

    def text(self) -> str:
        """The message in the current language, its placeholders filled."""
        translated = gettext(self.message)
        return translated % self.params if self.params else translated


class NotFound(ServiceError):
    status_code = 404

    def __init__(
        self,
        message: str = N_("Not found"),
        *,
        field: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, code="not_found", field=field, params=params)


class Conflict(ServiceError):
    status_code = 409

    def __init__(self, message: str, *, code: str = "conflict") -> None:
        super().__init__(message, code=code)


class PermissionDenied(ServiceError):
    status_code = 403

    def __init__(self, message: str = N_("Permission denied")) -> None:
        super().__init__(message, code="forbidden")
