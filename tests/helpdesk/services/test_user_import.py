"""``helpdesk users import``: good, bad and duplicate rows; UTF-8, BOM and windows-1252."""

from __future__ import annotations

import json

import factories
from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from helpdesk.cli import app
from helpdesk.models import AuditEvent, EtunnusUser
from helpdesk.services import people
from helpdesk.services.user_import import decode, import_csv

runner = CliRunner()

GOOD_AND_BAD = """etunnus,name,email,phone
100102,Matti Virtanen,matti.virtanen@example.fi,040 123 4567
100233,Aino Korhonen,aino.korhonen@example.fi;AINO@example.com,+358 50 111 2233;09 123 4567
12345,Liian Lyhyt,lyhyt@example.fi,
100345,Juha Mäkinen,ei-osoite,044 222 3344
100478,,sanna@example.fi,
100512,Pekka Hämäläinen,pekka@example.com,12
100102,Matti Kahdesti,matti2@example.fi,

100689,"Laine, Elina",elina.laine@example.fi,045 888 9900
"""


def _count(session) -> int:
    return session.exec(select(func.count()).select_from(EtunnusUser)).one()


def test_good_rows_are_imported_and_bad_rows_reported_by_line(session) -> None:
    report = import_csv(session, GOOD_AND_BAD.encode())
    assert report.as_json() == {
        "rows": 8,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "errors": [
            {"line": 4, "reason": report.errors[0].reason},
            {"line": 5, "reason": report.errors[1].reason},
            {"line": 6, "reason": report.errors[2].reason},
            {"line": 7, "reason": report.errors[3].reason},
            {"line": 8, "reason": report.errors[4].reason},
        ],
    }
    reasons = [e.reason for e in report.errors]
    assert "12345" in reasons[0]
    assert "ei-osoite" in reasons[1]
    assert "100102" in reasons[4] and "2" in reasons[4]  # the duplicate names the first line
    aino = people.get_user(session, "100233")
    assert people.emails_of(session, aino) == ["aino.korhonen@example.fi", "aino@example.com"]
    assert people.phones_of(session, aino) == ["+358501112233", "+35891234567"]
    assert people.get_user(session, "100689").name == "Laine, Elina"
    assert people.get_user(session, "100102").name == "Matti Virtanen"  # the first row won
    assert people.get_by_etunnus(session, "100345") is None


def test_reimport_updates_and_never_duplicates(session) -> None:
    agent = factories.agent(session)
    import_csv(session, GOOD_AND_BAD.encode())
    matti = people.get_user(session, "100102")
    people.update_user(session, user=matti, notes="Soittaa aina perjantaisin", by=agent)
    before = _count(session)
    again = import_csv(session, GOOD_AND_BAD.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = GOOD_AND_BAD.replace("040 123 4567", "040 765 4321").replace(
        "Matti Virtanen", "Matti J. Virtanen"
    )
    third = import_csv(session, changed.encode())
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    assert _count(session) == before
    session.refresh(matti)
    assert matti.name == "Matti J. Virtanen"
    assert people.phones_of(session, matti) == ["+358407654321"]
    assert matti.notes == "Soittaa aina perjantaisin"  # agents' notes survive imports
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "user.update")).all()
    assert any(e.details.get("source") == "import" for e in events)


def test_windows_1252_and_bom_files(session) -> None:
    text = "etunnus,name,email,phone\r\n100345,Juha Mäkinen,juha@example.fi,\r\n100512,Pekka Hämäläinen,,\r\n"
    cp1252 = text.encode("cp1252")
    assert decode(cp1252) == text
    report = import_csv(session, cp1252)
    assert report.created == 2 and not report.errors
    assert people.get_user(session, "100512").name == "Pekka Hämäläinen"
    bom = ("\ufeff" + text.replace("Juha", "Juhani")).encode("utf-8")
    report = import_csv(session, bom)
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    assert people.get_user(session, "100345").name == "Juhani Mäkinen"
    utf16 = text.encode("utf-16")
    assert decode(utf16) == text


def test_header_is_required(session) -> None:
    report = import_csv(session, b"100102;Matti;m@example.fi;\n")
    assert report.created == 0
    assert report.errors[0].line == 1
    assert "etunnus" in report.errors[0].reason


def test_cli_prints_errors_and_a_json_last_line(session, tmp_path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(GOOD_AND_BAD.encode("utf-8"))
    result = runner.invoke(app, ["users", "import", str(path)])
    assert result.exit_code == 1  # some rows were refused
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["rows"] == 8 and summary["created"] == 3
    assert [e["line"] for e in summary["errors"]] == [4, 5, 6, 7, 8]
    assert lines[0].startswith("line 4: ")
    clean = tmp_path / "clean.csv"
    clean.write_bytes("etunnus,name,email,phone\n100777,Uusi Käyttäjä,,\n".encode("cp1252"))
    ok = runner.invoke(app, ["users", "import", str(clean)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout.strip().splitlines()[-1])["created"] == 1
    missing = runner.invoke(app, ["users", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2
