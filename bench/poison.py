"""Poison mail against a baseline: parse time of the mails that once stopped a mailbox.

Prints, for each poison mail, the time ``parse_mail`` takes (best of ``--repeat``) and the
ratio against an ordinary HTML mail of the same size measured in the same run, and nh3
alone on a smaller nesting (its time grows with the square of the depth, so 250,000 is
not measured: it took minutes before the flattening).

    .venv/bin/python bench/poison.py [--depth 250000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nh3

from helpdesk.mail.parsing.parse import parse_mail

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))  # after helpdesk

from mailgen import eight_bit_message_id, long_from_with_nul, nested_divs


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def flat_html(size: int) -> bytes:
    """An ordinary HTML mail of about ``size`` bytes: paragraphs side by side."""
    para = "<p>Hei, lasku <b>100102</b> ei lähtenyt.</p>"
    body = para * (size // len(para.encode()))
    head = "From: a@example.fi\r\nSubject: flat\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    return (head + body).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    deep = nested_divs(args.depth)
    baseline = best(lambda: parse_mail(flat_html(len(deep))), args.repeat)
    print(f"baseline: ordinary HTML mail of {len(deep):,} bytes: {baseline:.3f} s")
    cases = {
        f"{args.depth:,} nested divs": deep,
        "8-bit Message-ID": eight_bit_message_id(),
        "900-char From with NUL": long_from_with_nul(900),
    }
    for name, raw in cases.items():
        took = best(lambda raw=raw: parse_mail(raw), args.repeat)
        print(f"{name}: {took:.3f} s ({took / baseline:.2f}x baseline)")
    for depth in (5_000, 10_000, 20_000):
        html = "<div>" * depth + "x" + "</div>" * depth
        took = best(lambda html=html: nh3.clean(html), 1)
        print(f"nh3.clean alone, {depth:,} nested divs: {took:.3f} s")


if __name__ == "__main__":
    main()
