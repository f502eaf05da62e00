"""The users API: search, one user, create (admins), patch (every agent)."""

from __future__ import annotations

import factories
from webclient import login

HEADERS = {}


def _h(client) -> dict[str, str]:
    return {"X-CSRF-Token": client.csrf}


def test_search_and_get(session, logged_in) -> None:
    factories.user(
        session,
        "100102",
        name="Matti Virtanen",
        emails=("matti@example.fi",),
        phones=("+358401234567",),
    )
    factories.user(session, "100233", name="Aino Korhonen", emails=("aino@example.com",))
    assert [u["etunnus"] for u in logged_in.get("/api/v1/users", params={"q": "aino@"}).json()] == [
        "100233"
    ]
    assert [
        u["etunnus"] for u in logged_in.get("/api/v1/users", params={"q": "0401234567"}).json()
    ] == ["100102"]
    assert [u["etunnus"] for u in logged_in.get("/api/v1/users", params={"q": "1002"}).json()] == [
        "100233"
    ]
    assert len(logged_in.get("/api/v1/users").json()) == 2
    one = logged_in.get("/api/v1/users/100102").json()
    assert one == {
        "etunnus": "100102",
        "name": "Matti Virtanen",
        "emails": ["matti@example.fi"],
        "phones": ["+358401234567"],
        "notes": "",
    }
    missing = logged_in.get("/api/v1/users/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_create_and_patch(session, client, admin) -> None:
    login(client, admin)
    created = client.post(
        "/api/v1/users",
        json={
            "etunnus": "100777",
            "name": "Uusi Käyttäjä",
            "emails": ["Uusi@Example.fi"],
            "phones": ["040 765 4321"],
        },
        headers=_h(client),
    )
    assert created.status_code == 201, created.text
    assert created.json()["phones"] == ["+358407654321"]
    assert created.json()["emails"] == ["uusi@example.fi"]
    bad = client.post("/api/v1/users", json={"etunnus": "777", "name": "X"}, headers=_h(client))
    assert bad.status_code == 400
    dup = client.post("/api/v1/users", json={"etunnus": "100777", "name": "X"}, headers=_h(client))
    assert dup.status_code == 409

    agent = factories.agent(session)
    login(client, agent)
    forbidden = client.post(
        "/api/v1/users", json={"etunnus": "100888", "name": "X"}, headers=_h(client)
    )
    assert forbidden.status_code == 403
    patched = client.patch(
        "/api/v1/users/100777", json={"notes": "Soittaa iltaisin", "phones": []}, headers=_h(client)
    )
    assert patched.status_code == 200
    assert patched.json()["notes"] == "Soittaa iltaisin"
    assert patched.json()["phones"] == [] and patched.json()["emails"] == ["uusi@example.fi"]


def test_bearer_token(session, client, admin) -> None:
    from helpdesk.services import agents

    factories.user(session, "100102", name="Matti")
    token = agents.create_token(session, agent=admin, name="test")
    got = client.get("/api/v1/users/100102", headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200 and got.json()["name"] == "Matti"
    assert client.get("/api/v1/users/100102").status_code == 401
