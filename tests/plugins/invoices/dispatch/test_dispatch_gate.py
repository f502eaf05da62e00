"""Dispatch safety: failing checks (run again at send time) stop a send on every route
unless the agent says why, which the history keeps; Korjattava never goes; exactly once."""

from __future__ import annotations

import re
from pathlib import Path

import factories
import pytest
from invoice_dispatch import api_post, clean_invoice, dispatches_for, english_agent, failing_invoice
from sqlmodel import Session, select
from webclient import Client

from helpdesk.models import AuditEvent
from plugins.invoices.dispatch import ChecksFailed, start_dispatch
from plugins.invoices.models import Dispatch, DispatchState, Invoice, InvoiceEvent, InvoiceStatus

ROOT = Path(__file__).resolve().parents[4]


# --- the API: 409 with the failing checks, and the override ------------------------------


def test_api_answers_409_with_each_failing_checks_code_and_translated_reason(
    session: Session, queue_ready, client: Client
) -> None:
    english_agent(session, client)
    invoice = failing_invoice(session, queue_ready)

    response = api_post(client, f"/api/v1/invoices/{invoice.id}/dispatch")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "checks_failed"
    assert body["detail"] == "The invoice has failing checks: give a reason to send it anyway"
    assert body["failed_checks"] == [
        {
            "code": "business_id",
            "label": "Business ID",
            "reason": "The business ID is not valid",
            "detail": "Y-tunnus 2734561-4 ei ole kelvollinen.",
        }
    ]
    assert body["dispatch"] is None
    assert dispatches_for(session, invoice) == []
    assert session.get(Invoice, invoice.id).status == InvoiceStatus.unsent


