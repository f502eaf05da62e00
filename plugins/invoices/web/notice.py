"""The "invoices due today still unsent" notice at the top of every page.

Its container is always there (empty outside the window before the cutoff), so an action
that changes the count (a dispatch from the queue or a ticket's sidebar) sends the fresh
notice along out of band and no page shows a stale number until it is reloaded.
"""

from __future__ import annotations

from fastapi import Request
from markupsafe import Markup

from helpdesk.plugin_api import new_session, render_partial, utcnow
from plugins.invoices import queue as queries
from plugins.invoices.web.display import page_context


def page_alert(request: Request, *, oob: bool = False) -> Markup:
    """The notice's container with the count now; ``oob`` marks it for an htmx swap."""
    session = new_session(read_only=True)
    try:
        count = queries.alert_count(session, utcnow())
    finally:
        session.close()
    context = page_context(alert=count, compact=True, oob=oob)
    return render_partial(request, "invoices/_page_alert.html", context)
