"""What the plugin shows inside the core's pages: ticket sidebar, user page, alert, reports.

The hooks (``hooks.py``) call these; each renders a partial with the invoice templates.
"""

from __future__ import annotations

from fastapi import Request
from markupsafe import Markup

from helpdesk.plugin_api import (
    Agent,
    EtunnusUser,
    HistoryItem,
    ReportPeriod,
    SessionDep,
    Ticket,
    render_partial,
    report_query,
    utcnow,
)
from plugins.invoices import queue as queries
from plugins.invoices.reports import promise_report
from plugins.invoices.web import notice
from plugins.invoices.web.actions import actions_panel
from plugins.invoices.web.display import STATUS_LABELS, page_context
from plugins.invoices.web.reports import chart_spec


def user_section(request: Request, session: SessionDep, user: EtunnusUser, agent: Agent) -> Markup:
    """The user page's invoice section."""
    invoices = queries.invoices_of_user(session, user.etunnus, user.id)
    return render_partial(
        request,
        "invoices/_user_invoices.html",
        page_context(invoices=invoices, user=user, now=utcnow()),
    )


def history_items(session: SessionDep, user: EtunnusUser, limit: int) -> list[HistoryItem]:
    """The user's latest invoices for the ticket sidebar's customer history (one query)."""
    return [
        HistoryItem(
            label=inv.number,
            url=f"/invoices/{inv.id}",
            at=inv.invoice_date,
            status=STATUS_LABELS.get(inv.status, str(inv.status)),
            amount=f"{inv.gross_sum:.2f} {inv.currency}".replace(".", ","),
        )
        for inv in queries.invoices_of_user(session, user.etunnus, user.id, limit=limit)
    ]


def ticket_section(
    request: Request, session: SessionDep, ticket: Ticket, agent: Agent
) -> Markup | None:
    """The ticket sidebar's linked invoices, or None when there are none."""
    invoices = queries.linked_to_ticket(session, ticket.id or 0)
    if not invoices:
        return None
    panels = {
        inv.id: actions_panel(request, session, inv, compact=True, in_ticket=True)
        for inv in invoices
    }
    return render_partial(
        request,
        "invoices/_ticket_invoices.html",
        page_context(invoices=invoices, now=utcnow(), panels=panels),
    )


def alert_notice(request: Request, agent: Agent) -> Markup:
    """The small alert on every page, only inside the window before the cutoff (its empty
    container otherwise, for the out-of-band updates of ``notice``)."""
    return notice.page_alert(request)


def report_section(
    request: Request, session: SessionDep, period: ReportPeriod, agent: Agent
) -> Markup:
    """The Reports page's section: chart, table, CSV and JSON links."""
    report = promise_report(session, period, utcnow())
    return render_partial(
        request,
        "invoices/_report_same_day.html",
        {"report": report, "chart_spec": chart_spec(report), "query": report_query(period)},
    )
