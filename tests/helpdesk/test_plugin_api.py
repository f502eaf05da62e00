"""helpdesk.plugin_api, the one module of the core a plugin imports, offers what hooks need."""

from __future__ import annotations

import dataclasses
import inspect

from helpdesk import hookspecs, plugin_api


def test_every_exported_name_is_there():
    missing = [name for name in plugin_api.__all__ if not hasattr(plugin_api, name)]
    assert missing == []
    assert len(plugin_api.__all__) == len(set(plugin_api.__all__))


def test_the_values_hooks_return_are_exported():
    # A plugin builds these to answer the core's hooks, so a new one must be exported too.
    values = {
        name
        for name, obj in inspect.getmembers(hookspecs, inspect.isclass)
        if dataclasses.is_dataclass(obj) and obj.__module__ == hookspecs.__name__
    }
    assert values <= set(plugin_api.__all__)
    assert "hookimpl" in plugin_api.__all__
