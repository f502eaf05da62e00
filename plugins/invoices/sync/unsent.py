"""Pull Netvisor's unsent invoices into the queue: idempotent, one invoice's trouble its own.

A run has two phases. First everything is read from Netvisor (the unsent list, the
details of those and of the invoices that left the list, their customers) with no
transaction open. A failure of the whole request (credentials, rights, maintenance, the
network, an unreadable answer) stops the run there: the queue stays exactly as it was and
``SyncState.last_error`` says why. A failure about one record (Netvisor's INVALID_DATA for
one invoice, or for its customer, e.g. one deleted from the register; data we cannot read
in one invoice) marks that invoice: its ``sync_error`` holds Netvisor's message, a failed
check shows it in the queue, and the others are synced as usual. Then one unit of work
(``db.transaction``) upserts the invoices, re-runs the checks (the e-invoices' Finvoice
preflight among them, so that the queue shows what the writer would refuse before anyone
clicks) and writes the history. Two syncs at once (two workers, a button and the worker)
serialise on a PostgreSQL advisory lock or SQLite's write lock (which the unit takes as it
begins), and ``netvisor_key`` is unique, so an invoice is never stored twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from helpdesk.plugin_api import (
    EtunnusUser,
    end_read,
    invoice_number_parts,
    is_postgres,
    transaction,
    utcnow,
)
from plugins.invoices.dispatch.gate import checks_for, earlier_invoices
from plugins.invoices.dispatch.service import on_left_unsent
from plugins.invoices.models import (
    EventKind,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    SyncState,
)
from plugins.invoices.netvisor import (
    Customer,
    NetvisorClient,
    NetvisorError,
    SalesInvoice,
    SalesInvoiceListItem,
    concerns_one_record,
)
from plugins.invoices.rules.deadline import InvoiceDeadline
from plugins.invoices.search import name_key
from plugins.invoices.settings import NetvisorNotConfigured, deadline_rules, netvisor_client
from plugins.invoices.sync.mapping import invoice_values, plain

log = logging.getLogger(__name__)

SYNC_NAME = "unsent"
#: Any constant works; it only has to be the same in every process of this database.
ADVISORY_LOCK_KEY = 0x1A7015  # "invoices"
#: Statuses that follow Netvisor's unsent list: they leave the queue when Netvisor does.
FOLLOWS_NETVISOR = (InvoiceStatus.unsent, InvoiceStatus.korjattava)
#: Statuses the sync reads from Netvisor: also invoices being dispatched, since a post
#: dispatch by Netvisor's own print service is recorded when the invoice leaves ``unsent``.
TRACKED = (*FOLLOWS_NETVISOR, InvoiceStatus.dispatching)
#: Fields whose change is worth a line in the history.
TRACKED_FIELDS = (
    "number",
    "reference",
    "customer_name",
    "customer_address",
    "customer_postcode",
    "customer_town",
    "email",
    "einvoice_address",
    "einvoice_operator",
    "delivery_method_text",
    "invoice_date",
    "due_date",
    "gross_sum",
)


@dataclass
class SyncResult:
    """What one run did; ``error`` is a Finnish message for the agent when it failed."""

    ok: bool = True
    new: int = 0
    updated: int = 0
    left: int = 0
    unsent: int = 0
    #: Invoices marked because Netvisor would not give them (or their customer) whole.
    failed: int = 0
    error: str | None = None
    detail: str | None = None
    new_ids: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "new": self.new,
            "updated": self.updated,
            "left": self.left,
            "unsent": self.unsent,
            "failed": self.failed,
        }


@dataclass(frozen=True)
class _Fetched:
    """Everything one run read from Netvisor."""

    unsent: list[SalesInvoice]
    gone: dict[int, SalesInvoice | None]
    customers: dict[int, Customer | None]
    #: Customer key -> Netvisor's message, for customers it would not give.
    customer_errors: dict[int, str] = field(default_factory=dict)
    #: Listed invoices whose details Netvisor would not give: their list row and its message.
    unreadable: dict[int, tuple[SalesInvoiceListItem | None, str]] = field(default_factory=dict)


def _error_text(exc: NetvisorError) -> str:
    """Netvisor's own words with its code, as the queue shows them."""
    if exc.code and exc.message:
        return f"{exc.code}: {exc.message}"
    return exc.message or str(exc)


