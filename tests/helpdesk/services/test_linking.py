"""Linking tickets to E-tunnus users from real-looking Finnish mail."""

from __future__ import annotations

from collections.abc import Iterator

import factories
import pytest
from sqlmodel import select

from helpdesk.db import transaction
from helpdesk.hookspecs import FoundLink, hookimpl
from helpdesk.models import AuditEvent, MessageKind, TicketLink
from helpdesk.plugins import get_plugin_manager
from helpdesk.references import format_reference, make_reference
from helpdesk.services import linking
from helpdesk.services import tickets as ticket_service


def _mail(session, *, sender: str, subject: str, text: str):
    with transaction(session):  # as mail-in does: the steps inside its unit of work
        ticket = ticket_service.open_ticket(session, subject=subject, customer_email=sender)
        return ticket, _another(session, ticket, sender=sender, text=text)


def _another(session, ticket, *, sender: str, text: str):
    with transaction(session):
        return ticket_service.add_message(
            session, ticket=ticket, kind=MessageKind.incoming, text=text, from_address=sender
        )


def _link(session, ticket, message) -> linking.LinkResult:
    with transaction(session):
        return linking.link_ticket(session, ticket, message)


def _links(session, ticket) -> dict[tuple[str, str], TicketLink]:
    rows = session.exec(select(TicketLink).where(TicketLink.ticket_id == ticket.id))
    return {(r.kind, r.target): r for r in rows}


@pytest.fixture
def users(session):
    return {
        "matti": factories.user(
            session, "100102", name="Matti Virtanen", emails=("matti.virtanen@example.fi",)
        ),
        "aino": factories.user(
            session, "100233", name="Aino Korhonen", emails=("aino@example.com",)
        ),
        "juha": factories.user(
            session, "100345", name="Juha Mäkinen", emails=("toimisto@example.fi",)
        ),
        "sanna": factories.user(
            session, "100478", name="Sanna Nieminen", emails=("toimisto@example.fi",)
        ),
    }


def test_sender_address_links_the_user(session, users) -> None:
    ticket, message = _mail(
        session,
        sender="Matti.Virtanen@example.fi",
        subject="Kysymys",
        text="Hei, miten lasku tehdään?",
    )
    result = _link(session, ticket, message)
    assert result.linked.id == users["matti"].id
    assert ticket.user_id == users["matti"].id
    row = _links(session, ticket)[("user", "100102")]
    assert (row.state, row.source) == ("linked", "auto")
    assert row.details["found"] == [{"how": "email", "text": "matti.virtanen@example.fi"}]


def test_numbers_inside_text_with_spaces_link_the_user(session, users) -> None:
    reference = format_reference(make_reference("100233001"))
    ticket, message = _mail(
        session,
        sender="kirjanpito@tilitoimisto.example",
        subject="Maksu tehty",
        text=f"Hyvä asiakaspalvelu,\n\nmaksoimme laskun viitteellä {reference} 3.2.2026, "
        "summa 1 240,00 €.\n\nYstävällisin terveisin\nTilitoimisto Oy, puh. 09 123 4567",
    )
    result = _link(session, ticket, message)
    assert result.linked.etunnus == "100233"
    assert _links(session, ticket)[("user", "100233")].details["found"] == [
        {"how": "reference", "text": make_reference("100233001")}
    ]


def test_invoice_number_and_etunnus_in_the_subject(session, users) -> None:
    ticket, message = _mail(
        session,
        sender="uusi.osoite@example.org",
        subject="Lasku 1003450003 ei ole lähtenyt",
        text="Moi, voitteko tarkistaa? Juha (e-tunnus 100345)",
    )
    result = _link(session, ticket, message)
    assert result.linked.etunnus == "100345"
    found = _links(session, ticket)[("user", "100345")].details["found"]
    assert {"how": "invoice", "text": "1003450003"} in found
    assert {"how": "etunnus", "text": "100345"} in found


def test_reference_with_a_wrong_check_digit_does_not_link(session, users) -> None:
    good = make_reference("100102001")
    bad = good[:-1] + str((int(good[-1]) + 3) % 10)
    ticket, message = _mail(
        session,
        sender="asiakas@example.net",
        subject="Viitenumero ei kelpaa",
        text=f"Hei! Verkkopankki sanoo, että viitenumero {format_reference(bad)} on väärä. "
        f"Kokeilin myös muodossa viite {bad}.",
    )
    result = _link(session, ticket, message)
    assert result.linked is None and result.suggested == []
    assert ticket.user_id is None
    assert _links(session, ticket) == {}


def test_dates_amounts_and_phone_numbers_do_not_link(session, users) -> None:
    ticket, message = _mail(
        session,
        sender="joku@example.net",
        subject="Soittopyyntö",
        text="Soittakaa numeroon 040 100 1020 tai 0401001020. Summa 100102 €, "
        "henkilötunnus 100102-123A, päivä 10.01.2002.",
    )
    assert _link(session, ticket, message).linked is None
    assert ticket.user_id is None


