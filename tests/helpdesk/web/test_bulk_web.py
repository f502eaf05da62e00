"""The inbox's bulk bar, tags on the ticket page and the admins' tags page, saved views."""

from __future__ import annotations

import json

import factories
import lxml.html
from sqlmodel import select
from webclient import login

from helpdesk.models import SavedView, Tag, Ticket, TicketStatus
from helpdesk.services import saved_views, tags

HX = {"HX-Request": "true"}


def test_one_post_closes_the_ticked_tickets_and_says_how_many(session, logged_in):
    made = [factories.ticket(session, subject=f"Asia {i}") for i in range(3)]
    page = lxml.html.fromstring(logged_in.get("/tickets").text)
    boxes = page.xpath("//input[@name='ids'][@form='bulk-form']/@value")
    assert sorted(int(b) for b in boxes) == sorted(t.id for t in made)
    assert page.xpath("//form[@id='bulk-form']")  # the boxes' form is on the page
    response = logged_in.post(
        "/tickets/bulk",
        data={
            "ids": [str(made[0].id), str(made[1].id)],
            "action": "status:closed",
            "csrf_token": logged_in.csrf,
        },
        headers=HX,
    )
    assert response.status_code == 200
    assert "2 tikettiä suljettu" in response.text
    assert "tickets-changed" in json.loads(response.headers["HX-Trigger"])
    session.expire_all()
    assert [session.get(Ticket, t.id).status for t in made] == [
        TicketStatus.closed,
        TicketStatus.closed,
        TicketStatus.open,
    ]


def test_without_javascript_the_form_returns_to_the_same_view(session, logged_in):
    ticket = factories.ticket(session)
    response = logged_in.post(
        "/tickets/bulk",
        data={
            "ids": [str(ticket.id)],
            "action": "add_tag",
            "tag": "Lasku",
            "back": "/tickets?status=open",
            "csrf_token": logged_in.csrf,
        },
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/tickets?status=open")
    # The tag shows on the row and filters the list.
    listed = logged_in.get("/tickets?tag=lasku").text
    assert f'data-ticket="{ticket.id}"' in listed and "chip tag" in listed
    # "back" never leads off the inbox.
    off = logged_in.post(
        "/tickets/bulk",
        data={
            "ids": [str(ticket.id)],
            "action": "assign",
            "assignee": "me",
            "back": "https://evil.example/",
            "csrf_token": logged_in.csrf,
        },
        follow_redirects=False,
    )
    assert off.headers["location"] == "/tickets"


def test_bulk_needs_the_csrf_token_and_a_selection(session, logged_in):
    ticket = factories.ticket(session)
    refused = logged_in.post(
        "/tickets/bulk", data={"ids": [str(ticket.id)], "action": "status:closed"}, headers=HX
    )
    assert refused.status_code == 403
    empty = logged_in.post(
        "/tickets/bulk", data={"action": "status:closed", "csrf_token": logged_in.csrf}, headers=HX
    )
    assert empty.status_code == 400
    assert "Valitse vähintään yksi tiketti" in empty.text
    nobody = logged_in.post(
        "/tickets/bulk",
        data={
            "ids": [str(ticket.id)],
            "action": "assign",
            "assignee": "",
            "csrf_token": logged_in.csrf,
        },
        headers=HX,
    )
    assert nobody.status_code == 400
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == TicketStatus.open


def test_tags_on_the_ticket_page(session, logged_in):
    ticket = factories.ticket(session)
    added = logged_in.post(
        f"/tickets/{ticket.id}/tags",
        data={"tag": "Kiire", "csrf_token": logged_in.csrf},
        headers=HX,
    )
    assert added.status_code == 200
    assert 'class="chip tag"' in added.text and "Kiire" in added.text
    tag = session.exec(select(Tag)).one()
    removed = logged_in.post(
        f"/tickets/{ticket.id}/tags/{tag.id}/remove",
        data={"csrf_token": logged_in.csrf},
        headers=HX,
    )
    assert removed.status_code == 200
    assert tags.tags_by_ticket(session, [ticket.id])[ticket.id] == []


def test_admins_rename_recolour_and_delete_tags(session, logged_in, client):
    tag = tags.create(session, name="lasku", by=factories.agent(session))
    page = logged_in.get("/admin/tags")
    assert page.status_code == 200 and 'value="lasku"' in page.text
    logged_in.post(
        f"/admin/tags/{tag.id}",
        data={"name": "Lasku", "colour": "#1e7d34", "csrf_token": logged_in.csrf},
    )
    session.refresh(tag)
    assert (tag.name, tag.colour) == ("Lasku", "#1e7d34")
    logged_in.post("/admin/tags", data={"name": "Uusi", "csrf_token": logged_in.csrf})
    logged_in.post(f"/admin/tags/{tag.id}/delete", data={"csrf_token": logged_in.csrf})
    session.expire_all()
    assert [t.name for t in tags.list_tags(session)] == ["Uusi"]


def test_agents_cannot_manage_tags(session, client):
    agent = factories.agent(session)
    login(client, agent)
    assert client.get("/admin/tags").status_code == 403


def test_save_a_view_and_see_it_with_its_count(session, logged_in):
    box = factories.mailbox(session, "info@e-tunnus.fi")
    factories.ticket(session, mailbox=box)
    factories.ticket(session)
    response = logged_in.post(
        "/views",
        data={
            "name": "Info",
            "query": "status=active&mailbox=info%40e-tunnus.fi&cursor=x",
            "csrf_token": logged_in.csrf,
        },
        headers=HX,
    )
    assert response.status_code == 200 and "Näkymä Info tallennettu" in response.text
    view = session.exec(select(SavedView)).one()
    assert view.filters == {"status": "active", "mailbox": "info@e-tunnus.fi"}
    nav = lxml.html.fromstring(logged_in.get(f"/tickets/views?view={view.id}").text)
    [link] = nav.xpath("//ul[@data-testid='views']/li[@class='active']/a")
    assert link.get("href") == saved_views.url(view)
    assert link.xpath("span[@class='count']")[0].text == "1"
    opened = logged_in.get(link.get("href")).text
    assert opened.count('data-ticket="') == 1
    logged_in.post(f"/views/{view.id}/delete", data={"csrf_token": logged_in.csrf}, headers=HX)
    assert session.exec(select(SavedView)).all() == []


def test_merge_the_ticked_into_a_ticket_by_its_number(session, logged_in):
    made = [factories.ticket(session) for _ in range(2)]
    target = factories.ticket(session)
    response = logged_in.post(
        "/tickets/bulk",
        data={
            "ids": [str(t.id) for t in made],
            "action": "merge",
            "into": f"#{target.number}",
            "csrf_token": logged_in.csrf,
        },
        headers=HX,
    )
    assert response.status_code == 200, response.text
    assert f"2 tikettiä yhdistetty tikettiin #{target.number}" in response.text
    session.expire_all()
    assert {session.get(Ticket, t.id).merged_into_id for t in made} == {target.id}
    unknown = logged_in.post(
        "/tickets/bulk",
        data={
            "ids": [str(target.id)],
            "action": "merge",
            "into": "99999999",
            "csrf_token": logged_in.csrf,
        },
        headers=HX,
    )
    assert unknown.status_code == 400 and "Tikettiä ei ole tällä numerolla" in unknown.text