def _details(
    client: NetvisorClient, keys: list[int]
) -> tuple[dict[int, SalesInvoice], dict[int, str]]:
    """The details of ``keys`` in batches; one bad invoice costs only itself.

    Raises the NetvisorError of a failure that is not about one record.
    """
    try:
        found = client.get_sales_invoices(keys, process_history=True)
        return {d.netvisor_key: d for d in found if d.netvisor_key is not None}, {}
    except NetvisorError as exc:
        if not concerns_one_record(exc):
            raise
        log.warning("invoice sync: a batch of details failed (%s); reading one by one", exc)
    details: dict[int, SalesInvoice] = {}
    errors: dict[int, str] = {}
    for key in keys:
        try:
            detail = client.get_sales_invoice(key, process_history=True)
        except NetvisorError as exc:
            if not concerns_one_record(exc):
                raise
            errors[key] = _error_text(exc)
            continue
        if detail is not None:
            details[key] = detail
    return details, errors


def _fetch(client: NetvisorClient, tracked: set[int]) -> _Fetched:
    listed = {item.netvisor_key: item for item in client.list_sales_invoices(status="unsent")}
    gone_keys = tracked - set(listed)
    by_key, errors = _details(client, sorted(set(listed) | gone_keys))
    # An invoice listed as unsent whose details vanished meanwhile is left for the next run.
    unsent = [by_key[key] for key in sorted(listed) if key in by_key]
    customers: dict[int, Customer | None] = {}
    customer_errors: dict[int, str] = {}
    for invoice in unsent:
        key = invoice.customer_netvisor_key
        if key is None or key in customers or key in customer_errors:
            continue
        try:
            customers[key] = client.get_customer(key)
        except NetvisorError as exc:
            if not concerns_one_record(exc):
                raise
            customer_errors[key] = _error_text(exc)
    return _Fetched(
        unsent,
        {key: by_key.get(key) for key in gone_keys if key not in errors},
        customers,
        customer_errors,
        {key: (listed.get(key), message) for key, message in errors.items()},
    )


def sync_unsent(
    session: Session, client: NetvisorClient, now: datetime | None = None
) -> SyncResult:
    """Bring the queue in line with Netvisor's unsent invoices; commits. Never raises
    for a Netvisor failure: the result (and ``SyncState``) carries the error instead."""
    now = now or utcnow()
    tracked = set(
        session.exec(select(Invoice.netvisor_key).where(col(Invoice.status).in_(TRACKED))).all()
    )
    end_read(session)
    try:
        fetched = _fetch(client, tracked)
    except NetvisorError as exc:
        log.warning("invoice sync failed: %s", exc)
        _record_failure(session, now, exc)
        return SyncResult(ok=False, error=str(exc), detail=exc.detail)
    with transaction(session):
        result = _apply(session, fetched, now)
    log.info("invoice sync: %s", result.counts())
    return result


def run_sync(session: Session, now: datetime | None = None) -> SyncResult:
    """One sync against the configured Netvisor; failures end up in the result and SyncState.

    ``helpdesk invoices sync``, the "Sync now" button and the worker all come here.
    """
    now = now or utcnow()
    try:
        client = netvisor_client()
    except NetvisorNotConfigured as exc:
        with transaction(session):
            state = _state(session)
            state.last_started_at = state.last_error_at = now
            state.last_error = str(exc)
            session.add(state)
        return SyncResult(ok=False, error=str(exc))
    with client:
        return sync_unsent(session, client, now)


def _record_failure(session: Session, now: datetime, exc: NetvisorError) -> None:
    with transaction(session):
        state = _state(session)
        state.last_started_at = now
        state.last_error_at = now
        state.last_error = f"{exc} — {exc.detail}"
        session.add(state)


def _state(session: Session) -> SyncState:
    return session.get(SyncState, SYNC_NAME) or SyncState(name=SYNC_NAME)


