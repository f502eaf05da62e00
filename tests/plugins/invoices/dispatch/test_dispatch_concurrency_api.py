"""One send whatever happens: two agents at once, two workers, API retries; the API shapes."""

from __future__ import annotations

import threading

import factories
import pytest
from invoice_dispatch import add_invoice, clients, dispatch_of, etunnus_user, synced
from sqlmodel import Session, select

from helpdesk.db import new_session
from helpdesk.models import Agent
from plugins.invoices.dispatch import ActiveDispatch, start_dispatch
from plugins.invoices.dispatch.runner import run_due
from plugins.invoices.models import Dispatch, Invoice


@pytest.fixture
def prepared(bare_sandbox, invoice_settings_env, data_dir):
    invoice_settings_env.setenv("HELPDESK_NETVISOR_URL", bare_sandbox.url)
    return bare_sandbox


@pytest.mark.slow
def test_two_agents_dispatching_at_once_make_one_dispatch_and_one_send(committed_url, prepared):
    with new_session() as session:
        factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
        etunnus_user(session, "tiina@example.fi")
        added = add_invoice(prepared, "post")
        invoice_id = synced(session, prepared, added.invoice_number).id
        agents = [factories.agent(session).id for _ in range(4)]
    barrier = threading.Barrier(len(agents))
    outcomes: list[str] = []

    def click(agent_id: int) -> None:
        with new_session() as own:
            invoice = own.get(Invoice, invoice_id)
            agent = own.get(Agent, agent_id)
            barrier.wait()
            try:
                start_dispatch(own, invoice=invoice, agent=agent)
                outcomes.append("started")
            except ActiveDispatch:
                outcomes.append("active")

    threads = [threading.Thread(target=click, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["active"] * 3 + ["started"]
    with new_session() as session:
        [dispatch] = session.exec(select(Dispatch)).all()
        dispatch.state = "sent"  # as if confirmed: now the workers race to finalise
        session.add(dispatch)
        session.commit()

    def work() -> None:
        with new_session() as own:
            barrier2.wait()
            run_due(own, clients=clients(prepared))

    barrier2 = threading.Barrier(3)
    workers = [threading.Thread(target=work) for _ in range(3)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(60)
    with new_session() as session:
        assert dispatch_of(session, invoice_id).state == "user_notified"
    assert prepared.state.status_changes == [(added.netvisor_key, "unsent", "open")]
    assert len(prepared.state.comments(added.netvisor_key)) == 1


def test_api_dispatch_is_idempotent_and_409_while_active(session: Session, prepared, client):
    from webclient import login

    factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    etunnus_user(session, "tiina@example.fi")
    invoice = synced(session, prepared, add_invoice(prepared, "post").invoice_number)
    agent = factories.agent(session)
    login(client, agent)
    headers = {"X-CSRF-Token": client.csrf, "Idempotency-Key": "abc-1"}

    first = client.post(f"/api/v1/invoices/{invoice.id}/dispatch", headers=headers)
    again = client.post(f"/api/v1/invoices/{invoice.id}/dispatch", headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["dispatch"]["id"] == again.json()["dispatch"]["id"]
    assert first.json()["status"] == "dispatching"
    assert first.json()["dispatch"]["state"] == "waiting"

    plain = {"X-CSRF-Token": client.csrf}
    conflict = client.post(f"/api/v1/invoices/{invoice.id}/dispatch", headers=plain)
    assert conflict.status_code == 409
    assert conflict.json()["dispatch"]["id"] == first.json()["dispatch"]["id"]

    override = client.post(
        f"/api/v1/invoices/{invoice.id}/dispatch", headers=plain, json={"method": "email"}
    )
    assert override.status_code == 409  # still the one active dispatch
    detail = client.get(f"/api/v1/invoices/{invoice.id}").json()
    assert [d["state"] for d in detail["dispatches"]] == ["waiting"]
    assert any(e["kind"] == "dispatch" for e in detail["history"])
    listed = client.get("/api/v1/invoices", params={"q": invoice.number}).json()["items"]
    assert listed[0]["dispatch"]["mode"] == "print_netvisor"


def test_override_needs_a_reason_and_is_audited(session: Session, prepared, logged_in):
    factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    etunnus_user(session, "tiina@example.fi")
    invoice = synced(session, prepared, add_invoice(prepared, "post").invoice_number)
    response = logged_in.post(
        f"/api/v1/invoices/{invoice.id}/dispatch",
        headers={"X-CSRF-Token": logged_in.csrf},
        json={"method": "email"},
    )
    assert response.status_code == 400
    response = logged_in.post(
        f"/api/v1/invoices/{invoice.id}/dispatch",
        headers={"X-CSRF-Token": logged_in.csrf},
        json={"method": "email", "reason": "Asiakas pyysi sähköpostilla"},
    )
    assert response.status_code == 200
    dispatch = response.json()["dispatch"]
    assert (dispatch["method"], dispatch["override_reason"]) == (
        "email",
        "Asiakas pyysi sähköpostilla",
    )
    from helpdesk.models import AuditEvent

    [audit] = session.exec(
        select(AuditEvent).where(AuditEvent.action == "invoices.dispatch.start")
    ).all()
    assert audit.details["override_reason"] == "Asiakas pyysi sähköpostilla"


def test_the_same_idempotency_key_at_once_gives_one_dispatch_and_its_answer(
    committed_url, prepared
):
    """Four API calls with one Idempotency-Key at the same moment, each in its own thread
    and database connection: one dispatch, and every call answers with it (no 500)."""
    from webclient import Client

    from helpdesk.services import agents as agent_service
    from helpdesk.web.app import create_app

    with new_session() as session:
        factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
        etunnus_user(session, "tiina@example.fi")
        invoice_id = synced(session, prepared, add_invoice(prepared, "post").invoice_number).id
        token = agent_service.create_token(session, agent=factories.agent(session))
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "klikki-1"}
    app = create_app()
    barrier = threading.Barrier(4)
    answers: list[tuple[int, int]] = []

    def click() -> None:
        with Client(app, base_url="http://testserver", raise_server_exceptions=False) as client:
            barrier.wait()
            response = client.post(f"/api/v1/invoices/{invoice_id}/dispatch", headers=headers)
            dispatch = response.json().get("dispatch") or {}
            answers.append((response.status_code, dispatch.get("id", 0)))

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with new_session() as session:
        [dispatch] = session.exec(select(Dispatch)).all()
    assert answers == [(200, dispatch.id)] * 4
