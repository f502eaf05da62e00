"""parse_mail on hand-written samples (samples/*.eml) and generated edge cases."""

import base64
import email
import email.policy
import hashlib
import random
import struct
import time
from pathlib import Path

import pytest

from helpdesk.blobs import BlobStore
from helpdesk.mail.parsing import parse as parse_module
from helpdesk.mail.parsing.parse import ParsedMail, decode_header_value, parse_mail

SAMPLES = Path(__file__).parents[1] / "samples"
HEAD = (
    b"From: Matti <matti@example.fi>\nTo: tuki@etunnus.example\n"
    b"Date: Mon, 3 Jun 2024 10:15:00 +0300\nMIME-Version: 1.0\n"
)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def parse(name: str, **kwargs) -> ParsedMail:
    return parse_mail(sample(name), **kwargs)


def leaf_paths(raw: bytes) -> list[str]:
    """MIME leaves numbered like IMAP sections; message/* parts count as one leaf."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)

    def walk(part, path):
        if part.is_multipart() and part.get_content_maintype() != "message":
            out = []
            for i, child in enumerate(part.get_payload(), 1):
                out += walk(child, f"{path}.{i}" if path else str(i))
            return out
        return [path or "1"]

    return walk(msg, "")


def assert_nothing_lost(raw: bytes, mail: ParsedMail) -> None:
    accounted = set(mail.body_parts) | {a.part for a in mail.attachments}
    assert sorted(accounted) == sorted(leaf_paths(raw))


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.eml")), ids=lambda p: p.name)
def test_every_sample_parses_without_loss(path: Path) -> None:
    raw = path.read_bytes()
    mail = parse_mail(raw)
    assert not mail.unparsed
    assert mail.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert mail.size == len(raw)
    assert "\x00" not in mail.text
    assert_nothing_lost(raw, mail)


def test_iso_8859_15_subject_and_body() -> None:
    mail = parse("iso-8859-15.eml")
    assert mail.subject == "Lasku 100 € / päivämäärä"
    assert "100 € ja eräpäivä" in mail.text
    assert mail.from_name == "Matti Meikäläinen"
    assert mail.from_address == "matti@example.fi"
    assert mail.message_id == "lasku-1@example.fi"
    assert mail.date is not None and mail.date.utcoffset() is not None
    assert mail.date.isoformat() == "2024-06-03T10:15:00+03:00"
    assert mail.html is None


def test_windows_1252_declared_as_latin1() -> None:
    assert parse("cp1252-declared-latin1.eml").text == "Hinta on 50 € – “hyvä” kauppa."


def test_missing_charset_with_utf8_bytes() -> None:
    mail = parse("no-charset-utf8.eml")
    assert mail.text == "Hyvää päivää, summa 12 €, åäö."
    assert mail.subject == "Ei merkistöä"


def test_wrong_declared_charset() -> None:
    mail = parse("wrong-charset.eml")
    assert mail.text == "Hyvää päivää åäö ja ÄÖÅ."
    assert mail.subject == "Väärä merkistö"
    assert any("charset" in d for d in mail.defects)


def test_raw_8bit_headers() -> None:
    mail = parse("raw-8bit-header.eml")
    assert mail.subject == "Päivää €"
    assert mail.from_name == "Jörg Müller"  # latin-1 bytes in the header
    assert mail.to == [("Tuki äö", "tuki@etunnus.example")]
    assert ("Subject", "Päivää €") in mail.headers


def test_rfc2231_and_other_filenames() -> None:
    mail = parse("rfc2231-filename.eml")
    names = [a.filename for a in mail.attachments]
    # continuation + charset, RFC 2047 in name=, none at all, and a path that must not survive
    assert names == ["Lasku_äö.pdf", "Kuitti å.pdf", "attachment-3.pdf", "Lasku_äö.pdf"]
    assert all(a.content_type == "application/pdf" for a in mail.attachments)
    assert mail.attachments[0].disposition == "attachment"
    assert mail.attachments[0].data == base64.b64decode("JVBERi0xLjQKJcOkw7YK")


def test_html_only_mail_gets_text_and_sanitised_html() -> None:
    mail = parse("html-only.eml")
    assert mail.text.startswith("Tervehdys\n\nEnsimmäinen kappale.")
    assert "ohje (https://etunnus.example/ohje)" in mail.text
    assert "> Vanha viesti" in mail.text  # quoted history preserved
    assert "Otsikko" not in mail.text and "color:red" not in mail.text
    assert mail.html is not None
    assert "<style" not in mail.html and "<title" not in mail.html
    assert 'rel="noopener noreferrer nofollow"' in mail.html


def test_cid_inline_image(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    mail = parse("cid-image.eml", store=store)
    assert mail.text == "Kuvakaappaus alla."
    assert mail.html is not None and 'src="cid:kuva1@example.fi"' in mail.html
    [image] = mail.attachments
    assert (image.content_type, image.content_id, image.inline) == (
        "image/png",
        "kuva1@example.fi",
        True,
    )
    assert image.filename == "attachment-1.png"
    assert image.data is None
    assert store.get(image.sha256)[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.size == len(store.get(image.sha256))


def test_message_rfc822_kept_as_eml_attachment() -> None:
    mail = parse("forwarded-rfc822.eml")
    assert mail.text == "Katso liitteenä oleva viesti."
    [eml] = mail.attachments
    assert eml.filename == "Lasku ei näy.eml"
    assert eml.content_type == "message/rfc822"
    assert eml.data is not None
    inner = parse_mail(eml.data)
    assert inner.subject == "Lasku ei näy"
    assert inner.text == "Lasku ei näy."
    assert mail.annotations["embedded_messages"][0]["message_id"] == "orig-7@example.com"


def test_dsn_report_kept_and_annotated() -> None:
    mail = parse("dsn-bounce.eml")
    assert mail.text.startswith("I'm sorry to have to inform you")
    assert "\r" not in mail.text
    names = [(a.filename, a.content_type) for a in mail.attachments]
    assert names == [
        ("delivery-status.txt", "message/delivery-status"),
        ("rfc822-headers.txt", "text/rfc822-headers"),
    ]
    report = mail.annotations["report"]
    assert report["report_type"] == "delivery-status"
    assert "Status: 5.1.1" in report["delivery_status"]
    assert "<reply-1042-3@etunnus.example>" in report["original_headers"]


def test_signature_kept_as_attachment() -> None:
    mail = parse("smime-signed.eml")
    assert mail.text == "Allekirjoitettu viesti."
    assert [a.filename for a in mail.attachments] == ["smime.p7s"]


def test_broken_mime_salvaged() -> None:
    mail = parse("broken-mime.eml")
    assert not mail.unparsed
    assert "Alku on ehjä." in mail.text
    assert "Katkennut ä" in mail.text
    assert len(mail.attachments) == 1
    assert any("CloseBoundaryNotFound" in d for d in mail.defects)


def test_no_headers_at_all() -> None:
    mail = parse("no-headers.eml")
    assert "tässä ei ole otsakkeita" in mail.text
    assert mail.subject == "" and mail.message_id is None and mail.from_address is None


def test_nul_bytes_removed_from_text_but_not_from_raw_hash() -> None:
    raw = sample("nul-bytes.eml")
    mail = parse_mail(raw)
    assert mail.text == "Teksti jossa nollatavuja."
    assert mail.subject == "NUL"
    assert mail.raw_sha256 == hashlib.sha256(raw).hexdigest()


def test_xss_sample_is_inert() -> None:
    mail = parse("xss.eml")
    html = (mail.html or "").lower()
    for bad in (
        "<script",
        "onerror",
        "onload",
        "onclick",
        "javascript:",
        "<iframe",
        "<form",
        "<meta",
        "expression(",
        "<svg",
        "<style",
        "data:text",
    ):
        assert bad not in html
    assert 'data-remote-src="https://tracker.example/pixel.gif?id=42"' in html
    assert ' src="https://tracker' not in html


def test_one_megabyte_single_line() -> None:
    line = ("äö€ " * 300_000)[:1_000_000]
    raw = (
        HEAD
        + b"Subject: pitk\xc3\xa4\nContent-Type: text/plain; charset=utf-8\n\n"
        + (line.encode())
    )
    start = time.monotonic()
    mail = parse_mail(raw)
    assert time.monotonic() - start < 10
    assert mail.text == line.rstrip("\n")
    html_raw = HEAD + b"Content-Type: text/html; charset=utf-8\n\n<p>" + line.encode() + b"</p>"
    assert len(parse_mail(html_raw).text) > 900_000


def test_multipart_mixed_concatenates_inline_text_in_order() -> None:
    raw = HEAD + (
        b"Content-Type: multipart/mixed; boundary=B\n\n"
        b"--B\nContent-Type: text/plain; charset=utf-8\n\nEnsin.\n"
        b"--B\nContent-Type: image/jpeg\nContent-Disposition: inline\n\n\xff\xd8\xff\n"
        b"--B\nContent-Type: text/plain; charset=iso-8859-1\n\nSitten \xe4.\n"
        b"--B\nContent-Type: text/plain; charset=utf-8\nContent-Disposition: attachment; filename=a.txt\n\n"
        b"Liite.\n--B--\n"
    )
    mail = parse_mail(raw)
    assert mail.text.index("Ensin.") < mail.text.index("Sitten ä.")
    assert "Liite." not in mail.text
    assert [(a.filename, a.inline) for a in mail.attachments] == [
        ("attachment-1.jpg", True),
        ("a.txt", False),
    ]
    assert_nothing_lost(raw, mail)


def test_alternative_picks_best_and_keeps_the_rest() -> None:
    raw = HEAD + (
        b"Content-Type: multipart/alternative; boundary=A\n\n"
        b"--A\nContent-Type: text/plain; charset=utf-8\n\nTeksti.\n"
        b"--A\nContent-Type: text/html; charset=utf-8\n\n<p>Ensimm\xc3\xa4inen HTML</p>\n"
        b"--A\nContent-Type: text/html; charset=utf-8\n\n<p>Paras HTML</p>\n"
        b"--A\nContent-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR\nEND:VCALENDAR\n"
        b"--A--\n"
    )
    mail = parse_mail(raw)
    assert mail.text == "Teksti."
    assert mail.html == "<p>Paras HTML</p>"
    assert sorted(a.filename for a in mail.attachments) == ["attachment-1.html", "attachment-2.ics"]
    assert_nothing_lost(raw, mail)


def test_outlook_express_boundary_read_with_compat32() -> None:
    raw = HEAD + (
        b"Content-Type: multipart/alternative; boundary=----=_NextPart_000_0093_01C8\n\n"
        b"------=_NextPart_000_0093_01C8\nContent-Type: text/plain; charset=iso-8859-1\n\n"
        b"Hyv\xe4\n------=_NextPart_000_0093_01C8\nContent-Type: text/html\n\n<b>Hyv&auml;</b>\n"
        b"------=_NextPart_000_0093_01C8--\n"
    )
    mail = parse_mail(raw)
    assert mail.text == "Hyvä"
    assert mail.html == "<b>Hyvä</b>"
    assert_nothing_lost(raw, mail)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?koi8-r?B?8NLJ18XU?=", "Привет"),
        ("=?windows-1252?Q?=80_100?=", "€ 100"),
        ("=?utf-8?B?UMOk?= =?utf-8?B?aXbDpA==?=", "Päivä"),
        ("=?utf-8?Q?P=C3?= =?utf-8?Q?=A4iv=C3=A4?=", "Päivä"),  # a character split across words
        ("=?iso-8859-1*fi?Q?p=E4iv=E4?=", "päivä"),
        ("=?x-no-such-charset?Q?p=E4iv=E4?=", "päivä"),
        ("Re: =?ISO-8859-15?Q?=A4?= ja\n =?utf-8?q?=C3=B6?=", "Re: € ja ö"),
        ("=?utf-8?B?broken", "=?utf-8?B?broken"),
    ],
)
def test_encoded_words(value: str, expected: str) -> None:
    assert decode_header_value(value) == expected


def test_threading_headers_normalised() -> None:
    mail = parse("reply-quoted.eml")
    assert mail.in_reply_to == "r1@etunnus.example"
    assert mail.references == ["r0@etunnus.example", "r1@etunnus.example"]


def test_bad_dates_tolerated() -> None:
    for value in (b"Mon, 30 Jun 3609 15:33:50 +0600", b"eilen", b"", b"Mon, 32 Foo 2024 99:99"):
        mail = parse_mail(b"Date: " + value + b"\nSubject: x\n\nbody\n")
        assert mail.date is None or mail.date.tzinfo is not None
    naive = parse_mail(b"Date: Mon, 3 Jun 2024 10:00:00 -0000\n\nx\n")
    assert naive.date is not None and naive.date.tzinfo is not None


def build_tnef(body: bytes | None) -> bytes:
    """A minimal TNEF stream: version, one attachment (title + data), optionally a body."""

    def attr(level: int, attr_id: int, attr_type: int, data: bytes) -> bytes:
        return (
            struct.pack("<BHHI", level, attr_id, attr_type, len(data))
            + data
            + struct.pack("<H", sum(data) & 0xFFFF)
        )

    out = struct.pack("<IH", 0x223E9F78, 1)
    out += attr(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))
    out += attr(2, 0x9002, 0x0006, b"\x01\x00" * 7)
    out += attr(2, 0x8010, 0x0001, b"Lasku.pdf\x00")
    out += attr(2, 0x800F, 0x0006, b"%PDF-1.4 lasku")
    if body is not None:
        out += attr(1, 0x800C, 0x0002, body)
    return out


def tnef_mail(tnef: bytes, with_text: bool) -> bytes:
    text = b"--T\nContent-Type: text/plain; charset=utf-8\n\nViesti.\n" if with_text else b""
    return HEAD + (
        b"Content-Type: multipart/mixed; boundary=T\n\n"
        + text
        + b"--T\nContent-Type: application/ms-tnef; name=winmail.dat\n"
        b"Content-Disposition: attachment; filename=winmail.dat\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(tnef) + b"--T--\n"
    )


def test_tnef_unpacked_with_body() -> None:
    raw = tnef_mail(build_tnef(b"Hyv\xe4\xe4 p\xe4iv\xe4\xe4 TNEF:st\xe4.\x00"), with_text=False)
    mail = parse_mail(raw)
    [pdf] = mail.attachments
    assert (pdf.filename, pdf.container, pdf.data) == (
        "Lasku.pdf",
        "winmail.dat",
        b"%PDF-1.4 lasku",
    )
    assert mail.text == "Hyvää päivää TNEF:stä."
    assert_nothing_lost(raw, mail)


def test_tnef_body_not_duplicated_when_mail_has_text() -> None:
    mail = parse_mail(tnef_mail(build_tnef(b"Sama viesti.\x00\x00\x00"), with_text=True))
    assert mail.text == "Viesti."
    assert mail.annotations["tnef_body"]["body"] == "Sama viesti."
    assert [a.filename for a in mail.attachments] == ["Lasku.pdf"]


def test_broken_tnef_kept_as_winmail_dat() -> None:
    raw = tnef_mail(b"not tnef at all" * 3, with_text=True)
    mail = parse_mail(raw)
    assert [a.filename for a in mail.attachments] == ["winmail.dat"]
    assert any("TNEF" in e for e in mail.parse_errors)
    assert_nothing_lost(raw, mail)


def test_parser_crash_gives_unparsed_mail_with_salvage(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(parse_module, "_fill", boom)
    raw = sample("iso-8859-15.eml")
    mail = parse_mail(raw)
    assert mail.unparsed
    assert len(mail.parse_errors) == 2 and "boom" in mail.parse_errors[0]
    assert mail.subject == "Lasku 100 € / päivämäärä"
    assert mail.message_id == "lasku-1@example.fi"
    assert "=A4" in mail.text  # the body as it was, undecoded but present
    assert mail.raw_sha256 == hashlib.sha256(raw).hexdigest()


def test_never_raises_on_garbage() -> None:
    rng = random.Random(1042)
    blobs = [
        b"",
        b"\n",
        b"\r\n\r\n",
        b"\x00" * 100,
        b":" * 1000,
        b"Content-Type: multipart/mixed\n\n",
        b'Content-Type: multipart/mixed; boundary=""\n\n--\n--\n',
        b"Content-Transfer-Encoding: base64\n\n====\x00\xff",
        b"Content-Type: message/rfc822\n\n" + b"X" * 100,
    ]
    blobs += [bytes(rng.randrange(256) for _ in range(rng.randrange(2000))) for _ in range(30)]
    whole = [p.read_bytes() for p in sorted(SAMPLES.glob("*.eml"))]
    blobs += [w[: rng.randrange(len(w))] for w in whole]
    blobs += [bytes(b ^ 0xFF if rng.random() < 0.02 else b for b in w) for w in whole]
    for blob in blobs:
        mail = parse_mail(blob)
        assert mail.raw_sha256 == hashlib.sha256(blob).hexdigest()
        assert "\x00" not in mail.text
