"""The invoice plugin's tables, in its own Alembic branch (``migrations/versions``).

``invoice`` holds what the sync reads from Netvisor (invoices, their history, the sync
state); ``dispatch`` what the team does with them (dispatches, Netvisor comment lines,
Korjattava rounds, the admin-edited texts). Importing this package registers every table
(the ``helpdesk_model_modules`` hook hands it to Alembic).

May import: SQLModel and SQLAlchemy, and the core's column helpers (``helpdesk.plugin_api``);
the foreign keys name the core's tables (``agent``, ``ticket``, ``etunnus_user``,
``outbound_mail``) as strings.
"""

from plugins.invoices.models.dispatch import (
    INACTIVE_STATES,
    PATH,
    CommentState,
    Correction,
    Dispatch,
    DispatchMode,
    DispatchState,
    InvoiceText,
    NetvisorComment,
)
from plugins.invoices.models.invoice import (
    QUEUE_STATUSES,
    DeliveryMethod,
    EventKind,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    SyncState,
)

__all__ = [
    "INACTIVE_STATES",
    "PATH",
    "QUEUE_STATUSES",
    "CommentState",
    "Correction",
    "DeliveryMethod",
    "Dispatch",
    "DispatchMode",
    "DispatchState",
    "EventKind",
    "Invoice",
    "InvoiceEvent",
    "InvoiceStatus",
    "InvoiceText",
    "NetvisorComment",
    "SyncState",
]
