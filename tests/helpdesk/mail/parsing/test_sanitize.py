"""sanitize_html, html_to_text and split_quoted."""

import re

import pytest

from helpdesk.mail.parsing.sanitize import html_to_text, sanitize_html, split_quoted

XSS = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt&#58;alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<p style="width: expression(alert(1))">x</p>',
    '<style>body{background:url("javascript:alert(1)")}</style>',
    '<iframe src="https://evil.example/"></iframe>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<form action="https://evil.example/"><input name="p"><button>OK</button></form>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<div onmouseover="alert(1)">x</div>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:text/html;base64,PHNjcmlwdD4=">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
]


@pytest.mark.parametrize("payload", XSS)
def test_xss_payloads_are_inert(payload: str) -> None:
    out = sanitize_html(payload).lower()
    for bad in (
        "<script",
        "onerror",
        "onload",
        "onmouseover",
        "javascript:",
        "<iframe",
        "<svg",
        "<style",
        "<meta",
        "<form",
        "<input",
        "<object",
        "<embed",
        "expression(",
        "data:text",
        "<base",
        "<link",
        "style=",
    ):
        assert bad not in out, (payload, out)


def test_links_open_safely() -> None:
    out = sanitize_html('<a href="https://etunnus.example/" rel="opener" target="_self">x</a>')
    assert 'href="https://etunnus.example/"' in out
    assert 'rel="noopener noreferrer nofollow"' in out
    assert 'target="_blank"' in out
    assert "_self" not in out


def test_remote_images_deferred_local_images_kept() -> None:
    out = sanitize_html(
        '<p>a</p><img src="https://tracker.example/p.gif?u=1&amp;m=2">'
        '<img src="HTTP://cdn.example/logo.png" alt="Logo">'
        '<img src="cid:kuva1@example.fi"><img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="data:image/svg+xml;base64,PHN2Zz4=">'
    )
    assert ' src="https' not in out and ' src="HTTP' not in out
    assert 'data-remote-src="https://tracker.example/p.gif?u=1&amp;m=2"' in out
    assert 'data-remote-src="HTTP://cdn.example/logo.png"' in out
    assert 'alt="Logo"' in out and 'alt="…"' in out
    assert 'src="cid:kuva1@example.fi"' in out
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in out
    assert "svg+xml" not in out


def test_data_remote_src_cannot_smuggle_scripts() -> None:
    out = sanitize_html('<img data-remote-src="javascript:alert(1)">')
    assert "javascript" not in out


def test_formatting_tables_lists_kept() -> None:
    html = (
        '<p><b>Hei</b> <i>ä</i></p><table><tr><td colspan="2">€</td></tr></table>'
        "<ul><li>yksi</li></ul><blockquote>vanha</blockquote>"
    )
    out = sanitize_html(html)
    for tag in ("<b>", "<i>", "<table>", '<td colspan="2">', "<ul>", "<li>", "<blockquote>"):
        assert tag in out
    assert "€" in out and "ä" in out


def test_nul_removed() -> None:
    assert "\x00" not in sanitize_html("<p>a\x00b</p>")


def test_html_to_text_blocks_and_links() -> None:
    text = html_to_text(
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<p>Ensimmäinen&nbsp;kappale</p><div>Rivi<br>toinen</div>"
        '<p>Katso <a href="https://etunnus.example/ohje">ohje</a> ja '
        '<a href="https://etunnus.example/">https://etunnus.example/</a></p>'
        "<ul><li>yksi</li><li>kaksi</li></ul><script>x()</script>"
        "<blockquote><p>Vanha</p><p>viesti</p></blockquote></body></html>"
    )
    assert "T\n" not in text and "p{}" not in text and "x()" not in text
    assert "Ensimmäinen kappale" in text
    assert "Rivi\ntoinen" in text
    assert "ohje (https://etunnus.example/ohje)" in text
    assert text.count("https://etunnus.example/") == 2  # no duplicate when label is the url
    assert "- yksi\n- kaksi" in text
    assert "> Vanha\n>\n> viesti" in text


def test_html_to_text_tolerates_junk() -> None:
    assert html_to_text("") == ""
    assert html_to_text("<!-- only a comment -->") == ""
    assert html_to_text('<?xml version="1.0" encoding="utf-8"?><p>ä</p>') == "ä"
    deep = "<div>" * 5000 + "syvä" + "</div>" * 5000
    assert "syvä" in html_to_text(deep)


@pytest.mark.parametrize(
    ("text", "new"),
    [
        (
            "Kiitos!\n\nOn Mon, 3 Jun 2024 at 10:00, Tuki <tuki@etunnus.example> wrote:\n> vanha\n",
            "Kiitos!",
        ),
        (
            "Kiitos!\n\nOn Mon, 3 Jun 2024 at 10:00, Tuki <\ntuki@etunnus.example> wrote:\n> vanha\n",
            "Kiitos!",
        ),
        (
            "Kiitos!\n\nma 3.6.2024 klo 10.00 Tuki <tuki@etunnus.example> kirjoitti:\n> vanha\n",
            "Kiitos!",
        ),
        ("Tack!\n\nDen 3 juni 2024 skrev Tuki <tuki@etunnus.example>:\n> gammal\n", "Tack!"),
        ("Kiitos!\n\n-----Original Message-----\nFrom: Tuki\nSent: Monday\n\nvanha", "Kiitos!"),
        ("Kiitos!\n\n-----Alkuperäinen viesti-----\nLähettäjä: Tuki\nvanha", "Kiitos!"),
        (
            "Kiitos!\n\n________________________________\nLähettäjä: Tuki <t@e.fi>\n"
            "Lähetetty: maanantai 3. kesäkuuta 2024 10.00\nVastaanottaja: Matti\nAihe: Lasku\n\nvanha",
            "Kiitos!",
        ),
        (
            "Kiitos!\n\nFrom: Tuki <t@e.fi>\nSent: Monday, June 3, 2024 10:00 AM\nTo: Matti\n\nvanha",
            "Kiitos!",
        ),
        ("Kiitos!\n\nFrån: Tuki\nSkickat: den 3 juni 2024\n\ngammal", "Kiitos!"),
        ("Kiitos!\n\n> vanha\n> viesti\n\n", "Kiitos!"),
    ],
)
def test_split_quoted(text: str, new: str) -> None:
    got_new, quoted = split_quoted(text)
    assert got_new == new
    assert quoted
    assert re.sub(r"\s", "", got_new + quoted) == re.sub(r"\s", "", text)


def test_split_quoted_keeps_unquoted_and_interleaved_text() -> None:
    assert split_quoted("Pelkkä uusi viesti.\nToinen rivi.") == (
        "Pelkkä uusi viesti.\nToinen rivi.",
        "",
    )
    interleaved = "Tuki kirjoitti:\n> Kysymys 1?\nVastaus 1.\n> Kysymys 2?\nVastaus 2.\n"
    assert split_quoted(interleaved)[0] == interleaved
    # A mail that is only history is shown whole rather than collapsed to nothing.
    assert split_quoted("> vain lainausta\n")[1] == ""
    # Forwards are content, not history.
    fwd = "FYI\n\n---------- Forwarded message ---------\nFrom: a@b.fi\n\nTärkeää"
    assert split_quoted(fwd) == (fwd, "")
