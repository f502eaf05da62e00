"""Make mail HTML safe to show, turn HTML into text, and find quoted history in replies.

``sanitize_html`` is the only way mail HTML reaches a page. nh3 (ammonia) does
the cleaning with an explicit allow-list; an lxml pre-pass only renames remote
image sources so that opening a mail never tells the sender it was read.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from html import escape

import lxml.etree
import lxml.html
import nh3

logger = logging.getLogger(__name__)

_ALLOWED_TAGS = {
    # text formatting
    "a", "abbr", "b", "bdi", "bdo", "big", "blockquote", "br", "center", "cite", "code",
    "del", "dfn", "div", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "ins", "kbd", "mark", "p", "pre", "q", "s", "samp", "small", "span", "strike",
    "strong", "sub", "sup", "tt", "u", "var", "wbr",
    # lists
    "dd", "dl", "dt", "li", "ol", "ul",
    # tables
    "caption", "col", "colgroup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    # images
    "img", "figure", "figcaption",
}  # fmt: skip

_TABLE_ATTRS = {
    "align",
    "valign",
    "width",
    "height",
    "colspan",
    "rowspan",
    "border",
    "cellpadding",
    "cellspacing",
    "bgcolor",
}
_ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"title", "lang", "dir"},
    "a": {"href", "name"},
    "img": {"src", "data-remote-src", "alt", "width", "height"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "li": {"value"},
    "p": {"align"},
    "div": {"align"},
    "table": _TABLE_ATTRS,
    "td": _TABLE_ATTRS,
    "th": _TABLE_ATTRS,
    "tr": {"align", "valign", "bgcolor"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
# Elements whose content is dropped with them (the others keep their text).
_CLEAN_CONTENT_TAGS = {
    "script",
    "style",
    "title",
    "template",
    "noscript",
    "iframe",
    "object",
    "embed",
    "applet",
    "textarea",
    "select",
    "svg",
    "math",
}
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_SAFE_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|jpg|gif);base64,[a-z0-9+/=\s]*\Z", re.I)
_REMOTE = re.compile(r"\s*https?://", re.I)


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if tag == "img" and attr == "src":
        low = value.strip().lower()
        if low.startswith("cid:") or _SAFE_DATA_IMAGE.match(value.strip()):
            return value.strip()
        return None
    if tag == "img" and attr == "data-remote-src":
        return value.strip() if _REMOTE.match(value) else None
    if tag == "a" and attr == "href" and value.strip().lower().startswith(("data:", "cid:")):
        return None
    return value


def _defer_remote_images(html: str) -> str:
    """Move http(s) image sources to ``data-remote-src`` so the browser does not fetch them."""
    if "<img" not in html.lower():
        return html
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError) as exc:
        logger.debug("img pre-pass skipped: %s", exc)
        return html
    for img in root.iter("img"):
        src = img.get("src")
        if src is not None and _REMOTE.match(src):
            del img.attrib["src"]
            img.set("data-remote-src", src.strip())
            if not img.get("alt"):
                img.set("alt", "…")
    return "".join(
        [escape(root.text or "")]
        + [lxml.html.tostring(child, encoding="unicode") for child in root]
    )


#: Open elements kept when cleaning; deeper ones are flattened first (``flatten_deep``).
MAX_DEPTH = 200
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
    "param", "source", "track", "wbr",
})  # fmt: skip
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9:_.-]*\Z")


def _str(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


class _Depth:
    """An lxml parser target that only measures how deep elements nest."""

    __slots__ = ("deepest", "depth")

    def __init__(self) -> None:
        self.depth = self.deepest = 0

    def start(self, tag: str | bytes, attrib: dict[str | bytes, str | bytes]) -> None:
        self.depth += 1
        if self.depth > self.deepest:
            self.deepest = self.depth

    def end(self, tag: str | bytes) -> None:
        self.depth -= 1

    def data(self, data: str | bytes) -> None:
        pass

    def comment(self, text: str | bytes) -> None:
        pass

    def close(self) -> int:
        return self.deepest


def _run(target: _Depth | _Flattener, data: bytes) -> object:
    parser = lxml.etree.HTMLParser(
        target=target, encoding="utf-8", huge_tree=True, remove_comments=True, remove_pis=True
    )
    parser.feed(data)
    return parser.close()


class _Flattener:
    """An lxml parser target writing the HTML back without the elements deeper than
    ``limit`` (their text and their kept descendants stay, in order)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.out: list[str] = []
        self.kept: list[bool] = []  # one per open element: was its tag written
        self.flattened = 0

    def start(self, tag: str | bytes, attrib: dict[str | bytes, str | bytes]) -> None:
        name = _str(tag)
        keep = len(self.kept) < self.limit and bool(_NAME.match(name))
        self.kept.append(keep)
        if not keep:
            self.flattened += 1
            return
        pairs = ((_str(k), _str(v)) for k, v in attrib.items())
        attrs = "".join(f' {k}="{escape(v, quote=True)}"' for k, v in pairs if _NAME.match(k))
        self.out.append(f"<{name}{attrs}>")

    def end(self, tag: str | bytes) -> None:
        if self.kept and self.kept.pop() and _str(tag) not in _VOID:
            self.out.append(f"</{_str(tag)}>")

    def data(self, data: str | bytes) -> None:
        self.out.append(escape(_str(data), quote=False))

    def comment(self, text: str | bytes) -> None:
        pass  # nh3 drops comments anyway

    def close(self) -> str:
        return "".join(self.out)


