"""What every long-running command checks first: settings fit for the environment."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from helpdesk.plugins import SettingsRefused, check_settings
from helpdesk.settings import Settings, get_settings, refusal_text


def _refuse(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise SystemExit(2)


def settings_or_exit() -> Settings:
    """The settings, or exit 2 with the reasons (never the values) they were refused."""
    try:
        return get_settings()
    except ValidationError as exc:
        _refuse(refusal_text(exc))
        raise  # not reached: _refuse exits


def refuse_unfit_settings() -> None:
    """Exit 2 when a plugin's settings are unfit to start with (a sandbox in production)."""
    try:
        check_settings()
    except SettingsRefused as exc:
        _refuse(str(exc))


def require_development(command: str) -> None:
    """Exit 2 unless HELPDESK_ENVIRONMENT is development (demo data, sandboxes)."""
    environment = settings_or_exit().environment
    if environment != "development":
        _refuse(
            f"helpdesk {command} is for development and HELPDESK_ENVIRONMENT is {environment}; "
            "set HELPDESK_ENVIRONMENT=development to run the demo (make run does)"
        )
