"""Netvisor's unsent invoices into the queue (Lähettämättömät laskut).

``unsent`` reads everything from Netvisor first, then writes in one unit of work: new
invoices get their deadline, changed ones a line in their history, every one its checks
again, and invoices that left Netvisor's unsent list leave the queue (or, while a dispatch
runs, are handed to it). ``mapping`` turns Netvisor's answers into our columns; the checks
run on our rows as the dispatch's gate runs them (``dispatch.gate.checks_for``).

May import: the netvisor client, the rules, the models, the settings, the dispatch's
``on_left_unsent`` and ``gate`` and the core (models, db); never the web or the sandboxes.
"""

from plugins.invoices.sync.unsent import (
    SYNC_NAME,
    Refetched,
    SyncResult,
    fetch_invoice,
    last_state,
    refresh_invoice,
    run_sync,
    sync_unsent,
)

__all__ = [
    "SYNC_NAME",
    "Refetched",
    "SyncResult",
    "fetch_invoice",
    "last_state",
    "refresh_invoice",
    "run_sync",
    "sync_unsent",
]
