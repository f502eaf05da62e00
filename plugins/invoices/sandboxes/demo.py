"""The plugin's part of ``helpdesk demo``: the sandbox's users exist, and a first sync if the
sandbox already answers (``make run`` starts it later and syncs then; see ``cli.py``)."""

from __future__ import annotations

import logging
from dataclasses import replace

import httpx
from sqlmodel import Session

from helpdesk.plugin_api import create_user, user_by_etunnus
from plugins.invoices.netvisor import NetvisorClient
from plugins.invoices.sandboxes.netvisor.data import DEMO_USERS
from plugins.invoices.settings import NetvisorNotConfigured, netvisor_settings
from plugins.invoices.sync import sync_unsent

log = logging.getLogger(__name__)


def ensure_demo_users(session: Session) -> int:
    """Create the E-tunnus users the sandbox's invoices belong to; returns how many were new."""
    created = 0
    for demo_user in DEMO_USERS:
        if user_by_etunnus(session, demo_user.number) is not None:
            continue
        create_user(
            session, etunnus=demo_user.number, name=demo_user.name, emails=[demo_user.email]
        )
        created += 1
    return created


def seed(session: Session) -> None:
    """Idempotent demo data; a missing or silent sandbox never fails the demo."""
    ensure_demo_users(session)
    try:
        settings = netvisor_settings()
    except NetvisorNotConfigured:
        return
    if not settings.uses_sandbox_defaults:
        return  # never touch a real Netvisor from the demo command
    try:
        # Only the sandbox has this page; a quick probe keeps a stopped sandbox out of the
        # sync state (it would show as a Netvisor error on the queue page).
        httpx.get(f"{settings.url}/_sandbox/state", timeout=1.0).raise_for_status()
    except httpx.HTTPError:
        return
    config = replace(settings.client_config(), timeout=10.0)
    try:
        with NetvisorClient(config, max_attempts=1) as client:
            result = sync_unsent(session, client)
    except Exception:  # the demo must not fail because of the sandbox
        log.info("Netvisor sandbox not synced during demo seeding", exc_info=True)
        return
    if not result.ok:
        log.info("Netvisor sandbox not reachable during demo seeding: %s", result.error)
