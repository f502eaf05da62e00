"""The plugin manager: loads plugins from the ``helpdesk.plugins`` entry point group.

The core never imports a plugin by name: even the bundled invoice plugin comes in through
its entry point (``pyproject.toml``), which ``make install`` registers.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

import pluggy

from helpdesk import hookspecs, i18n
from helpdesk.settings import get_settings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "helpdesk.plugins"


def _load(pm: pluggy.PluginManager, name: str, module: Any) -> None:
    if pm.has_plugin(name) or pm.is_registered(module):
        return
    pm.register(module, name=name)
    log.debug("plugin %s loaded", name)


@lru_cache(maxsize=1)
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager with every enabled plugin registered.

    Loading the plugins is the start-up of every process (web, worker, command line), so
    their translation catalogs join the core's here.
    """
    pm = pluggy.PluginManager("helpdesk")
    pm.add_hookspecs(hookspecs)
    disabled = set(get_settings().plugins_disabled)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in disabled:
            _load(pm, ep.name, ep.load())
    i18n.add_catalog_dirs(collect(pm.hook.helpdesk_translation_dirs()))
    return pm


def hook() -> Any:
    """Shortcut for ``get_plugin_manager().hook``."""
    return get_plugin_manager().hook


def collect(results: list[list[Any] | None]) -> list[Any]:
    """Flatten list-returning hook results, skipping plugins that returned None."""
    return [item for result in results if result for item in result]


class SettingsRefused(RuntimeError):
    """A plugin's settings are not fit to start with (see ``helpdesk_settings_problems``)."""


def check_settings() -> None:
    """Refuse to start when a plugin names a problem in its settings (web, worker)."""
    problems = collect(hook().helpdesk_settings_problems())
    if problems:
        raise SettingsRefused(
            "the settings are refused:\n" + "\n".join(f"  - {p}" for p in problems)
        )