def flatten_deep(html: str, limit: int = MAX_DEPTH) -> tuple[str, int]:
    """(html, number of elements flattened): elements nested deeper than ``limit`` lose
    their tags, in one linear pass of libxml2's HTML parser (lxml's parser target).

    nh3's tree builder takes quadratic time in the depth (250,000 nested ``div`` took
    minutes). Mail with no element deeper than ``limit`` comes back unchanged.
    """
    if html.count("<") <= limit:
        return html, 0
    data = html.encode("utf-8", "replace")
    try:
        if int(str(_run(_Depth(), data))) <= limit:  # the cheap pass: most mail stops here
            return html, 0
        target = _Flattener(limit)
        flat = str(_run(target, data))
    except (lxml.etree.LxmlError, ValueError) as exc:  # libxml2 recovers from nearly all
        logger.debug("flattening failed, using the text only: %s", exc)
        return escape(html_to_text(html)), 1
    return flat, target.flattened


def sanitize_html(html: str) -> str:
    """Return ``html`` cleaned to an allow-list; remote images deferred, links open safely."""
    html = html.replace("\x00", "")
    return nh3.clean(
        _defer_remote_images(html),
        tags=_ALLOWED_TAGS,
        clean_content_tags=_CLEAN_CONTENT_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )


# --- HTML to text ----------------------------------------------------------------

_SKIP = {"script", "style", "head", "title", "template", "noscript", "svg", "math"}
_PARAGRAPH = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "dl",
    "pre",
    "hr",
    "figure",
    "address",
}
_BLOCK = _PARAGRAPH | {
    "div",
    "tr",
    "li",
    "dt",
    "dd",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "center",
    "caption",
    "form",
    "fieldset",
    "tbody",
    "thead",
    "tfoot",
    "body",
    "html",
}
_CELL = {"td", "th"}


class _TextBuilder:
    def __init__(self) -> None:
        self.chunks: list[str] = []

    def _tail(self) -> str:
        for chunk in reversed(self.chunks):
            if chunk:
                return chunk
        return ""

    def newlines(self, n: int) -> None:
        if not self.chunks:
            return
        tail = "".join(self.chunks[-3:])
        have = len(tail) - len(tail.rstrip("\n"))
        if have < n:
            self.chunks.append("\n" * (n - have))

    def text(self, s: str, *, pre: bool = False) -> None:
        if not pre:
            s = re.sub(r"\s+", " ", s)
            if self._tail().endswith(("\n", " ")) or not self.chunks:
                s = s.lstrip(" ")
        if s:
            self.chunks.append(s)

    def result(self) -> str:
        return "".join(self.chunks)


