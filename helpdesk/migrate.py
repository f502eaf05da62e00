"""Running Alembic from code: the core's revisions plus each plugin's own branch."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from alembic import command
from alembic.config import Config

from helpdesk.plugins import collect, get_plugin_manager

ROOT = Path(__file__).resolve().parent.parent


def import_plugin_models() -> list[ModuleType]:
    """Have each plugin import its table modules, so that its tables join the metadata."""
    return collect(get_plugin_manager().hook.helpdesk_model_modules())


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic config with the core's and every plugin's version folders."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    locations = [str(ROOT / "migrations" / "versions")]
    locations += collect(get_plugin_manager().hook.helpdesk_alembic_version_locations())
    cfg.set_main_option("version_locations", " ".join(dict.fromkeys(locations)))
    if database_url:
        cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str | None = None) -> None:
    """Bring the database to the newest revision of every branch."""
    command.upgrade(alembic_config(database_url), "heads")


def check(database_url: str | None = None) -> None:
    """Raise if the models and the migrated database differ (``alembic check``)."""
    command.check(alembic_config(database_url))
