"""The plugin contract: documented hooks, the invoice plugin loaded by entry point."""

from __future__ import annotations

import inspect
from importlib.metadata import entry_points
from pathlib import Path

from jinja2 import ChoiceLoader

from helpdesk import hookspecs
from helpdesk.plugins import ENTRY_POINT_GROUP, get_plugin_manager
from helpdesk.web.templating import CORE_TEMPLATES, environment

REQUIRED_HOOKS = {
    "helpdesk_routers",
    "helpdesk_template_dirs",
    "helpdesk_static_dirs",
    "helpdesk_navigation",
    "helpdesk_ticket_sidebar",
    "helpdesk_user_page",
    "helpdesk_link_text",
    "helpdesk_scheduled_jobs",
    "helpdesk_alembic_version_locations",
    # Issue 13: what the invoice plugin used to reach into the core for.
    "helpdesk_dev_services",
    "helpdesk_translation_dirs",
    "helpdesk_page_notices",
    "helpdesk_model_modules",
}


def _hookspecs() -> dict[str, object]:
    return {
        name: fn
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("helpdesk_")
    }


def test_every_hook_the_issue_names_exists():
    assert set(_hookspecs()) >= REQUIRED_HOOKS


def test_every_hookspec_is_documented():
    undocumented = [name for name, fn in _hookspecs().items() if len(inspect.getdoc(fn) or "") < 20]
    assert undocumented == [], f"hooks without a docstring: {undocumented}"


def test_every_hookspec_is_registered_with_the_manager():
    pm = get_plugin_manager()
    for name in _hookspecs():
        assert getattr(pm.hook, name).spec is not None, name


def test_hook_implementations_match_their_specs():
    # pluggy refuses an implementation whose arguments the spec does not have; checking
    # explicitly names the offender instead of failing at first call.
    pm = get_plugin_manager()
    specs = _hookspecs()
    for _name, plugin in pm.list_name_plugin():
        for attr, impl in inspect.getmembers(plugin, inspect.isfunction):
            if attr in specs:
                spec_args = set(inspect.signature(specs[attr]).parameters)
                assert set(inspect.signature(impl).parameters) <= spec_args, attr


def test_invoices_plugin_is_loaded_through_the_entry_point():
    [ep] = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == "invoices"]
    assert ep.value == "plugins.invoices.hooks"
    pm = get_plugin_manager()
    assert pm.get_plugin("invoices") is ep.load()


def test_plugin_template_dirs_come_before_the_core():
    loader = environment().loader
    assert isinstance(loader, ChoiceLoader)
    searched = [Path(p) for sub in loader.loaders for p in sub.searchpath]  # type: ignore[attr-defined]
    assert searched[-1] == CORE_TEMPLATES
    # Asked of the plugin itself, so that this test does not depend on its layout.
    invoices = get_plugin_manager().get_plugin("invoices").helpdesk_template_dirs()[0]
    assert invoices in searched
    assert searched.index(invoices) < searched.index(CORE_TEMPLATES)


def test_plugin_alembic_branch_is_in_the_version_locations():
    from helpdesk.migrate import alembic_config

    locations = alembic_config().get_main_option("version_locations").split()
    assert locations[0].endswith("migrations/versions")
    assert any("plugins/invoices" in loc for loc in locations)


def test_plugin_tables_reach_alembic_through_the_hook():
    from sqlmodel import SQLModel

    from helpdesk.migrate import import_plugin_models

    modules = import_plugin_models()
    assert "plugins.invoices.models" in [m.__name__ for m in modules]
    assert "invoice" in SQLModel.metadata.tables
