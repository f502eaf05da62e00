"""Sending an invoice on, exactly once, and the user told that it went.

A dispatch is a persisted state machine (``models.dispatch.Dispatch``); the worker moves
it one step at a time (``runner`` claims due dispatches, ``steps`` holds one function per
step), every step recorded before and after, so a worker killed between any two steps
resumes where it stopped and never sends twice:

- email: the PDF (fetched once from Netvisor, kept in the blob store) is queued in the
  outbox with the idempotency key ``invoice-dispatch-<id>`` in the same commit that moves
  the dispatch to ``sending``; the outbox sends it exactly once; then finalise.
- post, ``netvisor`` mode: the agent sends it with Netvisor's print service (deep link)
  and confirms here, or the next sync sees it leave ``unsent``; then finalise.
- post, ``maventa`` mode, and e-invoice with Maventa: the Finvoice XML (for print in a ZIP
  with Netvisor's PDF) is uploaded under a uuid of ours, committed before the upload; a
  retry after a lost answer looks that uuid up among Maventa's SENT invoices before
  uploading again with the same uuid. Then the worker polls the invoice's status on later
  runs (backing off to hourly): only DELIVERED makes it sent; FAILED brings the invoice
  back to the queue with Maventa's reason.
- e-invoice without Maventa: the Finvoice file (``einvoice``) is offered for download,
  the agent sends it and confirms.
- finalise: Netvisor status ``open`` (retried with backoff, never resending anything) and
  a comment line (``comments``); then the E-tunnus user is told (``notices``, with the
  texts of ``texts``).

Every start passes one gate (``gate``): a Korjattava invoice never goes, and one with a
failing check (run again at send time) only with the agent's reason, which its history
keeps. ``batch`` is "send all clean": every clean invoice started the same way.

The database allows one active dispatch per invoice (a partial unique index), so double
clicks, two agents and API retries end up with the same dispatch or a 409. ``service``
holds what agents (and the sync) do to a dispatch; it is exported here.

May import: the models, the settings, the rules (checks, formats), the netvisor, maventa and
finvoice packages, and the core through ``helpdesk.plugin_api`` (tables, services, outbox,
blob store, work queue); never the sync, the web or the sandboxes. Korjattava
(``korjattava.py``) shares the comments, the invoice's ticket (``notices``) and the texts.
"""

from plugins.invoices.dispatch.batch import CleanRun, Skipped, Started, dispatch_clean
from plugins.invoices.dispatch.gate import OVERRIDE_REASON_MAX, ChecksFailed, checks_now
from plugins.invoices.dispatch.service import (
    ActiveDispatch,
    active_dispatch,
    cancel_dispatch,
    confirm_sent,
    dispatches_of,
    latest_dispatch,
    retry_dispatch,
    start_dispatch,
)

__all__ = [
    "OVERRIDE_REASON_MAX",
    "ActiveDispatch",
    "ChecksFailed",
    "CleanRun",
    "Skipped",
    "Started",
    "active_dispatch",
    "cancel_dispatch",
    "checks_now",
    "confirm_sent",
    "dispatch_clean",
    "dispatches_of",
    "latest_dispatch",
    "retry_dispatch",
    "start_dispatch",
]