def test_the_409_reason_is_in_the_agents_language(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = failing_invoice(session, queue_ready)  # logged_in is a Finnish-speaking admin
    [check] = api_post(logged_in, f"/api/v1/invoices/{invoice.id}/dispatch").json()["failed_checks"]
    assert (check["label"], check["reason"]) == (
        "Y-tunnus",
        "Y-tunnus ei ole kelvollinen",
    )


def test_the_409_body_is_documented_in_openapi(client: Client, logged_in: Client) -> None:
    spec = logged_in.get("/api/v1/openapi.json").json()
    dispatch = spec["paths"]["/api/v1/invoices/{invoice_id}/dispatch"]["post"]
    ref = dispatch["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    conflict = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"detail", "code", "failed_checks", "dispatch"} <= set(conflict["properties"])
    failed = spec["components"]["schemas"]["FailedCheckOut"]["properties"]
    assert set(failed) == {"code", "label", "reason", "detail"}
    assert "override_reason" in spec["components"]["schemas"]["DispatchIn"]["properties"]
    clean = spec["paths"]["/api/v1/invoices/dispatch-clean"]["post"]
    assert clean["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/CleanSummary"
    )


@pytest.mark.parametrize("reason", ["", "   \n\t "])
def test_a_blank_override_reason_is_no_reason(
    session: Session, queue_ready, logged_in: Client, reason: str
) -> None:
    invoice = failing_invoice(session, queue_ready)
    response = api_post(
        logged_in, f"/api/v1/invoices/{invoice.id}/dispatch", json={"override_reason": reason}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "checks_failed"
    assert dispatches_for(session, invoice) == []


def test_an_override_reason_over_500_characters_is_refused(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = failing_invoice(session, queue_ready)
    url = f"/api/v1/invoices/{invoice.id}/dispatch"
    response = api_post(logged_in, url, json={"override_reason": "x" * 501})
    assert response.status_code == 400
    assert response.json()["code"] == "override_reason_too_long"
    assert dispatches_for(session, invoice) == []
    # Trimmed first: 500 characters inside spaces are fine.
    ok = api_post(logged_in, url, json={"override_reason": "  " + "x" * 500 + "  "})
    assert ok.status_code == 200, ok.text


def test_control_characters_leave_the_reason(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = failing_invoice(session, queue_ready)
    response = api_post(
        logged_in,
        f"/api/v1/invoices/{invoice.id}/dispatch",
        json={"method": "email", "reason": "Pyysi\x00 postia", "override_reason": "Ok\x00\r\n"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["dispatch"]["override_reason"] == "Pyysi postia"
    [event] = session.exec(
        select(InvoiceEvent).where(InvoiceEvent.kind == "checks_overridden")
    ).all()
    assert event.details["reason"] == "Ok"


def test_an_override_sends_and_the_history_keeps_reason_agent_and_time(
    session: Session, queue_ready, client: Client
) -> None:
    agent = english_agent(session, client)
    invoice = failing_invoice(session, queue_ready)

    response = api_post(
        client,
        f"/api/v1/invoices/{invoice.id}/dispatch",
        json={"override_reason": "  Customer confirmed the address by phone  "},
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "dispatching"
    [dispatch] = dispatches_for(session, invoice)
    detail = client.get(f"/api/v1/invoices/{invoice.id}").json()
    [event] = [e for e in detail["history"] if e["kind"] == "checks_overridden"]
    assert event["agent"] == agent.email
    assert event["at"] == detail["dispatch"]["created_at"]
    assert event["details"]["reason"] == "Customer confirmed the address by phone"
    assert event["details"]["dispatch"] == dispatch.id
    assert [c["name"] for c in event["details"]["failed"]] == ["business_id"]
    [audit] = session.exec(
        select(AuditEvent).where(AuditEvent.action == "invoices.dispatch.checks_overridden")
    ).all()
    assert audit.agent_id == agent.id
    assert audit.details["reason"] == "Customer confirmed the address by phone"

    page = client.get(f"/invoices/{invoice.id}").text  # English
    assert "Sent despite failing checks" in page
    assert "Customer confirmed the address by phone" in page


def test_the_invoice_page_shows_the_override_in_finnish(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = failing_invoice(session, queue_ready)
    api_post(
        logged_in,
        f"/api/v1/invoices/{invoice.id}/dispatch",
        json={"override_reason": "Asiakas vahvisti osoitteen"},
    )
    page = logged_in.get(f"/invoices/{invoice.id}").text
    assert "Lähetetty virheellisin tarkistuksin" in page
    assert "Asiakas vahvisti osoitteen" in page


def test_a_clean_invoice_goes_without_a_reason_and_nothing_is_recorded_as_overridden(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = clean_invoice(session, queue_ready)
    response = api_post(logged_in, f"/api/v1/invoices/{invoice.id}/dispatch")
    assert response.status_code == 200
    kinds = [e.kind for e in session.exec(select(InvoiceEvent))]
    assert "checks_overridden" not in kinds


def test_the_checks_run_again_at_send_time(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = clean_invoice(session, queue_ready)
    # The stored checks still say ok; the data under them no longer passes.
    invoice.reference = "1234561"
    session.add(invoice)
    session.commit()
    assert invoice.checks_ok

    response = api_post(logged_in, f"/api/v1/invoices/{invoice.id}/dispatch")

    assert response.status_code == 409
    assert [c["code"] for c in response.json()["failed_checks"]] == ["reference"]
    assert dispatches_for(session, invoice) == []


def test_a_korjattava_invoice_never_goes_even_with_a_reason(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = clean_invoice(session, queue_ready)
    invoice.status = InvoiceStatus.korjattava
    session.add(invoice)
    session.commit()
    response = api_post(
        logged_in,
        f"/api/v1/invoices/{invoice.id}/dispatch",
        json={"override_reason": "Lähetä silti"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "korjattava"
    assert dispatches_for(session, invoice) == []


# --- no route goes around the gate ----------------------------------------------------


def test_the_page_form_refuses_without_a_reason_and_shows_the_checks_in_place(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = failing_invoice(session, queue_ready)
    url = f"/invoices/{invoice.id}/dispatch"

    plain = logged_in.form(url, {"key": "k1"}, follow_redirects=False)
    assert plain.status_code == 409
    assert "tarkistuksia" in plain.text
    swapped = logged_in.form(url, {"key": "k2"}, headers={"HX-Request": "true"})
    assert swapped.status_code == 200
    assert 'data-testid="dispatch-refused"' in swapped.text
    assert 'data-check="business_id"' in swapped.text
    assert 'name="override_reason"' in swapped.text
    blank = logged_in.form(url, {"key": "k3", "override_reason": "   "})
    assert blank.status_code == 409
    assert dispatches_for(session, invoice) == []

    sent = logged_in.form(
        url, {"key": "k4", "override_reason": "Osoite tarkistettu"}, follow_redirects=False
    )
    assert sent.status_code == 303
    assert len(dispatches_for(session, invoice)) == 1


def test_another_method_with_its_reason_is_no_override_of_the_checks(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = failing_invoice(session, queue_ready)
    by_form = logged_in.form(
        f"/invoices/{invoice.id}/dispatch",
        {"method": "email", "reason": "Asiakas pyysi sähköpostia", "key": "m1"},
        follow_redirects=False,
    )
    by_api = api_post(
        logged_in,
        f"/api/v1/invoices/{invoice.id}/dispatch",
        json={"method": "email", "reason": "Asiakas pyysi sähköpostia"},
    )
    assert by_form.status_code == by_api.status_code == 409
    assert dispatches_for(session, invoice) == []


def test_the_service_itself_refuses(session: Session, queue_ready) -> None:
    invoice = failing_invoice(session, queue_ready)
    with pytest.raises(ChecksFailed) as refused:
        start_dispatch(session, invoice=invoice, agent=factories.agent(session))
    assert [c.name for c in refused.value.failed] == ["business_id"]


def test_only_start_dispatch_creates_a_dispatch() -> None:
    """The gate sits in start_dispatch: no other production code may make a Dispatch row."""
    makers = []
    for path in (ROOT / "plugins").rglob("*.py"):
        if "sandboxes" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"\bDispatch\(\s*\n?\s*invoice_id", text) or "insert(Dispatch)" in text:
            makers.append(path.relative_to(ROOT).as_posix())
    assert makers == ["plugins/invoices/dispatch/service.py"]
    service = (ROOT / "plugins/invoices/dispatch/service.py").read_text(encoding="utf-8")
    new_dispatch = service[service.index("def _new_dispatch(") :]
    assert new_dispatch.index("gate(session, invoice") < new_dispatch.index("dispatch = Dispatch(")


def test_a_double_click_on_send_anyway_sends_once(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = failing_invoice(session, queue_ready)
    form = {"key": "same-panel", "override_reason": "Tarkistettu"}
    answers = [
        logged_in.form(f"/invoices/{invoice.id}/dispatch", form, headers={"HX-Request": "true"})
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert all('data-state="waiting"' in a.text for a in answers)
    assert len(dispatches_for(session, invoice)) == 1
    overrides = session.exec(
        select(InvoiceEvent).where(InvoiceEvent.kind == "checks_overridden")
    ).all()
    assert len(overrides) == 1


# --- a retry of a dispatch that failed before anything went out --------------------------


def failed_before_sending(session: Session, invoice: Invoice) -> Dispatch:
    """A started dispatch that failed safely: the invoice is back in the queue."""
    dispatch = start_dispatch(session, invoice=invoice, agent=factories.agent(session))
    dispatch.state = DispatchState.failed
    dispatch.failed_step = "fetch_pdf"
    invoice.status = InvoiceStatus.unsent
    session.add_all([dispatch, invoice])
    session.commit()
    return dispatch


def test_retrying_a_safely_failed_dispatch_passes_the_gate_again(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = clean_invoice(session, queue_ready)
    dispatch = failed_before_sending(session, invoice)
    invoice.reference = "1234561"  # changed in Netvisor since: the reference check fails
    session.add(invoice)
    session.commit()

    refused = logged_in.form(f"/invoices/dispatches/{dispatch.id}/retry", {})
    assert refused.status_code == 409
    session.expire_all()
    assert (dispatch.state, invoice.status) == ("failed", "unsent")

    invoice.status = InvoiceStatus.korjattava
    session.add(invoice)
    session.commit()
    refused = logged_in.form(f"/invoices/dispatches/{dispatch.id}/retry", {})
    assert refused.status_code == 409
    session.expire_all()
    assert (dispatch.state, invoice.status) == ("failed", "korjattava")


def test_retrying_a_clean_safely_failed_dispatch_resumes_it(
    session: Session, queue_ready, logged_in: Client
) -> None:
    invoice = clean_invoice(session, queue_ready)
    dispatch = failed_before_sending(session, invoice)
    answer = logged_in.form(f"/invoices/dispatches/{dispatch.id}/retry", {}, follow_redirects=False)
    assert answer.status_code == 303
    session.expire_all()
    assert (dispatch.state, invoice.status) == ("queued", "dispatching")
