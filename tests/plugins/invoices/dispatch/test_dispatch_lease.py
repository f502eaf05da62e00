"""Dispatches on the core's work queue: no transaction open during a Netvisor or Maventa
call, and a worker that lost its claim mid-step writes nothing over the new holder's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factories
import pytest
from invoice_dispatch import (
    add_invoice,
    clients,
    dispatch_of,
    etunnus_user,
    run_steps,
    synced,
    use_maventa,
)
from sqlalchemy import update
from sqlmodel import Session, col

from helpdesk.db import transaction
from helpdesk.models import utcnow
from plugins.invoices.dispatch import confirm_sent, start_dispatch
from plugins.invoices.dispatch.runner import run_due
from plugins.invoices.dispatch.steps import DISPATCHES, Clients
from plugins.invoices.maventa.client import MaventaClient
from plugins.invoices.models import Dispatch

OTHER_WORKER = "elsewhere:4242:b:c"


class Watched:
    """A client that notes, for each call, whether the session had a transaction open."""

    def __init__(self, client: Any, session: Session, calls: list[tuple[str, bool]]) -> None:
        self._client, self._session, self._calls = client, session, calls

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._client, name)
        if name == "close" or not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append((name, self._session.in_transaction()))
            return found(*args, **kwargs)

        return call


@pytest.fixture
def setup(session: Session, bare_sandbox, invoice_settings_env, data_dir):
    factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    etunnus_user(session, "tiina@example.fi")
    return invoice_settings_env


def test_backoff_of_dispatch_steps() -> None:
    assert [DISPATCHES.backoff(n).total_seconds() for n in (1, 2, 3, 8, 9)] == [
        30,
        60,
        120,
        3600,
        3600,
    ]
    assert DISPATCHES.retry_after(5) == timedelta(minutes=8)
    assert DISPATCHES.retry_after(6) is None  # the sixth transient failure is final


def test_no_transaction_is_open_during_netvisor_calls(session, setup, bare_sandbox):
    invoice = synced(session, bare_sandbox, add_invoice(bare_sandbox, "post").invoice_number)
    agent = factories.agent(session)
    dispatch = start_dispatch(session, invoice=invoice, agent=agent)
    confirm_sent(session, dispatch=dispatch, agent=agent)
    calls: list[tuple[str, bool]] = []
    watched = Clients(
        netvisor_factory=lambda: Watched(bare_sandbox.client(max_attempts=1), session, calls),
        maventa_factory=clients(bare_sandbox).maventa_factory,
    )
    run_steps(session, watched, outbox=False)
    assert dispatch_of(session, invoice).state == "user_notified"
    assert [name for name, _ in calls] == [
        "update_sales_invoice_status",
        "add_sales_invoice_comment",
    ]
    assert not any(open_ for _, open_ in calls)


def test_no_transaction_is_open_during_maventa_and_netvisor_calls(
    session, setup, bare_sandbox, maventa
):
    setup.setenv("HELPDESK_INVOICES_POST_MODE", "maventa")
    use_maventa(setup, maventa)
    invoice = synced(session, bare_sandbox, add_invoice(bare_sandbox, "post").invoice_number)
    start_dispatch(session, invoice=invoice, agent=factories.agent(session))
    calls: list[tuple[str, bool]] = []
    watched = Clients(
        netvisor_factory=lambda: Watched(bare_sandbox.client(max_attempts=1), session, calls),
        maventa_factory=lambda: Watched(MaventaClient(maventa.config()), session, calls),
    )
    run_steps(session, watched, outbox=False)
    assert dispatch_of(session, invoice).state == "user_notified"
    assert [name for name, _ in calls] == [
        "get_sales_invoice_pdf",
        "upload_invoice",
        "get_invoice",  # PENDING: looked at again on a later run
        "get_invoice",  # DELIVERED
        "get_actions",
        "update_sales_invoice_status",
        "add_sales_invoice_comment",
    ]
    assert not any(open_ for _, open_ in calls)


def test_a_worker_that_lost_its_claim_writes_nothing_after_the_call(session, setup, bare_sandbox):
    bare_sandbox.state.fail_next("updatesalesinvoicestatus", "TECHNICAL_ERROR")
    invoice = synced(session, bare_sandbox, add_invoice(bare_sandbox, "post").invoice_number)
    agent = factories.agent(session)
    dispatch = start_dispatch(session, invoice=invoice, agent=agent)
    confirm_sent(session, dispatch=dispatch, agent=agent)

    class SlowNetvisor(Watched):
        """Netvisor answers so late that the worker's lease has run out and another worker
        has taken the dispatch over (renewing failed for a whole lease)."""

        def update_sales_invoice_status(self, *args: Any, **kwargs: Any) -> Any:
            with transaction(session):
                session.exec(
                    update(Dispatch)
                    .where(col(Dispatch.id) == dispatch.id)
                    .values(claimed_by=OTHER_WORKER, claimed_until=utcnow() + timedelta(hours=1))
                )
            return self._client.update_sales_invoice_status(*args, **kwargs)

    calls: list[tuple[str, bool]] = []
    slow = Clients(
        netvisor_factory=lambda: SlowNetvisor(bare_sandbox.client(max_attempts=1), session, calls),
        maventa_factory=clients(bare_sandbox).maventa_factory,
    )
    summary = run_due(session, clients=slow, now=utcnow() + timedelta(hours=2))
    assert summary.claimed == 1
    assert [e for e in summary.errors if "taken over" in e]
    # Netvisor failed, but the failure is not recorded over the new holder's work, and the
    # dispatch stays the new holder's.
    after = dispatch_of(session, invoice)
    assert after.claimed_by == OTHER_WORKER
    assert (after.state, after.finalise_attempts, after.error) == ("sent", 0, None)
