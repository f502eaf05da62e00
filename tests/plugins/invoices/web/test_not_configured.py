"""Production without Netvisor settings: shown as not configured, its actions off, the rest on."""

from __future__ import annotations

from datetime import UTC, datetime

import factories
import pytest
from netvisor_sandbox import NetvisorSandbox
from sqlmodel import Session, select
from webclient import Client

from helpdesk.services import agents as agent_service
from helpdesk.settings import get_settings
from plugins.invoices.models import Dispatch, Invoice
from plugins.invoices.sandboxes.demo import ensure_demo_users
from plugins.invoices.sync import sync_unsent

NOT_CONFIGURED_FI = "Netvisoria ei ole määritetty"
NOT_CONFIGURED_EN = "Netvisor is not configured"


@pytest.fixture
def unconfigured(
    session: Session, netvisor_env: NetvisorSandbox, monkeypatch: pytest.MonkeyPatch
) -> Invoice:
    """Invoices synced earlier; now production, and no HELPDESK_NETVISOR_* at all."""
    ensure_demo_users(session)
    assert sync_unsent(session, netvisor_env.client(), datetime(2026, 11, 26, 8, 30, tzinfo=UTC)).ok
    monkeypatch.setattr(get_settings(), "environment", "production")
    monkeypatch.delenv("HELPDESK_NETVISOR_URL")
    return session.exec(select(Invoice).where(Invoice.delivery_method == "email")).first()


def test_the_queue_says_not_configured_and_disables_netvisor_actions(
    session: Session, logged_in: Client, unconfigured: Invoice
) -> None:
    page = logged_in.get("/invoices")
    assert page.status_code == 200
    assert 'data-testid="netvisor-not-configured"' in page.text and NOT_CONFIGURED_FI in page.text
    assert 'data-testid="sync-now" disabled' in page.text
    invoice_page = logged_in.get(f"/invoices/{unconfigured.id}")
    assert invoice_page.status_code == 200
    assert 'data-testid="dispatch-button" disabled' in invoice_page.text
    # The rest of the helpdesk works as ever.
    assert logged_in.get("/tickets").status_code == 200
    assert logged_in.get("/api/v1/invoices").status_code == 200


def test_netvisor_actions_answer_503_and_change_nothing(
    session: Session, logged_in: Client, unconfigured: Invoice
) -> None:
    headers = {"X-CSRF-Token": logged_in.csrf}
    for path in ("dispatch", "resolve"):
        response = logged_in.post(f"/api/v1/invoices/{unconfigured.id}/{path}", headers=headers)
        assert response.status_code == 503
        problem = response.json()
        assert problem["code"] == "not_configured"
        assert NOT_CONFIGURED_FI in problem["detail"]
    sync = logged_in.form("/invoices/sync", {})
    assert sync.status_code == 503 and NOT_CONFIGURED_FI in sync.text
    form = logged_in.form(f"/invoices/{unconfigured.id}/dispatch", {})
    assert form.status_code == 503
    assert logged_in.get(f"/invoices/{unconfigured.id}/pdf").status_code == 503
    assert session.exec(select(Dispatch)).all() == []


def test_a_script_reads_the_reason_in_its_agents_language(
    session: Session, client: Client, unconfigured: Invoice
) -> None:
    token = agent_service.create_token(session, agent=factories.agent(session, language="en"))
    response = client.post(
        f"/api/v1/invoices/{unconfigured.id}/dispatch",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 503
    assert NOT_CONFIGURED_EN in response.json()["detail"]


def test_strangers_still_get_401_not_a_hint(client: Client, unconfigured: Invoice) -> None:
    response = client.post(f"/api/v1/invoices/{unconfigured.id}/dispatch")
    assert response.status_code == 401