def test_two_users_sharing_an_address_are_only_suggested(session, users) -> None:
    ticket, message = _mail(
        session, sender="toimisto@example.fi", subject="Laskut", text="Hei, kysymys laskuista."
    )
    result = _link(session, ticket, message)
    assert result.linked is None
    assert {u.etunnus for u in result.suggested} == {"100345", "100478"}
    assert ticket.user_id is None
    assert {r.state for r in _links(session, ticket).values()} == {"suggested"}
    # A later mail naming one of them does not guess either: both stay suggestions.
    second = _another(
        session, ticket, sender="toimisto@example.fi", text="Koskee e-tunnusta 100345."
    )
    _link(session, ticket, second)
    assert ticket.user_id is None
    # Accepting one (one click) links it, dismisses the other, and is audited.
    agent = factories.agent(session)
    row = _links(session, ticket)[("user", "100478")]
    linking.accept(session, ticket=ticket, link_id=row.id, by=agent)
    assert ticket.user_id == users["sanna"].id
    states = {k[1]: r.state for k, r in _links(session, ticket).items()}
    assert states == {"100478": "linked", "100345": "dismissed"}
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "ticket.link_user")).one()


def test_two_different_numbers_are_ambiguous(session, users) -> None:
    ticket, message = _mail(
        session,
        sender="x@example.net",
        subject="Kaksi tunnusta",
        text="Minulla on e-tunnus 100102 ja puolisollani 100233.",
    )
    result = _link(session, ticket, message)
    assert result.linked is None and len(result.suggested) == 2


def test_manual_unlink_is_remembered_and_audited(session, users) -> None:
    agent = factories.agent(session)
    ticket, message = _mail(
        session, sender="matti.virtanen@example.fi", subject="Hei", text="e-tunnus 100102"
    )
    _link(session, ticket, message)
    linking.unlink_user(session, ticket=ticket, by=agent)
    assert ticket.user_id is None
    # A new mail with the same evidence does not bring the dismissed link back.
    again = _another(session, ticket, sender="matti.virtanen@example.fi", text="taas 100102")
    _link(session, ticket, again)
    assert ticket.user_id is None
    assert not linking.link_on_view(session, ticket)
    # Linking by hand works, and is audited with the agent.
    linking.link_user(session, ticket=ticket, user=users["aino"], by=agent)
    assert ticket.user_id == users["aino"].id
    actions = [
        e.action for e in session.exec(select(AuditEvent).where(AuditEvent.agent_id == agent.id))
    ]
    assert actions == ["ticket.unlink_user", "ticket.link_user"]


def test_link_on_view_links_old_tickets_once(session, users) -> None:
    ticket = factories.ticket(session, customer="aino@example.com", text="Lasku 1002330014 hukassa")
    assert linking.link_on_view(session, ticket)
    assert ticket.user_id == users["aino"].id
    assert not linking.link_on_view(session, ticket)  # already has links
    panel = linking.panel(session, ticket)
    assert panel.user.etunnus == "100233"
    assert [(c.label, c.url) for c in panel.chips] == [("1002330014", "/users/100233")]


class _InvoiceLinker:
    """A stand-in plugin that recognises invoice numbers as its own objects."""

    @hookimpl
    def helpdesk_link_text(self, session, text):
        if "1001020007" not in text:
            return []
        return [
            FoundLink(
                kind="invoice",
                target="nv-5501",
                label="Lasku 1001020007",
                found_text="1001020007",
                etunnus="100102",
                url="/invoices/nv-5501",
            )
        ]


@pytest.fixture
def invoice_linker() -> Iterator[None]:
    pm = get_plugin_manager()
    plugin = _InvoiceLinker()
    pm.register(plugin, name="test-invoice-linker")
    yield
    pm.unregister(plugin)


def test_plugin_links_become_chips_and_link_the_user(session, users, invoice_linker) -> None:
    ticket, message = _mail(
        session,
        sender="tuntematon@example.net",
        subject="Lasku 1001020007",
        text="Missä laskuni on?",
    )
    result = _link(session, ticket, message)
    assert result.linked.etunnus == "100102"
    assert [r.target for r in result.other_links] == ["nv-5501"]
    session.commit()
    chips = {(c.label, c.url) for c in linking.panel(session, ticket).chips}
    assert ("Lasku 1001020007", "/invoices/nv-5501") in chips
    assert ("1001020007", "/users/100102") in chips


def test_mail_arriving_through_ingest_is_linked(session, users, data_dir) -> None:
    from email.message import EmailMessage

    from helpdesk.blobs import BlobStore
    from helpdesk.mail.inbound.ingest import import_raw
    from helpdesk.mail.inbound.rows import Source
    from helpdesk.settings import get_settings

    box = factories.mailbox(session, "asiakaspalvelu@e-tunnus.fi")
    mail = EmailMessage()
    mail["From"] = "Kirjanpito <kirjanpito@tilitoimisto.example>"
    mail["To"] = "asiakaspalvelu@e-tunnus.fi"
    mail["Subject"] = "Asiakkaamme lasku"
    mail["Message-ID"] = "<linkitys-1@tilitoimisto.example>"
    reference = format_reference(make_reference("100345002"))
    mail.set_content(
        f"Hei,\n\nasiakkaamme maksoi laskun viitteellä {reference}, mutta se näkyy yhä avoimena."
        "\n\nTerveisin\nTilitoimisto Oy\npuh. 09 123 4567\n",
        charset="iso-8859-15",
        cte="quoted-printable",
    )
    result = import_raw(
        session,
        mail.as_bytes(),
        source=Source(mailbox=box, folder="INBOX", uidvalidity=7),
        uid=1,
        store=BlobStore(get_settings().blob_dir),
    )
    ticket = ticket_service.get_ticket(session, result.ticket_id)
    session.refresh(ticket)
    assert ticket.user_id == users["juha"].id
