"""Response headers: CSP without inline script, nosniff, and files that only download."""

from __future__ import annotations

import factories
import pytest
from sqlmodel import Session

from helpdesk.blobs import BlobStore
from helpdesk.models import Attachment, Message
from helpdesk.settings import get_settings

PAGES = ["/tickets", "/admin/mailboxes", "/admin/agents", "/login"]


def _csp(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in policy.split(";")
        if part.strip()
    }


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_a_strict_csp(logged_in, path):
    response = logged_in.get(path)
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["script-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_ticket_page_and_api_send_the_headers(session, logged_in):
    ticket = factories.ticket(session)
    for path in (f"/tickets/{ticket.id}", f"/api/v1/tickets/{ticket.id}", "/healthz"):
        response = logged_in.get(path)
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"


def test_static_files_are_cacheable_and_nosniff(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in response.headers.get("cache-control", "")


def _message_with_files(session: Session, data_dir) -> tuple[Message, dict[str, Attachment]]:
    store = BlobStore(get_settings().blob_dir)
    ticket = factories.ticket(session)
    message = factories.message(session, ticket, text="Liitteet mukana")
    message.raw_sha256 = store.put(b"From: a@example.fi\r\nSubject: raw\r\n\r\nhei\r\n")
    session.add(message)
    files = {
        "html": (b"<script>alert(1)</script>", "lasku.html", "text/html"),
        "png": (b"\x89PNG\r\n\x1a\nfake", "kuva.png", "image/png"),
        "svg": (b"<svg onload='alert(1)'/>", "kuva.svg", "image/svg+xml"),
        "pdf": (b"%PDF-1.4 fake", 'lasku "2026".pdf', "application/pdf"),
    }
    rows = {}
    for key, (data, filename, ctype) in files.items():
        att = Attachment(
            message_id=message.id,
            filename=filename,
            content_type=ctype,
            size=len(data),
            sha256=store.put(data),
        )
        session.add(att)
        rows[key] = att
    session.commit()
    return message, rows


def test_attachments_download_as_files_never_rendered(session, logged_in, data_dir):
    _message, files = _message_with_files(session, data_dir)
    for key, att in files.items():
        response = logged_in.get(f"/attachments/{att.id}")
        assert response.status_code == 200, key
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["x-content-type-options"] == "nosniff"
        # Served as opaque bytes, so even an HTML or SVG file cannot run in our origin.
        assert response.headers["content-type"] == "application/octet-stream"
        assert "sandbox" in response.headers["content-security-policy"]
    assert logged_in.get(f"/attachments/{files['html'].id}").content == (
        b"<script>alert(1)</script>"
    )
    pdf = logged_in.get(f"/attachments/{files['pdf'].id}")
    assert "lasku" in pdf.headers["content-disposition"]
    assert "\n" not in pdf.headers["content-disposition"]


def test_inline_endpoint_serves_only_raster_images(session, logged_in, data_dir):
    _message, files = _message_with_files(session, data_dir)
    png = logged_in.get(f"/attachments/{files['png'].id}/inline")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.headers["x-content-type-options"] == "nosniff"
    for key in ("html", "svg", "pdf"):
        assert logged_in.get(f"/attachments/{files[key].id}/inline").status_code == 404, key


def test_raw_source_downloads_as_eml(session, logged_in, data_dir):
    message, _files = _message_with_files(session, data_dir)
    response = logged_in.get(f"/messages/{message.id}/raw")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert f"message-{message.id}.eml" in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert b"Subject: raw" in response.content
    page = logged_in.get(f"/tickets/{message.ticket_id}")
    assert f'href="/messages/{message.id}/raw"' in page.text


def test_missing_files_answer_404(session, logged_in, data_dir):
    ticket = factories.ticket(session)
    message = factories.message(session, ticket)
    assert logged_in.get(f"/messages/{message.id}/raw").status_code == 404
    assert logged_in.get("/attachments/999999").status_code == 404
    att = Attachment(message_id=message.id, filename="x.txt", size=1, sha256="a" * 64)
    session.add(att)
    session.commit()
    assert logged_in.get(f"/attachments/{att.id}").status_code == 404
