"""The sandbox's memory: invoices, customers, what clients did, and faults to inject.

Tests hold the ``SandboxState`` object and inspect or steer it while the server
thread serves requests, so every access goes through one lock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from plugins.invoices.sandboxes.netvisor.data import (
    HISTORY_API_CHANNEL,
    HISTORY_API_USER,
    HISTORY_COMMENT_MATERIAL,
    SandboxCustomer,
    SandboxHistoryLine,
    SandboxInvoice,
    SandboxRow,
    demo_customers,
    demo_invoices,
    reference_for,
    saved_line,
)

RESOURCES = (
    "salesinvoicelist",
    "getsalesinvoice",
    "getcustomer",
    "updatesalesinvoicestatus",
    "salesinvoicecomment",
)


def resource_name(resource: str) -> str:
    """``getsalesinvoice.nv`` or ``/getsalesinvoice.nv`` -> ``getsalesinvoice``."""
    name = resource.strip("/").lower().removesuffix(".nv")
    if name not in RESOURCES:
        raise ValueError(f"unknown sandbox resource {resource!r}; one of {RESOURCES}")
    return name


@dataclass(frozen=True)
class Fault:
    """One injected failure for the next request to a resource."""

    kind: str  # "fail" or "malformed"
    code: str = "TECHNICAL_ERROR"
    message: str = ""


@dataclass(frozen=True)
class RecordedRequest:
    """What the sandbox saw: enough for tests to count calls and check headers."""

    resource: str
    method: str
    url: str
    transaction_id: str
    outcome: str


class SandboxState:
    """Invoices and customers of one fake Netvisor environment, plus fault injection."""

    def __init__(
        self,
        *,
        customers: Sequence[SandboxCustomer] | None = None,
        invoices: Sequence[SandboxInvoice] | None = None,
        demo: bool = True,
        today: date | None = None,
    ) -> None:
        self._lock = threading.RLock()
        if customers is None and demo:
            customers = demo_customers()
        self.customers: dict[int, SandboxCustomer] = {c.netvisor_key: c for c in customers or []}
        if invoices is None and demo:
            invoices = demo_invoices(self.customers, today=today)
        self.invoices: dict[int, SandboxInvoice] = {i.netvisor_key: i for i in invoices or []}
        self.requests: list[RecordedRequest] = []
        #: Statuses set through updatesalesinvoicestatus.nv: (key, from, to).
        self.status_changes: list[tuple[int, str, str]] = []
        self.seen_transaction_ids: set[str] = set()
        self.in_flight = 0
        self.max_concurrency = 0
        #: Encoding of the XML answers; Netvisor's declare UTF-8 (tests may switch it).
        self.response_encoding = "utf-8"
        self._faults: dict[str, deque[Fault]] = {name: deque() for name in RESOURCES}
        self._delays: dict[str, deque[float]] = {name: deque() for name in RESOURCES}

    # -- fault injection -----------------------------------------------------

    def fail_next(
        self,
        resource: str,
        code: str = "TECHNICAL_ERROR",
        message: str = "Sandbox: injected failure",
        *,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests to ``resource`` with FAILED and ``code``."""
        with self._lock:
            for _ in range(times):
                self._faults[resource_name(resource)].append(Fault("fail", code, message))

    def malformed_next(self, resource: str, *, times: int = 1) -> None:
        """Answer the next ``times`` requests to ``resource`` with broken XML."""
        with self._lock:
            for _ in range(times):
                self._faults[resource_name(resource)].append(Fault("malformed"))

    def delay_next(self, resource: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` requests to ``resource`` for ``seconds`` before answering."""
        with self._lock:
            for _ in range(times):
                self._delays[resource_name(resource)].append(seconds)

    def take_fault(self, resource: str) -> Fault | None:
        with self._lock:
            queue = self._faults[resource]
            return queue.popleft() if queue else None

    def take_delay(self, resource: str) -> float:
        with self._lock:
            queue = self._delays[resource]
            return queue.popleft() if queue else 0.0

    # -- bookkeeping used by the app ------------------------------------------

    def claim_transaction_id(self, transaction_id: str) -> bool:
        """Record a transaction id; False if it was used before."""
        with self._lock:
            if transaction_id in self.seen_transaction_ids:
                return False
            self.seen_transaction_ids.add(transaction_id)
            return True

    @contextmanager
    def in_flight_request(self) -> Iterator[None]:
        """Count concurrent requests; ``max_concurrency`` shows whether clients serialised."""
        with self._lock:
            self.in_flight += 1
            self.max_concurrency = max(self.max_concurrency, self.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def request_count(self, resource: str, *, method: str | None = None) -> int:
        """How many requests reached ``resource`` (rejected ones included)."""
        name = resource_name(resource)
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.resource == name and (method is None or r.method == method)
            )

    # -- data ----------------------------------------------------------------

    def unsent_invoices(self) -> list[SandboxInvoice]:
        with self._lock:
            return [i for i in self.invoices.values() if i.status == "unsent"]

    def set_status(self, keys: Sequence[int], status: str) -> list[int]:
        """Set the status of every key; returns the unknown keys (nothing changes then)."""
        with self._lock:
            unknown = [key for key in keys if key not in self.invoices]
            if unknown:
                return unknown
            now = datetime.now(UTC)
            for key in keys:
                invoice = self.invoices[key]
                if invoice.status != status:
                    self.status_changes.append((key, invoice.status, status))
                invoice.status = status
                invoice.last_modified = now
            return []

    def add_comment(self, key: int, comment: str) -> bool:
        """Append a comment to an invoice's process history; False if no such invoice."""
        with self._lock:
            invoice = self.invoices.get(key)
            if invoice is None:
                return False
            now = datetime.now(UTC)
            invoice.history.append(
                SandboxHistoryLine(
                    now,
                    HISTORY_COMMENT_MATERIAL,
                    HISTORY_API_USER,
                    HISTORY_API_CHANNEL,
                    comment,
                    kind="comment",
                )
            )
            invoice.last_modified = now
            return True

    def comments(self, key: int) -> list[str]:
        """The comments added to invoice ``key`` through the API, oldest first."""
        with self._lock:
            invoice = self.invoices.get(key)
            if invoice is None:
                return []
            return [line.status for line in invoice.history if line.kind == "comment"]

    def add_customer(self, customer: SandboxCustomer) -> SandboxCustomer:
        with self._lock:
            self.customers[customer.netvisor_key] = customer
            return customer

    def delete_customer(self, key: int) -> SandboxCustomer:
        """Remove a customer from the register; its invoices keep their copy of its details."""
        with self._lock:
            return self.customers.pop(key)

    def next_customer_key(self) -> int:
        """A key no customer has had, deleted ones included."""
        with self._lock:
            used = set(self.customers) | {i.customer.netvisor_key for i in self.invoices.values()}
            return max(used, default=500) + 1

    def add_invoice(
        self,
        *,
        etunnus_number: str,
        customer: SandboxCustomer | int,
        delivery_method: str,
        rows: Sequence[SandboxRow] | None = None,
        invoice_number: str | None = None,
        reference_number: str | None = None,
        invoice_date: date | None = None,
        due_date: date | None = None,
        amount: Decimal | None = None,
        status: str = "unsent",
    ) -> SandboxInvoice:
        """Add an invoice as if an E-tunnus user had just sent one; numbers fill themselves in."""
        with self._lock:
            if isinstance(customer, int):
                found = self.customers.get(customer)
                if found is None:
                    raise ValueError(f"no sandbox customer {customer}")
                customer = found
            elif customer.netvisor_key not in self.customers:
                self.customers[customer.netvisor_key] = customer
            if invoice_number is None:
                invoice_number = self._next_invoice_number(etunnus_number)
            issued = invoice_date or datetime.now(UTC).date()
            now = datetime.now(UTC)
            invoice = SandboxInvoice(
                netvisor_key=max(self.invoices, default=1000) + 1,
                invoice_number=invoice_number,
                invoice_date=issued,
                due_date=due_date or issued + timedelta(days=14),
                reference_number=reference_number or reference_for(invoice_number),
                customer=customer,
                delivery_method=delivery_method,
                rows=list(rows or ())
                or [SandboxRow("Palvelu", Decimal(1), Decimal("100.00"), Decimal("25.5"))],
                status=status,
                amount_override=amount,
                our_reference=f"E-tunnus {etunnus_number}",
                free_text_before_lines=f"Laskuttaja: e-tunnus {etunnus_number}",
                last_modified=now,
                history=[saved_line(now)],
            )
            self.invoices[invoice.netvisor_key] = invoice
            return invoice

    def _next_invoice_number(self, etunnus_number: str) -> str:
        if len(etunnus_number) != 6 or not etunnus_number.isdigit():
            raise ValueError("an e-tunnus number has six digits")
        used = [
            int(i.invoice_number[6:])
            for i in self.invoices.values()
            if i.invoice_number.startswith(etunnus_number) and i.invoice_number[6:].isdigit()
        ]
        return f"{etunnus_number}{max(used, default=0) + 1:04d}"

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready view for ``GET /_sandbox/state``."""
        with self._lock:
            return {
                "invoices": [
                    {
                        "netvisor_key": i.netvisor_key,
                        "invoice_number": i.invoice_number,
                        "status": i.status,
                        "delivery_method": i.delivery_method,
                        "customer": i.customer.name,
                        "amount": str(i.amount),
                        "comments": [e.status for e in i.history if e.kind == "comment"],
                    }
                    for i in sorted(self.invoices.values(), key=lambda i: i.netvisor_key)
                ],
                "status_changes": [
                    {"netvisor_key": key, "from": old, "to": new}
                    for key, old, new in self.status_changes
                ],
                "request_count": len(self.requests),
                "max_concurrency": self.max_concurrency,
            }
