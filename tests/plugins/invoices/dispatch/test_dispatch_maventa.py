"""Dispatches through Maventa: the upload under our uuid, polling until the operator or
the print service took it (or refused it), and an upload whose answer was lost."""

from __future__ import annotations

from datetime import timedelta

import factories
import pytest
from invoice_dispatch import (
    add_invoice,
    clients,
    customer,
    dispatch_of,
    etunnus_user,
    run_steps,
    synced,
    use_maventa,
)
from maventa_sandbox import finvoice
from sqlmodel import Session

from helpdesk.db import transaction
from helpdesk.models import utcnow
from plugins.invoices.dispatch import start_dispatch
from plugins.invoices.dispatch.runner import run_due
from plugins.invoices.dispatch.steps import (
    DELIVERY_OVERDUE_TEXT,
    delivery_poll_delay,
    upload_name,
)
from plugins.invoices.models import Dispatch, DispatchMode, DispatchState, InvoiceStatus
from plugins.invoices.sandboxes.maventa import FAILING_EIA, FAILING_EIA_REASON


@pytest.fixture
def setup(session: Session, bare_sandbox, maventa, invoice_settings_env, data_dir):
    factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    etunnus_user(session, "tiina@example.fi")
    use_maventa(invoice_settings_env, maventa)
    return invoice_settings_env


def _einvoice(session, bare_sandbox, einvoice=("003727345615", "003721291126")):
    added = add_invoice(bare_sandbox, "einvoice", buyer=customer(einvoice=einvoice))
    invoice = synced(session, bare_sandbox, added.invoice_number)
    dispatch = start_dispatch(session, invoice=invoice, agent=factories.agent(session))
    return added, invoice, dispatch


def _once(session, used) -> None:
    run_due(session, clients=used, now=utcnow() + timedelta(hours=2))


def _posts(maventa) -> int:
    return sum(1 for r in maventa.state.requests if (r.method, r.path) == ("POST", "/v1/invoices"))


def test_nothing_is_finalised_or_told_until_maventa_reports_delivered(
    session, setup, bare_sandbox, maventa
):
    maventa.state.polls_to_finish = 1000  # Maventa keeps it PENDING until told otherwise
    added, invoice, _ = _einvoice(session, bare_sandbox)
    used = clients(bare_sandbox, maventa)
    for _ in range(3):
        _once(session, used)
    waiting = dispatch_of(session, invoice)
    assert waiting.state == "sending" and waiting.maventa_invoice_id is not None
    assert waiting.sent_at is None and waiting.notified_at is None
    assert waiting.next_attempt_at > utcnow() + timedelta(seconds=20)  # polled later, not now
    session.refresh(invoice)
    assert invoice.status == InvoiceStatus.dispatching
    assert bare_sandbox.state.status_changes == []
    assert bare_sandbox.state.comments(added.netvisor_key) == []
    assert _posts(maventa) == 1

    maventa.state.deliver(waiting.maventa_invoice_id)
    _once(session, used)
    done = dispatch_of(session, invoice)
    assert done.state == "user_notified" and done.sent_at is not None
    assert bare_sandbox.state.status_changes == [(added.netvisor_key, "unsent", "open")]
    [comment] = bare_sandbox.state.comments(added.netvisor_key)
    assert comment.startswith("Lähetetty verkkolaskuna (Maventa)")
    assert _posts(maventa) == 1


