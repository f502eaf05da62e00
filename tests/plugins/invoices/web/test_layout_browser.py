"""The whole app's layout on a phone (390 px) and a laptop (1366 px), both languages.

The invoice plugin is installed, as in production, so its pages and navigation entries are
measured too. Every page must fit the window sideways (nothing cut off at the right edge;
wide tables scroll inside their own box), the navigation stays on one row on a laptop, and
on a phone the header leaves the screen to the work.
"""

from __future__ import annotations

from typing import Any

import factories
import pytest
from app_pages import app_pages, seed_demo
from browser import LiveServer, browser_login
from netvisor_sandbox import NetvisorSandbox
from sqlmodel import Session

from helpdesk.db import new_session

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}

#: Elements that stick out of the window's right edge and are not inside a box that
#: scrolls or clips them sideways: what a user cannot see or reach.
OVERFLOWING = """
() => {
  const width = document.documentElement.clientWidth;
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if (x === "auto" || x === "scroll" || x === "hidden") return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    if (el.closest("details:not([open]) > :not(summary)")) continue;  // a closed menu
    if (box.right > width + 1 && !clipped(el)) {
      out.push(el.tagName.toLowerCase() + (el.className ? "." + el.className : "") +
               " " + (el.textContent || "").trim().slice(0, 30) + " → " + Math.round(box.right));
    }
  }
  return {page: document.documentElement.scrollWidth, width, out: out.slice(0, 8)};
}
"""


#: Checkboxes and radios whose label text does not start beside them on the same line.
MISALIGNED = """
() => [...document.querySelectorAll("label > input[type=checkbox], label > input[type=radio]")]
  .filter((box) => box.offsetParent !== null)
  .map((box) => {
    const label = box.parentElement, range = document.createRange();
    range.setStartAfter(box);
    range.setEndAfter(label.lastChild);
    const text = [...range.getClientRects()].filter((r) => r.width > 0)[0];
    if (!text) return null;
    const edge = box.getBoundingClientRect();
    const beside = text.left >= edge.right - 1 && text.top < edge.bottom;
    return beside ? null : label.textContent.trim().slice(0, 40);
  })
  .filter(Boolean)
"""


def _fits(page: Any, where: str) -> None:
    found = page.evaluate(OVERFLOWING)
    assert found["page"] <= found["width"], (where, found)
    assert not found["out"], (where, found)
    assert page.evaluate(MISALIGNED) == [], where


@pytest.mark.parametrize("language", ["fi", "en"])
def test_every_page_fits_a_phone_and_a_laptop(
    live_server: LiveServer, page: Any, netvisor_env: NetvisorSandbox, language: str
) -> None:
    with Session(new_session().get_bind(), expire_on_commit=False) as session:
        agent = factories.agent(session, admin=True, name="Liisa Lehtonen-Korhonen")
        seed_demo(session, netvisor_env)
        paths = app_pages(session)

    browser_login(page, live_server, agent)
    if language == "en":
        page.click("[data-testid=user-menu]")
        page.click("[data-testid=lang-en]")
    for size in (LAPTOP, PHONE):
        page.set_viewport_size(size)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            where = f"{path} at {size['width']} px ({language})"
            _fits(page, where)
            header = page.locator("header.topbar").bounding_box()
            assert header is not None
            if size is LAPTOP:
                # One row: the navigation does not wrap (Admin stays beside the rest).
                tops = page.locator(".mainnav > a, .mainnav > details > summary").evaluate_all(
                    "els => els.map(e => Math.round(e.getBoundingClientRect().top))"
                )
                assert len(set(tops)) == 1, (where, tops)
                nav = page.locator(".mainnav").evaluate("e => [e.scrollWidth, e.clientWidth]")
                assert nav[0] <= nav[1], (where, "navigation cut off", nav)
                assert header["height"] <= 64, (where, header)
            else:
                assert header["height"] <= size["height"] * 0.15, (where, header)
        # The inbox and the composer are whole, not cut off inside a scrolling box.
        page.goto(f"{live_server.url}/tickets")
        inbox = page.locator("#ticket-list").evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert inbox[0] <= inbox[1], ("inbox", size, inbox)
        page.goto(f"{live_server.url}{paths[2]}")
        composer = page.locator("#reply-body").bounding_box()
        assert composer is not None
        if size is PHONE:  # the reply box takes the phone's width
            assert composer["width"] >= size["width"] - 60, composer
        # The admin menu's items open inside the window.
        page.goto(f"{live_server.url}/tickets")
        page.locator(".navmenu summary").click()
        _fits(page, f"admin menu at {size['width']} px ({language})")
        for item in page.locator(".navmenu-items a").all():
            box = item.bounding_box()
            assert box is not None and box["x"] >= 0
            assert box["x"] + box["width"] <= size["width"], (item.text_content(), box)
        page.keyboard.press("Escape")
