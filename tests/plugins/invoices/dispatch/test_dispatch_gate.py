"""Dispatch safety: failing checks stop a send on every route unless the agent says why;
"send all clean" sends only clean invoices and says what it left and why; exactly once."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path

import factories
import pytest
from invoice_dispatch import add_invoice, customer, etunnus_user, synced
from sqlmodel import Session, select
from webclient import Client, login

from helpdesk.db import new_session
from helpdesk.models import Agent, AuditEvent
from plugins.invoices.dispatch import ChecksFailed, CleanRun, dispatch_clean, start_dispatch
from plugins.invoices.models import Dispatch, DispatchState, Invoice, InvoiceEvent, InvoiceStatus

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def prepared(session: Session, bare_sandbox, invoice_settings_env, data_dir):
    invoice_settings_env.setenv("HELPDESK_NETVISOR_URL", bare_sandbox.url)
    factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    etunnus_user(session, "tiina@example.fi")
    return bare_sandbox


def clean_invoice(session: Session, sandbox) -> Invoice:
    """A post invoice whose checks all pass."""
    invoice = synced(session, sandbox, add_invoice(sandbox, "post").invoice_number)
    assert invoice.checks_ok, invoice.failed_checks
    return invoice


def failing_invoice(session: Session, sandbox) -> Invoice:
    """A post invoice whose customer's business ID is wrong: business_id fails."""
    buyer = replace(customer(602), name="Toinen Oy", business_id="2734561-4")
    invoice = synced(session, sandbox, add_invoice(sandbox, "post", buyer=buyer).invoice_number)
    assert [c["name"] for c in invoice.failed_checks] == ["business_id"]
    return invoice


def dispatches(session: Session, invoice: Invoice) -> list[Dispatch]:
    session.expire_all()
    return list(session.exec(select(Dispatch).where(Dispatch.invoice_id == invoice.id)))


def api(client: Client, url: str, **kwargs):
    return client.post(url, headers={"X-CSRF-Token": client.csrf}, **kwargs)


def english_agent(session: Session, client: Client) -> Agent:
    agent = factories.agent(session, language="en")
    login(client, agent)
    return agent


# --- the API: 409 with the failing checks, and the override ------------------------------


def test_api_answers_409_with_each_failing_checks_code_and_translated_reason(
    session: Session, prepared, client: Client
) -> None:
    english_agent(session, client)
    invoice = failing_invoice(session, prepared)

    response = api(client, f"/api/v1/invoices/{invoice.id}/dispatch")

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
    assert dispatches(session, invoice) == []
    assert session.get(Invoice, invoice.id).status == InvoiceStatus.unsent


