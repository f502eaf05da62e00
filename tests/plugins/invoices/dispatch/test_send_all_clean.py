"""Send all clean: every clean invoice goes in one action (page and API), the rest stay
with their reasons, Korjattava never goes, and a double submit sends once."""

from __future__ import annotations

import threading
from dataclasses import replace

import factories
import pytest
from invoice_dispatch import (
    add_invoice,
    api_post,
    clean_invoice,
    customer,
    dispatches_for,
    english_agent,
    etunnus_user,
    failing_invoice,
    synced,
)
from sqlmodel import Session, select
from webclient import Client

from helpdesk.db import new_session
from helpdesk.models import Agent
from plugins.invoices.dispatch import CleanRun, dispatch_clean
from plugins.invoices.models import Dispatch, Invoice, InvoiceStatus


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
    session: Session, queue_ready, client: Client
) -> None:
    english_agent(session, client)
    clean, failing, korjattava = three_invoices(session, queue_ready)

    response = api_post(client, "/api/v1/invoices/dispatch-clean")

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
    assert len(dispatches_for(session, clean)) == 1
    assert dispatches_for(session, failing) == dispatches_for(session, korjattava) == []


def test_send_all_clean_twice_sends_once(session: Session, queue_ready, logged_in: Client) -> None:
    clean, failing, _ = three_invoices(session, queue_ready)
    ids = {"ids": [clean.id, failing.id]}

    first = api_post(logged_in, "/api/v1/invoices/dispatch-clean", json=ids).json()
    again = api_post(logged_in, "/api/v1/invoices/dispatch-clean", json=ids).json()

    assert [s["id"] for s in first["sent"]] == [clean.id]
    assert again["sent"] == []
    assert {s["id"]: s["code"] for s in again["skipped"]} == {
        clean.id: "dispatch_active",
        failing.id: "checks_failed",
    }
    assert len(dispatches_for(session, clean)) == 1


def test_send_all_clean_with_the_same_key_answers_the_same_dispatches(
    session: Session, queue_ready, logged_in: Client
) -> None:
    clean = clean_invoice(session, queue_ready)
    headers = {"X-CSRF-Token": logged_in.csrf, "Idempotency-Key": "press-1"}
    first = logged_in.post("/api/v1/invoices/dispatch-clean", headers=headers).json()
    again = logged_in.post(
        "/api/v1/invoices/dispatch-clean", headers=headers, json={"ids": [clean.id]}
    ).json()
    assert first["sent"][0]["dispatch"]["id"] == again["sent"][0]["dispatch"]["id"]
    assert len(dispatches_for(session, clean)) == 1


def test_send_all_clean_on_the_queue_page(session: Session, queue_ready, logged_in: Client) -> None:
    clean, failing, korjattava = three_invoices(session, queue_ready)
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
    assert len(dispatches_for(session, clean)) == 1
    assert dispatches_for(session, failing) == []


def test_send_all_clean_needs_the_csrf_token(
    session: Session, queue_ready, logged_in: Client
) -> None:
    clean = clean_invoice(session, queue_ready)
    response = logged_in.post("/invoices/dispatch-clean", data={"ids": [str(clean.id)]})
    assert response.status_code == 403
    assert dispatches_for(session, clean) == []


def test_send_all_clean_leaves_a_korjattava_invoice_by_its_id_too(
    session: Session, queue_ready
) -> None:
    _, _, korjattava = three_invoices(session, queue_ready)
    run = dispatch_clean(session, agent=factories.agent(session), invoice_ids=[korjattava.id])
    assert run.sent == []
    assert [(k.invoice.id, k.code) for k in run.skipped] == [(korjattava.id, "korjattava")]


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
