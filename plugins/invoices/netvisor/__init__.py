"""Netvisor API client (and a local sandbox that speaks the same protocol).

The sandbox modules (``sandbox*``) are for tests and demos; production code needs
only what is exported here.
"""

from .auth import build_headers, compute_mac, verify_mac
from .client import INVOICE_STATUSES, NetvisorClient
from .config import NetvisorConfig
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
    TechnicalError,
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
    "TechnicalError",
    "build_headers",
    "compute_mac",
    "verify_mac",
]