def test_the_409_reason_is_in_the_agents_language(
    session: Session, prepared, logged_in: Client
) -> None:
    invoice = failing_invoice(session, prepared)  # logged_in is a Finnish-speaking admin
    [check] = api(logged_in, f"/api/v1/invoices/{invoice.id}/dispatch").json()["failed_checks"]
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
    session: Session, prepared, logged_in: Client, reason: str
) -> None:
    invoice = failing_invoice(session, prepared)
    response = api(
        logged_in, f"/api/v1/invoices/{invoice.id}/dispatch", json={"override_reason": reason}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "checks_failed"
    assert dispatches(session, invoice) == []


def test_an_override_reason_over_500_characters_is_refused(
    session: Session, prepared, logged_in: Client
) -> None:
    invoice = failing_invoice(session, prepared)
    url = f"/api/v1/invoices/{invoice.id}/dispatch"
    response = api(logged_in, url, json={"override_reason": "x" * 501})
    assert response.status_code == 400
    assert response.json()["code"] == "override_reason_too_long"
    assert dispatches(session, invoice) == []
    # Trimmed first: 500 characters inside spaces are fine.
    ok = api(logged_in, url, json={"override_reason": "  " + "x" * 500 + "  "})
    assert ok.status_code == 200, ok.text


def test_an_override_sends_and_the_history_keeps_reason_agent_and_time(
    session: Session, prepared, client: Client
) -> None:
    agent = english_agent(session, client)
    invoice = failing_invoice(session, prepared)

    response = api(
        client,
        f"/api/v1/invoices/{invoice.id}/dispatch",
        json={"override_reason": "  Customer confirmed the address by phone  "},
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "dispatching"
    [dispatch] = dispatches(session, invoice)
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
    session: Session, prepared, logged_in: Client
) -> None:
    invoice = failing_invoice(session, prepared)
    api(
        logged_in,
        f"/api/v1/invoices/{invoice.id}/dispatch",
        json={"override_reason": "Asiakas vahvisti osoitteen"},
    )
    page = logged_in.get(f"/invoices/{invoice.id}").text
    assert "Lähetetty virheellisin tarkistuksin" in page
    assert "Asiakas vahvisti osoitteen" in page


def test_a_clean_invoice_goes_without_a_reason_and_nothing_is_recorded_as_overridden(
    session: Session, prepared, logged_in: Client
) -> None:
    invoice = clean_invoice(session, prepared)
    response = api(logged_in, f"/api/v1/invoices/{invoice.id}/dispatch")
    assert response.status_code == 200
    kinds = [e.kind for e in session.exec(select(InvoiceEvent))]
    assert "checks_overridden" not in kinds


def test_the_checks_run_again_at_send_time(session: Session, prepared, logged_in: Client) -> None:
    invoice = clean_invoice(session, prepared)
    # The stored checks still say ok; the data under them no longer passes.
    invoice.reference = "1234561"
    session.add(invoice)
    session.commit()
    assert invoice.checks_ok

    response = api(logged_in, f"/api/v1/invoices/{invoice.id}/dispatch")

    assert response.status_code == 409
    assert [c["code"] for c in response.json()["failed_checks"]] == ["reference"]
    assert dispatches(session, invoice) == []


def test_a_korjattava_invoice_never_goes_even_with_a_reason(
    session: Session, prepared, logged_in: Client
) -> None:
    invoice = clean_invoice(session, prepared)
    invoice.status = InvoiceStatus.korjattava
    session.add(invoice)
    session.commit()
    response = api(
        logged_in,
        f"/api/v1/invoices/{invoice.id}/dispatch",
        json={"override_reason": "Lähetä silti"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "korjattava"
    assert dispatches(session, invoice) == []


# --- no route goes around the gate ----------------------------------------------------


def test_the_page_form_refuses_without_a_reason_and_shows_the_checks_in_place(
    session: Session, prepared, logged_in: Client
) -> None:
    invoice = failing_invoice(session, prepared)
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
    assert dispatches(session, invoice) == []

    sent = logged_in.form(
        url, {"key": "k4", "override_reason": "Osoite tarkistettu"}, follow_redirects=False
    )
    assert sent.status_code == 303
    assert len(dispatches(session, invoice)) == 1


def test_another_method_with_its_reason_is_no_override_of_the_checks(
    session: Session, prepared, logged_in: Client
) -> None:
    invoice = failing_invoice(session, prepared)
    by_form = logged_in.form(
        f"/invoices/{invoice.id}/dispatch",
        {"method": "email", "reason": "Asiakas pyysi sähköpostia", "key": "m1"},
        follow_redirects=False,
    )
    by_api = api(
        logged_in,
        f"/api/v1/invoices/{invoice.id}/dispatch",
        json={"method": "email", "reason": "Asiakas pyysi sähköpostia"},
    )
    assert by_form.status_code == by_api.status_code == 409
    assert dispatches(session, invoice) == []


def test_the_service_itself_refuses(session: Session, prepared) -> None:
    invoice = failing_invoice(session, prepared)
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


# --- send all clean --------------------------------------------------------------------


def three_invoices(session: Session, sandbox) -> tuple[Invoice, Invoice, Invoice]:
    clean = clean_invoice(session, sandbox)
    failing = failing_invoice(session, sandbox)
    korjattava = synced(
        session, sandbox, add_invoice(sandbox, "post", buyer=customer(603)).invoice_number
    )
    korjattava.status = InvoiceStatus.korjattava
    session.add(korjattava)
    session.commit()
    return clean, failing, korjattava


def test_api_send_all_clean_sends_the_clean_and_says_why_the_rest_stayed(
    session: Session, prepared, client: Client
) -> None:
    english_agent(session, client)
    clean, failing, korjattava = three_invoices(session, prepared)

    response = api(client, "/api/v1/invoices/dispatch-clean")

    assert response.status_code == 200, response.text
    body = response.json()
    assert [(s["id"], s["method"], s["sum"]) for s in body["sent"]] == [
        (clean.id, "post", "251.00")
    ]
    assert body["sent"][0]["recipient"].startswith("Testiyhtiö Oy, Testikatu 1")
    skipped = {s["id"]: s for s in body["skipped"]}
    assert set(skipped) == {failing.id, korjattava.id}
    assert skipped[failing.id]["code"] == "checks_failed"
    assert skipped[failing.id]["reason"] == "Failing checks"
    assert [c["code"] for c in skipped[failing.id]["failed_checks"]] == ["business_id"]
    assert skipped[korjattava.id]["code"] == "korjattava"
    assert "Korjattava" in skipped[korjattava.id]["reason"]
    assert len(dispatches(session, clean)) == 1
    assert dispatches(session, failing) == dispatches(session, korjattava) == []


def test_send_all_clean_twice_sends_once(session: Session, prepared, logged_in: Client) -> None:
    clean, failing, _ = three_invoices(session, prepared)
    ids = {"ids": [clean.id, failing.id]}

    first = api(logged_in, "/api/v1/invoices/dispatch-clean", json=ids).json()
    again = api(logged_in, "/api/v1/invoices/dispatch-clean", json=ids).json()

    assert [s["id"] for s in first["sent"]] == [clean.id]
    assert again["sent"] == []
    assert {s["id"]: s["code"] for s in again["skipped"]} == {
        clean.id: "dispatch_active",
        failing.id: "checks_failed",
    }
    assert len(dispatches(session, clean)) == 1


def test_send_all_clean_with_the_same_key_answers_the_same_dispatches(
    session: Session, prepared, logged_in: Client
) -> None:
    clean = clean_invoice(session, prepared)
    headers = {"X-CSRF-Token": logged_in.csrf, "Idempotency-Key": "press-1"}
    first = logged_in.post("/api/v1/invoices/dispatch-clean", headers=headers).json()
    again = logged_in.post(
        "/api/v1/invoices/dispatch-clean", headers=headers, json={"ids": [clean.id]}
    ).json()
    assert first["sent"][0]["dispatch"]["id"] == again["sent"][0]["dispatch"]["id"]
    assert len(dispatches(session, clean)) == 1


def test_send_all_clean_on_the_queue_page(session: Session, prepared, logged_in: Client) -> None:
    clean, failing, korjattava = three_invoices(session, prepared)
    queue = logged_in.get("/invoices").text
    assert 'data-testid="send-clean"' in queue
    form = {"key": "press-9", "ids": [str(clean.id), str(failing.id)]}

    first = logged_in.form("/invoices/dispatch-clean", form, headers={"HX-Request": "true"})
    double = logged_in.form("/invoices/dispatch-clean", form, headers={"HX-Request": "true"})

    for response in (first, double):
        assert response.status_code == 200
        assert 'data-testid="clean-summary"' in response.text
        assert 'id="invoice-queue"' in response.text
        sent = response.text.split('data-testid="clean-sent"')[1].split("</ul>")[0]
        assert f'data-invoice="{clean.id}"' in sent
        skipped = response.text.split('data-testid="clean-skipped"')[1].split("</ul>")[0]
        assert f'data-invoice="{failing.id}" data-code="checks_failed"' in skipped
        assert "Y-tunnus" in skipped
        assert f'data-invoice="{korjattava.id}"' not in skipped  # not on the agent's page
    assert len(dispatches(session, clean)) == 1
    assert dispatches(session, failing) == []


def test_send_all_clean_needs_the_csrf_token(session: Session, prepared, logged_in: Client) -> None:
    clean = clean_invoice(session, prepared)
    response = logged_in.post("/invoices/dispatch-clean", data={"ids": [str(clean.id)]})
    assert response.status_code == 403
    assert dispatches(session, clean) == []


def test_send_all_clean_leaves_a_korjattava_invoice_by_its_id_too(
    session: Session, prepared
) -> None:
    _, _, korjattava = three_invoices(session, prepared)
    run = dispatch_clean(session, agent=factories.agent(session), invoice_ids=[korjattava.id])
    assert run.sent == []
    assert [(k.invoice.id, k.code) for k in run.skipped] == [(korjattava.id, "korjattava")]


def test_a_double_click_on_send_anyway_sends_once(
    session: Session, prepared, logged_in: Client
) -> None:
    invoice = failing_invoice(session, prepared)
    form = {"key": "same-panel", "override_reason": "Tarkistettu"}
    answers = [
        logged_in.form(f"/invoices/{invoice.id}/dispatch", form, headers={"HX-Request": "true"})
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert all('data-state="waiting"' in a.text for a in answers)
    assert len(dispatches(session, invoice)) == 1
    overrides = session.exec(
        select(InvoiceEvent).where(InvoiceEvent.kind == "checks_overridden")
    ).all()
    assert len(overrides) == 1


@pytest.mark.slow
def test_two_send_all_clean_at_once_send_each_invoice_once(
    committed_url, bare_sandbox, invoice_settings_env, data_dir
) -> None:
    invoice_settings_env.setenv("HELPDESK_NETVISOR_URL", bare_sandbox.url)
    with new_session() as session:
        factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
        etunnus_user(session, "tiina@example.fi")
        ids = []
        for n in range(3):
            buyer = replace(customer(610 + n), name=f"Yhtiö {n} Oy")
            added = add_invoice(bare_sandbox, "post", buyer=buyer)
            ids.append(synced(session, bare_sandbox, added.invoice_number).id)
        agents = [factories.agent(session).id for _ in range(2)]
    barrier = threading.Barrier(len(agents))
    runs: list[tuple[list[int], list[str]]] = []

    def press(agent_id: int) -> None:
        with new_session() as own:
            agent = own.get(Agent, agent_id)
            barrier.wait()
            run: CleanRun = dispatch_clean(own, agent=agent, invoice_ids=ids)
            runs.append(([s.invoice.id for s in run.sent], [k.code for k in run.skipped]))

    threads = [threading.Thread(target=press, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(runs) == 2
    assert sorted(i for sent, _ in runs for i in sent) == sorted(ids)
    assert {code for _, skipped in runs for code in skipped} <= {"dispatch_active"}
    with new_session() as session:
        assert len(session.exec(select(Dispatch)).all()) == 3


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
    session: Session, prepared, logged_in: Client
) -> None:
    invoice = clean_invoice(session, prepared)
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
    session: Session, prepared, logged_in: Client
) -> None:
    invoice = clean_invoice(session, prepared)
    dispatch = failed_before_sending(session, invoice)
    answer = logged_in.form(f"/invoices/dispatches/{dispatch.id}/retry", {}, follow_redirects=False)
    assert answer.status_code == 303
    session.expire_all()
    assert (dispatch.state, invoice.status) == ("queued", "dispatching")