def test_a_refused_delivery_goes_back_to_the_queue_with_maventas_reason(
    session, setup, bare_sandbox, maventa, logged_in
):
    added, invoice, _ = _einvoice(session, bare_sandbox, einvoice=(FAILING_EIA, "003721291126"))
    run_steps(session, clients(bare_sandbox, maventa), outbox=False)
    failed = dispatch_of(session, invoice)
    assert (failed.state, failed.failed_step) == ("failed", "delivery")
    assert FAILING_EIA_REASON in (failed.error or "")
    assert "Maventa ei toimittanut laskua perille" in (failed.error or "")
    assert "Maventa could not deliver the invoice" in (failed.error or "")
    assert failed.sent_at is None and failed.notified_at is None
    session.refresh(invoice)
    assert invoice.status == InvoiceStatus.unsent  # back in the queue
    assert bare_sandbox.state.status_changes == []
    assert bare_sandbox.state.comments(added.netvisor_key) == []
    # The page says which step failed and what happened in words, not internal codes.
    page = logged_in.get(f"/invoices/{invoice.id}").text
    assert "Epäonnistui (toimitus Maventan kautta)" in page and "(delivery)" not in page
    assert "epäonnistui: toimitus Maventan kautta" in page  # the history line
    assert "(start" not in page and "(aloitettu" in page
    # A new dispatch is a new upload under a new uuid.
    again = start_dispatch(session, invoice=invoice, agent=factories.agent(session))
    run_steps(session, clients(bare_sandbox, maventa), outbox=False)
    assert dispatch_of(session, invoice).maventa_uuid not in (None, failed.maventa_uuid)
    assert again.id != failed.id and _posts(maventa) == 2


def test_an_upload_whose_answer_was_lost_is_found_and_not_sent_twice(
    session, setup, bare_sandbox, maventa
):
    for number in range(12):  # other SENT invoices: more than AX's default page of 10
        maventa.client().upload_invoice(
            finvoice(f"999{number:03d}"), f"other-{number}.xml", routing={"format": "FINVOICE30"}
        )
    _, invoice, _ = _einvoice(session, bare_sandbox)
    maventa.state.lose_next_answer()
    used = clients(bare_sandbox, maventa)
    _once(session, used)
    lost = dispatch_of(session, invoice)
    assert lost.state == "sending" and lost.maventa_invoice_id is None
    assert lost.maventa_uuid in maventa.state.invoices  # it did arrive
    assert lost.attempts == 1 and "504" in (lost.error or "")

    maventa.state.requests.clear()
    run_steps(session, used, outbox=False)
    done = dispatch_of(session, invoice)
    assert done.state == "user_notified"
    assert done.maventa_invoice_id == lost.maventa_uuid
    assert _posts(maventa) == 0  # found among the SENT invoices, never uploaded again
    [look] = [r for r in maventa.state.requests if (r.method, r.path) == ("GET", "/v1/invoices")]
    assert look.query["direction"] == ["SENT"] and look.query["ids[]"] == [lost.maventa_uuid]
    assert len(maventa.state.invoices) == 13


def test_an_upload_lost_before_it_arrived_is_sent_with_the_same_uuid(
    session, setup, bare_sandbox, maventa
):
    _, invoice, _ = _einvoice(session, bare_sandbox)
    maventa.state.fail_next(503, "Service unavailable", path_prefix="/v1/invoices", method="POST")
    used = clients(bare_sandbox, maventa)
    _once(session, used)
    first = dispatch_of(session, invoice)
    assert first.maventa_uuid and not maventa.state.invoices
    run_steps(session, used, outbox=False)
    done = dispatch_of(session, invoice)
    assert done.state == "user_notified"
    assert list(maventa.state.invoices) == [first.maventa_uuid]


def test_an_upload_maventa_refuses_goes_back_to_the_queue(session, setup, bare_sandbox, maventa):
    _, invoice, _ = _einvoice(session, bare_sandbox)
    maventa.state.fail_next(422, "Invalid invoice", path_prefix="/v1/invoices", method="POST")
    run_steps(session, clients(bare_sandbox, maventa), outbox=False)
    failed = dispatch_of(session, invoice)
    assert (failed.state, failed.failed_step) == ("failed", "upload")
    assert "Invalid invoice" in (failed.error or "")
    session.refresh(invoice)
    assert invoice.status == InvoiceStatus.unsent
    assert not maventa.state.invoices


