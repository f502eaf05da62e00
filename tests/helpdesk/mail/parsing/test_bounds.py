"""The parser's output is storable and its work bounded: 8-bit headers, NUL, column limits,
deep HTML, large HTML and the per-mail time budget."""

from __future__ import annotations

from mailgen import eight_bit_message_id, long_from_with_nul, nested_divs
from mimefuzz import assert_storable

from helpdesk.limits import INDEX_BYTES
from helpdesk.mail.parsing import parse as parse_module
from helpdesk.mail.parsing.parse import parse_mail
from helpdesk.mail.parsing.sanitize import MAX_DEPTH, flatten_deep, sanitize_html


def test_an_8bit_message_id_is_decoded_utf8_then_latin1() -> None:
    mail = parse_mail(eight_bit_message_id())
    assert_storable(mail)
    assert mail.message_id is not None and mail.message_id.startswith("äö-Ã¤-")
    assert mail.references == ["viesti-å@example.fi"]
    utf8 = b"From: a@example.fi\r\nMessage-ID: <\xc3\xa4@example.fi>\r\n\r\nx"
    assert parse_mail(utf8).message_id == "ä@example.fi"


def test_nul_bytes_and_overlong_values_come_back_cut_to_the_column_limits() -> None:
    mail = parse_mail(long_from_with_nul(900))
    assert_storable(mail)
    assert mail.from_name is not None and len(mail.from_name) == 300
    assert mail.from_name.startswith("Pitkä nimi Pitkä")
    assert len(mail.subject) == 998 and mail.subject.startswith("NUL in the subject")
    assert mail.text == "Body with a NUL  byte."


def test_multibyte_message_ids_are_cut_by_bytes_for_postgresql_indexes() -> None:
    ident = "€" * 990
    raw = f"From: a@example.fi\r\nMessage-ID: <{ident}@x>\r\nIn-Reply-To: <{ident}@y>\r\n\r\nx"
    mail = parse_mail(raw.encode())
    assert_storable(mail)
    assert mail.message_id == "€" * (INDEX_BYTES // 3)
    assert mail.in_reply_to == mail.message_id  # cut alike: a reply still finds it


def test_surrogates_and_nul_in_every_header_and_filename_are_removed() -> None:
    raw = (
        b"From: =?utf-8?b?" + b"AOKAgg==" + b"?= <a@example.fi>\r\n"
        b"Subject: =?utf-16?b?2ADYAA==?= \x00x\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain\r\n\r\nteksti\x00\r\n--b\r\n"
        b"Content-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="a\x00b\xff.pdf"\r\n\r\n%PDF\r\n--b--\r\n'
    )
    mail = parse_mail(raw)
    assert_storable(mail)
    [attachment] = mail.attachments
    assert attachment.filename.startswith("ab") and attachment.filename.endswith(".pdf")


def test_deep_html_is_flattened_and_keeps_its_text() -> None:
    mail = parse_mail(nested_divs(5_000))
    assert_storable(mail)
    assert mail.text == "Syvällä sisällä"
    assert mail.html is not None and mail.html.count("<div>") == MAX_DEPTH - 2  # html, body
    assert any("flattened" in d for d in mail.defects) and not mail.unparsed


def test_flattening_leaves_shallow_html_alone_and_keeps_order() -> None:
    shallow = "<p>yksi</p>" * (MAX_DEPTH + 5)
    assert flatten_deep(shallow) == (shallow, 0)
    deep = "<div>" * 300 + "a<b>b</b>c<img src=x>" + "</div>" * 300 + "<p title='&quot;'>d</p>"
    flat, count = flatten_deep(deep)
    assert count == 300 + 2 + 2 - MAX_DEPTH  # html, body, b, img wrap the divs
    assert "abc" in flat and flat.endswith('<p title="&quot;">d</p></body></html>')
    cleaned = sanitize_html(flat)
    assert "abc" in cleaned and cleaned.endswith('</div><p title="&quot;">d</p>')


def test_html_over_the_size_limit_is_shown_as_text(monkeypatch) -> None:
    monkeypatch.setattr(parse_module, "MAX_HTML_CHARS", 100)
    raw = b"From: a@example.fi\r\nContent-Type: text/html\r\n\r\n<p>Hei &amp; " + b"x" * 200
    mail = parse_mail(raw)
    assert mail.html is None and mail.text.startswith("Hei & xxx")
    assert mail.unparsed and "shown as text" in mail.parse_errors[0]


def test_a_mail_out_of_time_shows_the_text_of_its_html() -> None:
    raw = b"From: a@example.fi\r\nContent-Type: text/html\r\n\r\n<p>Hei <b>Matti</b></p>"
    assert parse_mail(raw).html == "<p>Hei <b>Matti</b></p>"
    late = parse_mail(raw, seconds=0)
    assert late.html is None and late.text.strip() == "Hei Matti"
    assert late.unparsed and "not cleaned in the time" in late.parse_errors[0]


def test_overlong_text_is_cut(monkeypatch) -> None:
    monkeypatch.setattr(parse_module, "MAX_TEXT_CHARS", 10)
    mail = parse_mail(b"From: a@example.fi\r\n\r\n" + b"y" * 50)
    assert mail.text == "y" * 10 and mail.unparsed


def test_a_mail_of_too_many_parts_is_read_up_to_the_limit(monkeypatch) -> None:
    monkeypatch.setattr(parse_module, "MAX_PARTS", 5)
    part = b"--b\r\nContent-Type: text/plain\r\n\r\nosa\r\n"
    raw = b"From: a@example.fi\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + part * 9
    mail = parse_mail(raw + b"--b--\r\n")
    assert mail.text.split() == ["osa"] * 4 and mail.size == len(raw) + 7
    assert mail.unparsed and "more than 5 MIME parts" in mail.parse_errors[0]
    few = parse_mail(raw.replace(part * 9, part * 3) + b"--b--\r\n")
    assert few.text.split() == ["osa"] * 3 and not few.unparsed
