"""Saved views: one's own and shared ones, only admins share, counts follow the filters."""

from __future__ import annotations

import factories
import pytest

from helpdesk.services import saved_views, tags
from helpdesk.services.errors import NotFound, PermissionDenied, ServiceError


def test_personal_and_shared_views(session, admin):
    agent = factories.agent(session)
    colleague = factories.agent(session)
    mine = saved_views.create(
        session,
        agent=agent,
        name="Minun laskuni",
        filters={"tag": "Lasku", "assignee": "me", "x": "y"},
        shared=False,
    )
    assert mine.filters == {"tag": "Lasku", "assignee": "me"}  # only inbox filters are kept
    team = saved_views.create(
        session, agent=admin, name="Tiimin kiireet", filters={"status": ""}, shared=True
    )
    with pytest.raises(PermissionDenied):
        saved_views.create(session, agent=agent, name="Jaettu", filters={}, shared=True)
    assert [v.name for v in saved_views.list_views(session, agent)] == [
        "Tiimin kiireet",
        "Minun laskuni",
    ]
    assert [v.name for v in saved_views.list_views(session, colleague)] == ["Tiimin kiireet"]
    with pytest.raises(NotFound):
        saved_views.get_view(session, mine.id, colleague)
    with pytest.raises(PermissionDenied):
        saved_views.delete(session, view=team, agent=agent)
    with pytest.raises(ServiceError):
        saved_views.create(session, agent=agent, name=" ", filters={}, shared=False)
    saved_views.update(session, view=mine, agent=agent, name="Laskut")
    saved_views.delete(session, view=mine, agent=agent)
    assert [v.name for v in saved_views.list_views(session, agent)] == ["Tiimin kiireet"]
    assert saved_views.url(team) == f"/tickets?status=&view={team.id}"


def test_counts_follow_each_views_filters(session, admin):
    agent = factories.agent(session)
    box = factories.mailbox(session, "info@e-tunnus.fi")
    made = [factories.ticket(session, mailbox=box) for _ in range(3)]
    factories.ticket(session)
    tags.tag_tickets(session, tickets=made[:2], name="Lasku", by=agent)
    views = [
        saved_views.create(session, agent=agent, name=name, filters=filters, shared=False)
        for name, filters in [
            ("Laskut", {"tag": "lasku", "status": "active"}),
            ("Info", {"mailbox": "info@e-tunnus.fi"}),
            ("Kaikki", {"status": ""}),
            ("Ei mitään", {"tag": "ei ole"}),
        ]
    ]
    counts = saved_views.counts(session, views, agent)
    assert [counts[v.id] for v in views] == [2, 3, 4, 0]
