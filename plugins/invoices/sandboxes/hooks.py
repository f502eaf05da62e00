"""The sandboxes' hook implementations: a development plugin of their own.

Registered by its own entry point (``invoices-sandboxes`` in ``pyproject.toml``), so that
the invoice plugin's production code never imports the sandboxes. It adds the sandbox
commands, has ``helpdesk dev`` start them in development and seeds ``helpdesk demo`` from
them; a production installation may leave it out altogether
(``HELPDESK_PLUGINS_DISABLED=invoices-sandboxes``). As in the invoice plugin's
``hooks.py``, the core loads this module at the start of every ``helpdesk`` command: the
demo, which syncs through the whole plugin, is imported when ``helpdesk demo`` asks for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpdesk.plugin_api import DevService, hookimpl
from plugins.invoices.sandboxes import cli

if TYPE_CHECKING:
    import typer
    from sqlmodel import Session


@hookimpl
def helpdesk_cli(app: typer.Typer) -> None:
    cli.register(app)


@hookimpl
def helpdesk_dev_services() -> list[DevService]:
    return cli.dev_services()


@hookimpl
def helpdesk_demo_data(session: Session) -> None:
    from plugins.invoices.sandboxes.demo import seed  # on first use (above)

    seed(session)
