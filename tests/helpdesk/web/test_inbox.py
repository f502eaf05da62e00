"""The inbox page: filters, keyset pages, search and htmx fragments, on both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import factories
import lxml.html
import pytest

from helpdesk.models import utcnow
from helpdesk.services import inbox
from helpdesk.services import tickets as ticket_service
from helpdesk.web import templating

MORE_LINK = re.compile(r'href="(/tickets\?[^"]*cursor=[^"]+)"')


def _numbers(html: str) -> list[str]:
    doc = lxml.html.fromstring(html)
    return [a.text_content().strip() for a in doc.xpath("//td[@class='num']/a")]


def _ids(html: str) -> list[int]:
    doc = lxml.html.fromstring(html)
    return [int(tr.get("data-ticket")) for tr in doc.xpath("//tr[@data-ticket]")]


@pytest.fixture
def world(session, admin):
    """Two mailboxes, two agents, a user and tickets in every status."""
    asiakas = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    info = factories.mailbox(session, "info@e-tunnus.fi")
    other = factories.agent(session, name="Olli Toinen")
    user = factories.user(session, "100102", name="Liisa Laskuttaja")
    now = utcnow()
    t = {
        "open_mine": factories.ticket(
            session, subject="Avoin minun", mailbox=asiakas, at=now - timedelta(minutes=1)
        ),
        "open_other": factories.ticket(
            session, subject="Avoin toisen", mailbox=info, at=now - timedelta(minutes=2)
        ),
        "pending": factories.ticket(
            session, subject="Odottaa vastausta", mailbox=asiakas, at=now - timedelta(minutes=3)
        ),
        "closed": factories.ticket(
            session,
            subject="Suljettu asia",
            mailbox=info,
            user=user,
            at=now - timedelta(minutes=4),
        ),
        "unassigned": factories.ticket(
            session, subject="Ei käsittelijää", mailbox=asiakas, at=now - timedelta(minutes=5)
        ),
    }
    ticket_service.assign(session, ticket=t["open_mine"], assignee=admin, by=admin)
    ticket_service.assign(session, ticket=t["open_other"], assignee=other, by=admin)
    ticket_service.set_status(session, ticket=t["pending"], status="pending", by=admin)
    ticket_service.set_status(session, ticket=t["closed"], status="closed", by=admin)
    return {"tickets": t, "other": other, "user": user}


def _subjects(client, **params) -> list[str]:
    page = client.get("/tickets", params=params)
    assert page.status_code == 200
    doc = lxml.html.fromstring(page.text)
    return [a.text_content().strip() for a in doc.xpath("//td[@class='subject']/a")]


def test_default_inbox_shows_open_and_pending_newest_first(world, logged_in):
    assert _subjects(logged_in) == [
        "Avoin minun",
        "Avoin toisen",
        "Odottaa vastausta",
        "Ei käsittelijää",
    ]


def test_status_filters(world, logged_in):
    assert _subjects(logged_in, status="closed") == ["Suljettu asia"]
    assert _subjects(logged_in, status="pending") == ["Odottaa vastausta"]
    assert len(_subjects(logged_in, status="")) == 5
    assert "Suljettu asia" not in _subjects(logged_in, status="open")


def test_mailbox_filter(world, logged_in):
    assert _subjects(logged_in, mailbox="info@e-tunnus.fi", status="") == [
        "Avoin toisen",
        "Suljettu asia",
    ]
    assert _subjects(logged_in, mailbox="olematon@e-tunnus.fi") == []


def test_assignee_filters(world, logged_in):
    assert _subjects(logged_in, assignee="me") == ["Avoin minun"]
    assert _subjects(logged_in, assignee="none") == ["Odottaa vastausta", "Ei käsittelijää"]
    assert _subjects(logged_in, assignee=str(world["other"].id)) == ["Avoin toisen"]


def test_user_filter(world, logged_in):
    assert _subjects(logged_in, user="100102", status="") == ["Suljettu asia"]
    assert _subjects(logged_in, user="999999", status="") == []


def test_filters_combine(world, logged_in):
    assert _subjects(logged_in, mailbox="asiakaspalvelu@e-tunnus.fi", assignee="none") == [
        "Odottaa vastausta",
        "Ei käsittelijää",
    ]


def test_keyset_pages_cover_every_ticket_once_with_equal_timestamps(session, logged_in):
    # Same timestamp everywhere: only the id tiebreak keeps the order total.
    at = utcnow().replace(microsecond=0)
    made = [factories.ticket(session, subject=f"Sama hetki {i}", at=at) for i in range(120)]
    seen: list[int] = []
    url = "/tickets"
    pages = 0
    while url:
        page = logged_in.get(url)
        seen += _ids(page.text)
        pages += 1
        found = MORE_LINK.search(page.text)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120
    assert seen == sorted((t.id for t in made), reverse=True)


def test_more_rows_come_as_a_fragment(session, logged_in):
    at = utcnow()
    for i in range(55):
        factories.ticket(session, subject=f"Rivi {i}", at=at - timedelta(seconds=i))
    first = logged_in.get("/tickets")
    link = MORE_LINK.search(first.text).group(1).replace("&amp;", "&")
    more = logged_in.get(link, headers={"HX-Request": "true", "HX-Target": "ticket-rows"})
    assert more.status_code == 200
    assert "<table" not in more.text and "<html" not in more.text
    assert more.text.lstrip().startswith("<tr")
    assert len(_ids(f"<table>{more.text}</table>")) == 5
    assert set(_ids(first.text)).isdisjoint(_ids(f"<table>{more.text}</table>"))


def _counts(client, **params) -> str:
    """The counts line as the page shows it once its counts have loaded."""
    page = client.get("/tickets", params=params)
    doc = lxml.html.fromstring(page.text)
    [line] = doc.xpath("//p[@data-testid='inbox-counts']")
    if "load" in line.get("hx-trigger", "").split(", "):
        # Filtered: the page leaves the counts to a request with the filter form's values.
        assert line.get("hx-include") == "form.filters"
        form = doc.xpath("//form[@class='filters']")[0]
        values = dict(form.form_values())
        line = lxml.html.fragment_fromstring(
            client.get(line.get("hx-get"), params=values).text, create_parent="p"
        )
    return " ".join(line.text_content().split())


def test_counts_follow_the_filters_and_come_after_the_list(world, logged_in, monkeypatch):
    monkeypatch.setattr(inbox, "_closed_counts", {})  # another test's cached closed count
    assert _counts(logged_in) == "Avoimet: 3 · Odottavat: 1 · Suljetut: 1"
    assert (
        _counts(logged_in, mailbox="info@e-tunnus.fi") == "Avoimet: 1 · Odottavat: 0 · Suljetut: 1"
    )
    assert _counts(logged_in, assignee="none") == "Avoimet: 1 · Odottavat: 1 · Suljetut: 1"
    assert _counts(logged_in, user="100102") == "Avoimet: 0 · Odottavat: 0 · Suljetut: 1"
    assert _counts(logged_in, q="minun") == "Avoimet: 1 · Odottavat: 0 · Suljetut: 0"
    # The status filter does not narrow the counts: each status has its own.
    assert _counts(logged_in, status="closed", q="minun") == _counts(logged_in, q="minun")
    # A search's counts stop at their own cap, shown as "cap+".
    monkeypatch.setattr(inbox, "SEARCH_COUNT_CAP", 0)
    assert _counts(logged_in, q="minun") == "Avoimet: 0+ · Odottavat: 0 · Suljetut: 0"
    assert _counts(logged_in, user="100102") == "Avoimet: 0 · Odottavat: 0 · Suljetut: 1"


def test_a_filtered_list_never_waits_for_its_counts(world, logged_in, monkeypatch):
    """A search's counts may cost more than its first page: the list comes without them
    and tells the counts line to follow (HX-Trigger), which loads them by itself."""
    counted: list[object] = []
    real = inbox.status_counts
    monkeypatch.setattr(
        "helpdesk.web.pages.inbox.status_counts",
        lambda session, f=None: counted.append(f) or real(session, f),
    )
    fragment = {"HX-Request": "true", "HX-Target": "ticket-list"}
    listed = logged_in.get("/tickets", params={"q": "minun"}, headers=fragment)
    assert listed.headers["HX-Trigger"] == "inbox-listed"
    assert logged_in.get("/tickets", params={"q": "minun"}).status_code == 200
    assert counted == []
    more = logged_in.get("/tickets", headers={"HX-Request": "true", "HX-Target": "ticket-rows"})
    assert "HX-Trigger" not in more.headers  # "show more" leaves the counts as they are
    # Unfiltered counts are cheap (index-only): the full page has them inline.
    assert logged_in.get("/tickets").status_code == 200
    assert len(counted) == 1 and counted[0] is None


def test_ticket_list_fragment_and_vary_header(world, logged_in):
    full = logged_in.get("/tickets")
    assert "<html" in full.text
    assert "HX-Request" in full.headers["vary"]
    fragment = logged_in.get(
        "/tickets",
        params={"status": "closed"},
        headers={"HX-Request": "true", "HX-Target": "ticket-list"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="ticket-list"')
    assert "<html" not in fragment.text and 'class="filters"' not in fragment.text
    assert "Suljettu asia" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    # Any other target (or a boosted link) gets the whole page.
    other = logged_in.get("/tickets", headers={"HX-Request": "true", "HX-Target": "main"})
    assert "<html" in other.text


def test_search_by_subject_body_sender_and_number(session, logged_in):
    box = factories.mailbox(session)
    lasku = factories.ticket(
        session,
        subject="Laskun eräpäivä",
        mailbox=box,
        customer="maija.virtanen@example.fi",
        text="Voisiko eräpäivää siirtää viikolla?",
    )
    muu = factories.ticket(
        session,
        subject="Salasana unohtui",
        mailbox=box,
        customer="pekka@example.com",
        text="En pääse kirjautumaan palveluun.",
    )

    def found(q: str) -> set[str]:
        return set(_subjects(logged_in, q=q, status=""))

    assert found("eräpäivä") == {"Laskun eräpäivä"}  # subject, prefix of the inflected word
    assert found("kirjautumaan") == {"Salasana unohtui"}  # body
    assert found("siirtää viikolla") == {"Laskun eräpäivä"}  # every word must match
    assert found("maija.virtanen@example.fi") == {"Laskun eräpäivä"}  # sender address
    assert found(f"#{muu.number}") == {"Salasana unohtui"}
    assert found(str(lasku.number)) == {"Laskun eräpäivä"}
    assert found("olematon") == set()
    # Characters that mean something to FTS5 or tsquery are only text.
    for odd in ('"', "'", "a:b", "NEAR(", "*", "!&|", "\\", "-"):
        assert logged_in.get("/tickets", params={"q": odd}).status_code == 200, odd


def test_search_finds_later_messages_and_notes(session, logged_in, admin):
    ticket = factories.ticket(session, subject="Perusasia")
    factories.message(session, ticket, text="Lisäksi viitenumero 1001020017")
    ticket_service.add_note(session, ticket=ticket, text="Tarkistettu Netvisorista", by=admin)
    assert _subjects(logged_in, q="1001020017", status="") == ["Perusasia"]
    assert _subjects(logged_in, q="Netvisorista", status="") == ["Perusasia"]


def test_html_in_filters_is_escaped(session, logged_in):
    page = logged_in.get("/tickets", params={"q": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page.text
    assert "&#34;&gt;&lt;script&gt;" in page.text or "&quot;&gt;&lt;script&gt;" in page.text


def test_the_list_shows_each_tickets_clocks_in_business_hours(
    session, logged_in, admin, monkeypatch
):
    from report_fixtures import hki

    from helpdesk.models import MessageKind

    box = factories.mailbox(session)
    # Thursday 5.12.2024 14:00; Friday is Itsenäisyyspäivä, then a weekend; "now" is
    # Monday 12:30: 1 h on Thursday and 2.5 h on Monday.
    waiting = factories.ticket(session, subject="Odottaa", mailbox=box, at=hki(5, 14))
    answered = factories.ticket(session, subject="Vastattu", mailbox=box, at=hki(5, 14))
    ticket_service.add_message(
        session, ticket=answered, kind=MessageKind.outgoing, author=admin, created_at=hki(9, 11)
    )
    session.commit()
    monkeypatch.setattr(inbox, "utcnow", lambda: hki(9, 12, 30))

    doc = lxml.html.fromstring(logged_in.get("/tickets", params={"status": ""}).text)

    def clocks(ticket):
        [cell] = doc.xpath(f"//tr[@data-ticket='{ticket.id}']/td[@class='clocks']")
        return [(s.get("class"), s.text_content().strip()) for s in cell.xpath("span")]

    assert clocks(waiting) == [
        ("clock first running", "3 h 30 min"),  # no reply yet: waited so far
        ("clock done running", "3 h 30 min"),
    ]
    assert clocks(answered) == [
        ("clock first", "2 h 00 min"),  # Thu 14-15, Mon 10-11: stopped at the reply
        ("clock done running", "3 h 30 min"),
    ]
    # Closed: the resolution clock stops at the closing (its stored figure).
    ticket_service.set_status(session, ticket=answered, status="closed", by=admin)
    doc = lxml.html.fromstring(logged_in.get("/tickets", params={"status": ""}).text)
    session.refresh(answered)
    assert clocks(answered)[1] == (
        "clock done",
        templating.business_time(answered.resolution_seconds),
    )