def test_maventa_out_of_reach_while_polling_is_waited_out(session, setup, bare_sandbox, maventa):
    _, invoice, _ = _einvoice(session, bare_sandbox)
    used = clients(bare_sandbox, maventa)
    _once(session, used)  # uploaded; the first read says PENDING
    maventa.state.fail_next(503, "Maintenance break", path_prefix="/v1/invoices/", times=3)
    _once(session, used)
    waiting = dispatch_of(session, invoice)
    assert waiting.state == "sending" and "Maintenance break" in (waiting.error or "")
    maventa.state.polls_to_finish = 1000
    for _ in range(3):  # the faults are used up: PENDING again, and the error is over
        _once(session, used)
    assert dispatch_of(session, invoice).error is None
    maventa.state.deliver(waiting.maventa_invoice_id)
    run_steps(session, used, outbox=False)
    assert dispatch_of(session, invoice).state == "user_notified"
    assert _posts(maventa) == 1


@pytest.mark.parametrize(
    ("age", "delay"),
    [
        (timedelta(seconds=5), timedelta(seconds=30)),
        (timedelta(minutes=20), timedelta(minutes=5)),
        (timedelta(hours=10), timedelta(hours=1)),
    ],
)
def test_polling_backs_off_with_the_uploads_age(age: timedelta, delay: timedelta) -> None:
    now = utcnow()
    dispatch = Dispatch(invoice_id=1, method="einvoice", mode=DispatchMode.einvoice_maventa)
    dispatch.upload_started_at = now - age
    assert delivery_poll_delay(dispatch, now) == delay


def test_an_upload_begun_before_uuids_is_found_by_its_file_name(
    session, setup, bare_sandbox, maventa
):
    _, invoice, dispatch = _einvoice(session, bare_sandbox)
    earlier = maventa.client().upload_invoice(
        finvoice(invoice.number), upload_name(dispatch, invoice), routing={"format": "FINVOICE30"}
    )
    with transaction(session):  # as the dispatch was left by a worker before inv0005
        session.refresh(dispatch)
        dispatch.state = DispatchState.sending
        dispatch.upload_started_at = utcnow()
        session.add(dispatch)
    maventa.state.requests.clear()
    run_steps(session, clients(bare_sandbox, maventa), outbox=False)
    done = dispatch_of(session, invoice)
    assert (done.state, done.maventa_invoice_id, done.maventa_uuid) == (
        "user_notified",
        earlier.id,
        None,
    )
    assert _posts(maventa) == 0


def test_a_delivery_pending_for_days_is_flagged_and_still_polled(
    session, setup, bare_sandbox, maventa
):
    maventa.state.polls_to_finish = 1000
    _, invoice, _ = _einvoice(session, bare_sandbox)
    used = clients(bare_sandbox, maventa)
    _once(session, used)
    dispatch = dispatch_of(session, invoice)
    assert dispatch.error is None
    with transaction(session):
        session.refresh(dispatch)
        dispatch.upload_started_at = utcnow() - timedelta(days=3)
        session.add(dispatch)
    _once(session, used)
    flagged = dispatch_of(session, invoice)
    assert flagged.state == "sending" and flagged.error == DELIVERY_OVERDUE_TEXT
    maventa.state.deliver(flagged.maventa_invoice_id)
    _once(session, used)
    done = dispatch_of(session, invoice)
    assert done.state == "user_notified" and done.error is None


def test_a_cancelled_dispatch_reads_as_cancelled(session, setup, bare_sandbox, maventa, logged_in):
    from plugins.invoices.dispatch.service import cancel_dispatch

    _, invoice, dispatch = _einvoice(session, bare_sandbox)
    cancel_dispatch(session, dispatch=dispatch, agent=factories.agent(session))
    page = logged_in.get(f"/invoices/{invoice.id}").text
    assert 'data-testid="dispatch-cancelled"' in page and 'class="dispatch cancelled"' in page
    assert 'aria-current="step"' not in page  # no step stands as under way
