"""E-tunnus users: validation, audited create and update, search and lookups."""

from __future__ import annotations

import factories
import pytest
from sqlmodel import select

from helpdesk.models import AuditEvent, UserEmail, UserPhone
from helpdesk.services import people
from helpdesk.services.errors import Conflict, NotFound, ServiceError


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("040 123 4567", "+358401234567"),
        ("0401234567", "+358401234567"),
        ("+358 40 123 4567", "+358401234567"),
        ("00358401234567", "+358401234567"),
        ("(09) 123 4567", "+35891234567"),
        ("+46 8 123 456 78", "+46812345678"),
    ],
)
def test_phones_are_normalised_to_e164(typed: str, e164: str) -> None:
    assert people.normalise_phone(typed) == e164


@pytest.mark.parametrize("typed", ["123", "abc", "040 123 4567 8901 23", "", "+999 1234"])
def test_bad_phones_are_refused(typed: str) -> None:
    assert people.parse_phone(typed) is None
    with pytest.raises(ServiceError):
        people.normalise_phone(typed)


def test_etunnus_and_email_validation() -> None:
    assert people.normalise_etunnus(" 100102 ") == "100102"
    for bad in ("10010", "1001023", "10010a", "", "١٠٠١٠٢"):  # Arabic-Indic digits
        with pytest.raises(ServiceError):
            people.normalise_etunnus(bad)
    assert people.normalise_email(" Matti.Virtanen@Example.FI ") == "matti.virtanen@example.fi"
    for bad in ("matti", "matti@", "matti@example", "a b@example.fi", "Matti <m@example.fi>"):
        with pytest.raises(ServiceError):
            people.normalise_email(bad)


def test_create_validates_normalises_and_audits(session) -> None:
    admin = factories.agent(session, admin=True)
    user = people.create_user(
        session,
        etunnus="100102",
        name="  Matti   Virtanen ",
        emails=["Matti@Example.fi", "matti@example.fi", ""],
        phones=["040 123 4567", "+358401234567"],
        by=admin,
    )
    assert user.name == "Matti Virtanen"
    assert people.emails_of(session, user) == ["matti@example.fi"]
    assert people.phones_of(session, user) == ["+358401234567"]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.create")).one()
    assert event.agent_id == admin.id and event.object_id == "100102"
    with pytest.raises(Conflict):
        people.create_user(session, etunnus="100102", name="Toinen", by=admin)
    with pytest.raises(ServiceError):
        people.create_user(session, etunnus="100103", name="X", phones=["12"], by=admin)
    assert people.get_by_etunnus(session, "100103") is None


def test_update_changes_only_what_is_given_and_audits_the_difference(session) -> None:
    agent = factories.agent(session)
    user = factories.user(session, "100233", emails=("aino@example.fi",), phones=("+358501112233",))
    people.update_user(session, user=user, phones=["044 222 3344"], by=agent)
    assert people.phones_of(session, user) == ["+358442223344"]
    assert people.emails_of(session, user) == ["aino@example.fi"]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.update")).one()
    assert event.details["changes"]["phones"] == {
        "old": ["+358501112233"],
        "new": ["+358442223344"],
    }
    # Nothing changed: no audit event.
    people.update_user(session, user=user, name=user.name, by=agent)
    assert (
        len(session.exec(select(AuditEvent).where(AuditEvent.action == "user.update")).all()) == 1
    )
    # A bad value changes nothing at all.
    with pytest.raises(ServiceError):
        people.update_user(session, user=user, name="Uusi Nimi", emails=["rikki"], by=agent)
    session.refresh(user)
    assert user.name != "Uusi Nimi"


def test_find_by_email_and_phone(session) -> None:
    a = factories.user(session, emails=("yhteinen@example.fi",), phones=("+358401234567",))
    b = factories.user(session, emails=("yhteinen@example.fi", "oma@example.fi"))
    assert {u.id for u in people.find_by_email(session, "YHTEINEN@example.fi")} == {a.id, b.id}
    assert [u.id for u in people.find_by_email(session, "oma@example.fi")] == [b.id]
    assert [u.id for u in people.find_by_phone(session, "040-123 4567")] == [a.id]
    assert people.find_by_phone(session, "salainen numero") == []


def test_search_by_number_name_email_and_phone(session) -> None:
    matti = factories.user(
        session,
        "100102",
        name="Matti Virtanen",
        emails=("matti.v@example.fi",),
        phones=("+358401234567",),
    )
    aino = factories.user(session, "100233", name="Aino Äijälä-Korhonen", phones=("+358501112233",))
    factories.user(session, "200300", name="Pekka 100_% Testi", emails=("pekka@example.com",))

    def found(q: str) -> list[str]:
        return [u.etunnus for u in people.search(session, q)]

    assert found("100102") == ["100102"]
    assert found("1001") == ["100102"]
    assert found("virt") == ["100102"]
    assert found("VIRTANEN") == ["100102"]
    assert found("matti vir") == ["100102"]
    assert found("äijä") == ["100233"]
    assert found("korh") == ["100233"]
    assert found("matti.v@") == ["100102"]
    assert found("040 123") == ["100102"]
    assert found("+35850111") == ["100233"]
    assert found("4567") == []  # too short to be the end of a number
    assert found("234567") == ["100102"]  # the end of a number read out
    # LIKE wildcards typed by the agent match literally.
    assert found("%") == []
    assert found("100_") == ["200300"]
    assert found("_") == []
    assert found("") == []
    assert matti.id and aino.id


def test_get_user_not_found(session) -> None:
    with pytest.raises(NotFound):
        people.get_user(session, "999999")


def test_rows_follow_the_user(session) -> None:
    user = factories.user(session, emails=("x@example.fi",), phones=("+358401111111",))
    people.update_user(session, user=user, emails=[], phones=[])
    assert session.exec(select(UserEmail).where(UserEmail.user_id == user.id)).all() == []
    assert session.exec(select(UserPhone).where(UserPhone.user_id == user.id)).all() == []
