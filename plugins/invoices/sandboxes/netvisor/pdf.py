"""A minimal one-page PDF writer for the sandbox's invoice images.

Only what an invoice image needs: lines of text in Helvetica on an A4 page. Text is
WinAnsi-encoded so å, ä, ö and € print; the cross-reference table is computed from
the real byte offsets, so the file opens in any reader.
"""

from __future__ import annotations

from collections.abc import Sequence

A4_WIDTH = 595
A4_HEIGHT = 842


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    out = bytearray(b"(")
    for byte in raw:
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += f"\\{byte:03o}".encode("ascii")
    out += b")"
    return bytes(out)


def render_text_pdf(lines: Sequence[str], *, title: str = "Lasku") -> bytes:
    """A valid single-page PDF showing ``lines`` top-down; the first line is set larger."""
    content = bytearray(b"BT\n")
    y = A4_HEIGHT - 72
    for index, line in enumerate(lines):
        size = 16 if index == 0 else 11
        content += f"/F1 {size} Tf\n1 0 0 1 56 {y} Tm\n".encode("ascii")
        content += _pdf_string(line) + b" Tj\n"
        y -= 26 if index == 0 else 16
    content += b"ET\n"

    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {A4_WIDTH} {A4_HEIGHT}] "
            "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ).encode("ascii"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length "
        + str(len(content)).encode("ascii")
        + b" >>\nstream\n"
        + bytes(content)
        + b"endstream",
        b"<< /Title " + _pdf_string(title) + b" /Producer (Netvisor sandbox) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode("ascii")
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("ascii")
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref_at}\n%%EOF\n"
    ).encode("ascii")
    return bytes(out)
