"""Typed errors of the Maventa AutoXChange client."""

from __future__ import annotations

from collections.abc import Sequence


class MaventaError(Exception):
    """A Maventa call failed: an HTTP error answer, or no answer at all (status None)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = tuple(details)

    def __str__(self) -> str:
        prefix = f"Maventa {self.status}" if self.status is not None else "Maventa"
        suffix = f" ({'; '.join(self.details)})" if self.details else ""
        return f"{prefix}: {self.message}{suffix}"


class MaventaAuthError(MaventaError):
    """The token endpoint refused the credentials, or a token was not accepted."""


class MaventaNotFoundError(MaventaError):
    """The invoice (or other resource) does not exist for this company."""


class MaventaUnavailableError(MaventaError):
    """Maventa could not be reached, timed out or answered with a server error (5xx)."""
