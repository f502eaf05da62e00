"""The Netvisor API client: the sales-invoice and customer resources the plugin uses.

``client`` calls the resources (one call at a time per environment, retries only where
repeating is harmless), ``auth`` signs each request (headers and HMAC-SHA256 MAC),
``config`` holds one environment's credentials, ``xml`` reads and writes Netvisor's XML
and its response status, ``parsing`` turns Netvisor's documented answer shapes into the
plain values of ``models``, and ``errors`` are the typed failures an agent can act on.

May import: the standard library, httpx and lxml; nothing of the core or of the rest of
the plugin. Everything others need is exported here.
"""

from .auth import build_headers, compute_mac, verify_mac
from .client import INVOICE_STATUSES, NetvisorClient
from .config import NetvisorConfig, unsafe_characters
from .errors import (
    AuthenticationFailed,
    DuplicateData,
    InvalidData,
    NetvisorError,
    NetvisorProtocolError,
    NetvisorTransportError,
    PeriodLock,
    RequestNotUnique,
    ServiceAccessError,
    SystemMaintenance,
    TechnicalError,
    concerns_one_record,
)
from .models import (
    Customer,
    ProcessHistoryEntry,
    SalesInvoice,
    SalesInvoiceListItem,
    SalesInvoiceRow,
)

__all__ = [
    "INVOICE_STATUSES",
    "AuthenticationFailed",
    "Customer",
    "DuplicateData",
    "InvalidData",
    "NetvisorClient",
    "NetvisorConfig",
    "NetvisorError",
    "NetvisorProtocolError",
    "NetvisorTransportError",
    "PeriodLock",
    "ProcessHistoryEntry",
    "RequestNotUnique",
    "SalesInvoice",
    "SalesInvoiceListItem",
    "SalesInvoiceRow",
    "ServiceAccessError",
    "SystemMaintenance",
    "TechnicalError",
    "build_headers",
    "compute_mac",
    "concerns_one_record",
    "unsafe_characters",
    "verify_mac",
]