def _take_lock(session: Session, now: datetime) -> SyncState:
    """Serialise writers: an advisory lock on PostgreSQL; on SQLite the unit of work holds
    the write lock from its first statement, so a second sync reads what the first wrote."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    state = _state(session)
    state.last_started_at = now
    return state


def _apply(session: Session, fetched: _Fetched, now: datetime) -> SyncResult:
    state = _take_lock(session, now)
    result = SyncResult()
    keys = [d.netvisor_key for d in fetched.unsent if d.netvisor_key is not None]
    existing = _by_key(session, [*keys, *fetched.gone, *fetched.unreadable])
    prefixes = {d.invoice_number[:6] for d in fetched.unsent} | {
        item.invoice_number[:6] for item, _ in fetched.unreadable.values() if item is not None
    }
    users = {
        u.etunnus: u
        for u in session.exec(select(EtunnusUser).where(col(EtunnusUser.etunnus).in_(prefixes)))
    }
    rules = deadline_rules()
    touched: list[Invoice] = []
    for detail in fetched.unsent:
        if existing.get(detail.netvisor_key or -1) is not None and (
            existing[detail.netvisor_key or -1].status not in FOLLOWS_NETVISOR
            and existing[detail.netvisor_key or -1].status != InvoiceStatus.left_netvisor
        ):
            continue  # being dispatched: its details stay as the dispatch read them
        customer_key = detail.customer_netvisor_key or -1
        values = invoice_values(detail, fetched.customers.get(customer_key))
        if customer_key in fetched.customer_errors:
            values["sync_error"] = fetched.customer_errors[customer_key]
            result.failed += 1
        user = users.get(str(values["etunnus"]))
        values["user_id"] = user.id if user else None
        invoice = existing.get(int(values["netvisor_key"]))
        if invoice is None:
            invoice = _insert(session, values, now, rules)
            result.new += 1
            result.new_ids.append(invoice.id or 0)
        else:
            if _update(session, invoice, values, now):
                result.updated += 1
        invoice.last_synced_at = now
        touched.append(invoice)
    for key, (item, message) in fetched.unreadable.items():
        marked = _mark_unreadable(session, existing.get(key), key, item, message, now, rules)
        if marked is not None:
            if item is not None and existing.get(key) is None:
                result.new += 1
                result.new_ids.append(marked.id or 0)
            result.failed += 1
            touched.append(marked)
    for key, gone in fetched.gone.items():
        invoice = existing.get(key)
        if invoice is None or invoice.status not in TRACKED:
            continue
        if gone is not None and gone.status == "unsent":
            continue  # missing from this list only; still unsent in Netvisor
        new_status = (gone.status if gone else None) or "poistettu"
        if invoice.status == InvoiceStatus.dispatching:
            on_left_unsent(session, invoice, new_status)
            continue
        invoice.netvisor_status = new_status
        invoice.status = InvoiceStatus.left_netvisor
        invoice.left_unsent_at = now
        invoice.last_synced_at = now
        session.add(invoice)
        _event(session, invoice, EventKind.left_netvisor, now, netvisor_status=new_status)
        result.left += 1
    session.flush()
    _recheck(session, touched, users, now)
    result.unsent = len(touched)
    state.last_success_at = now
    state.last_error = None
    state.last_key = max([state.last_key or 0, *keys]) or None
    state.last_counts = result.counts()
    session.add(state)
    return result


def _mark_unreadable(
    session: Session,
    invoice: Invoice | None,
    key: int,
    item: SalesInvoiceListItem | None,
    message: str,
    now: datetime,
    rules: InvoiceDeadline,
) -> Invoice | None:
    """Record that Netvisor would not give this invoice's details; the rest of it stays.

    A new one enters the queue from its row in the unsent list (number, customer, sum),
    so that the team sees it and why; an invoice being dispatched is left alone.
    """
    if invoice is not None:
        if invoice.status not in FOLLOWS_NETVISOR:
            return None
        invoice.sync_error = message
        invoice.last_synced_at = now
        session.add(invoice)
        return invoice
    if item is None:
        return None
    number = item.invoice_number.strip()
    parts = invoice_number_parts(number)
    values: dict[str, Any] = {
        "netvisor_key": key,
        "number": number,
        "reference": "".join((item.reference_number or "").split()).upper(),
        "etunnus": parts[0] if parts else number[:6],
        "customer_code": item.customer_code,
        "customer_name": (item.customer_name or "").strip(),
        "customer_name_search": name_key(item.customer_name or ""),
        "invoice_date": item.invoice_date,
        "gross_sum": (item.invoice_sum or Decimal(0)).quantize(Decimal("0.01")),
        "netvisor_status": item.status or "unsent",
        "sync_error": message,
    }
    user = session.exec(select(EtunnusUser).where(EtunnusUser.etunnus == values["etunnus"]))
    found = user.first()
    values["user_id"] = found.id if found else None
    return _insert(session, values, now, rules)


def _by_key(session: Session, keys: Iterable[int]) -> dict[int, Invoice]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = session.exec(select(Invoice).where(col(Invoice.netvisor_key).in_(wanted)))
    return {row.netvisor_key: row for row in rows}


def _insert(
    session: Session, values: dict[str, Any], now: datetime, rules: InvoiceDeadline
) -> Invoice:
    invoice = Invoice(
        **values,
        status=InvoiceStatus.unsent,
        first_seen_at=now,
        deadline_at=rules.deadline_for(now),
        last_synced_at=now,
    )
    try:
        # A savepoint, so that a row another writer inserted meanwhile costs only this row.
        with session.begin_nested():
            session.add(invoice)
            session.flush()
    except IntegrityError:
        found = session.exec(
            select(Invoice).where(Invoice.netvisor_key == values["netvisor_key"])
        ).one()
        _update(session, found, values, now)
        return found
    _event(
        session,
        invoice,
        EventKind.seen,
        now,
        number=invoice.number,
        deadline=invoice.deadline_at.isoformat(),
    )
    return invoice


def _update(session: Session, invoice: Invoice, values: dict[str, Any], now: datetime) -> bool:
    changed = {
        name: [plain(getattr(invoice, name)), plain(values[name])]
        for name in TRACKED_FIELDS
        if getattr(invoice, name) != values[name]
    }
    for name, value in values.items():
        setattr(invoice, name, value)
    if invoice.status == InvoiceStatus.left_netvisor:
        # Back in Netvisor's unsent list (e.g. the status was reverted): back in the queue.
        invoice.status = InvoiceStatus.unsent
        invoice.left_unsent_at = None
        _event(session, invoice, EventKind.returned, now)
    session.add(invoice)
    if changed:
        _event(session, invoice, EventKind.updated, now, changes=changed)
    return bool(changed)


def _recheck(
    session: Session, invoices: list[Invoice], users: dict[str, EtunnusUser], now: datetime
) -> None:
    prefixes = {inv.etunnus for inv in invoices}
    siblings: dict[str, list[Invoice]] = defaultdict(list)
    if prefixes:
        for other in session.exec(select(Invoice).where(col(Invoice.etunnus).in_(prefixes))):
            siblings[other.etunnus].append(other)
    for invoice in invoices:
        checked = checks_for(
            invoice,
            etunnus_known=invoice.etunnus in users,
            others=earlier_invoices(invoice, siblings[invoice.etunnus]),
        )
        results = [{"name": r.name, "ok": r.ok, "reason": r.reason} for r in checked]
        if results != invoice.checks:
            before = {c["name"] for c in invoice.failed_checks}
            after = {c["name"] for c in results if not c["ok"]}
            if invoice.checks and before != after:
                _event(
                    session,
                    invoice,
                    EventKind.checks,
                    now,
                    failed=sorted(after),
                    fixed=sorted(before - after),
                )
            invoice.checks = results
            invoice.checks_ok = not after
            session.add(invoice)


def _event(
    session: Session,
    invoice: Invoice,
    kind: EventKind,
    now: datetime,
    *,
    agent_id: int | None = None,
    **details: Any,
) -> InvoiceEvent:
    if invoice.id is None:
        session.flush()
    event = InvoiceEvent(
        invoice_id=invoice.id or 0, at=now, kind=kind.value, agent_id=agent_id, details=details
    )
    session.add(event)
    return event


@dataclass(frozen=True)
class Refetched:
    """One invoice as Netvisor has it now (``detail`` None: gone), with its customer."""

    detail: SalesInvoice | None
    customer: Customer | None = None
    #: Netvisor's words when it would not give the customer (the invoice's sync_error).
    customer_error: str = ""

    @property
    def unsent(self) -> bool:
        return self.detail is not None and self.detail.status in (None, "unsent")


def fetch_invoice(client: NetvisorClient, invoice: Invoice) -> Refetched:
    """Re-read one invoice (and its customer) from Netvisor; raises NetvisorError.

    Only the network: call it with no transaction open, then ``refresh_invoice``.
    """
    detail = client.get_sales_invoice(invoice.netvisor_key, process_history=True)
    if detail is None or detail.status not in (None, "unsent"):
        return Refetched(detail)
    key = detail.customer_netvisor_key
    if key is None:
        return Refetched(detail)
    try:
        return Refetched(detail, client.get_customer(key))
    except NetvisorError as exc:
        # A customer Netvisor will not give (e.g. deleted) marks the invoice, as in a sync.
        if not concerns_one_record(exc):
            raise
        return Refetched(detail, customer_error=_error_text(exc))


def refresh_invoice(
    session: Session, invoice: Invoice, fetched: Refetched, now: datetime | None = None
) -> bool:
    """Bring one invoice in line with what ``fetch_invoice`` read and re-run its checks.

    A step inside the caller's unit of work (flushes only). Returns whether Netvisor
    still has the invoice unsent.
    """
    now = now or utcnow()
    detail = fetched.detail
    if detail is None or not fetched.unsent:
        invoice.netvisor_status = (detail.status if detail else None) or "poistettu"
        invoice.last_synced_at = now
        session.add(invoice)
        return False
    values = invoice_values(detail, fetched.customer)
    values["sync_error"] = fetched.customer_error
    user = session.exec(
        select(EtunnusUser).where(EtunnusUser.etunnus == str(values["etunnus"]))
    ).first()
    values["user_id"] = user.id if user else None
    status = invoice.status
    _update(session, invoice, values, now)
    invoice.status = status
    invoice.last_synced_at = now
    session.flush()
    _recheck(session, [invoice], {user.etunnus: user} if user else {}, now)
    return True


def last_state(session: Session) -> SyncState | None:
    """How the last sync went, for the queue page."""
    return session.get(SyncState, SYNC_NAME)