def _render(el: lxml.html.HtmlElement, out: _TextBuilder, pre: bool = False) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    tag = tag.lower()
    if tag in _SKIP or not isinstance(el.tag, str):
        if el.tail:
            out.text(el.tail, pre=pre)
        return
    if tag == "blockquote":
        inner = _TextBuilder()
        inner.text(el.text or "", pre=pre)
        for child in el:
            _render(child, inner, pre)
        quoted = inner.result().strip("\n")
        out.newlines(1)
        out.chunks.append("\n".join("> " + line if line else ">" for line in quoted.splitlines()))
        out.newlines(1)
    else:
        if tag in _PARAGRAPH:
            out.newlines(2)
        elif tag in _BLOCK:
            out.newlines(1)
        if tag == "br":
            out.chunks.append("\n")
        elif tag == "li":
            out.text("- ")
        elif tag in _CELL and not out._tail().endswith("\n"):
            out.chunks.append("\t")
        elif tag == "hr":
            out.chunks.append("---")
        if el.text:
            out.text(el.text, pre=pre or tag == "pre")
        for child in el:
            _render(child, out, pre or tag == "pre")
        if tag == "a":
            href = (el.get("href") or "").strip()
            label = el.text_content().strip()
            shown = re.match(r"(?:https?|mailto|tel):", href, re.I)
            if shown and href not in label and (href.removeprefix("mailto:") not in label):
                out.text(f" ({href})")
        elif tag == "img":
            alt = (el.get("alt") or "").strip()
            if alt:
                out.text(f"[{alt}]")
        if tag in _PARAGRAPH:
            out.newlines(2)
        elif tag in _BLOCK:
            out.newlines(1)
    if el.tail:
        out.text(el.tail, pre=pre)


def html_to_text(html: str) -> str:
    """Readable plain text from HTML: blocks become lines, links read 'text (url)'."""
    html = html.replace("\x00", "")
    if not html.strip():
        return ""
    try:
        parser = lxml.html.HTMLParser(
            encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True
        )
        root = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
        out = _TextBuilder()
        _render(root, out)
        text = out.result()
    except (lxml.etree.LxmlError, ValueError, RecursionError) as exc:
        logger.debug("html_to_text fallback: %s", exc)
        text = re.sub(r"<[^>]*>", " ", html)
    text = text.replace("\xa0", " ")
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- quoted history -----------------------------------------------------------------

_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:original message|alkuperäinen viesti|ursprungligt meddelande"
    r"|ursprüngliche nachricht)\s*-{2,}\s*$",
    re.I,
)
_ATTRIBUTION = re.compile(
    r"^\s*(?:on\b.{0,300}\bwrote|.{0,300}\b(?:kirjoitti|skrev|schrieb)|.{0,300}a écrit"
    r"|(?:den|am)\b.{0,300}\b(?:skrev|schrieb)\b.{0,200})\s*:\s*$",
    re.I,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:from|lähettäjä|från|von|de)\s*:\*?\s*\S", re.I)
_OUTLOOK_SENT = re.compile(
    r"^\s*\*?(?:sent|date|lähetetty|päivämäärä|skickat|datum|gesendet|envoyé)\s*:", re.I
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")


def _interleaved(after: list[str]) -> bool:
    # Quoted lines answered in between: the text after the attribution is not all history.
    rest = [line.strip() for line in after if line.strip()]
    return any(r.startswith(">") for r in rest) and not all(r.startswith(">") for r in rest)


def _history_starts(lines: list[str]) -> Iterator[int]:
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line):
            yield i
        elif _ATTRIBUTION.match(line):
            if not _interleaved(lines[i + 1 :]):
                yield i
        elif (
            i + 1 < len(lines)
            and _ATTRIBUTION.match(line + " " + lines[i + 1])
            and (line.lower().lstrip().startswith("on ") or "klo" in line)
        ):
            # Gmail wraps a long attribution line over two lines.
            if not _interleaved(lines[i + 2 :]):
                yield i
        elif _OUTLOOK_FROM.match(line) and any(
            _OUTLOOK_SENT.match(nxt) for nxt in lines[i + 1 : i + 4]
        ):
            yield i - 1 if i > 0 and _UNDERSCORES.match(lines[i - 1]) else i
        elif re.match(r"^\s*lähetetty\s*:", line, re.I) and not (
            i > 0 and _OUTLOOK_FROM.match(lines[i - 1])
        ):
            yield i


def _trailing_quote_start(lines: list[str]) -> int | None:
    start = None
    for i in range(len(lines) - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped.startswith(">"):
            start = i
        elif stripped and start is not None:
            break
        elif stripped:
            return None
    return start


def split_quoted(text: str) -> tuple[str, str]:
    """Split a plain-text reply into (new text, quoted history) for collapsing in the UI.

    Forwarded messages are content, not history, so forward markers do not split. When
    the new part would be empty, the whole text is returned as new.
    """
    lines = text.splitlines()
    cut = next(_history_starts(lines), None)
    trailing = _trailing_quote_start(lines)
    if trailing is not None and (cut is None or trailing < cut):
        cut = trailing
    if cut is None:
        return text, ""
    new = "\n".join(lines[:cut]).rstrip()
    if not new.strip():
        return text, ""
    return new, "\n".join(lines[cut:]).strip("\n")
