"""Chromium: every page audited with axe-core (WCAG 2.1 A and AA) with everything scrolled into view, at a desk
(1400x1000) and on a projector (1280x720, ?present=1); and no page scrolls sideways on a phone or a tablet.

Violations inside Streamlit's own navigation, header and toolbar are Streamlit's, not ours: they are listed (the
run prints them) and not counted.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.helpers import assert_no_exception, open_page, wait_idle

AXE = Path(__file__).resolve().parents[2] / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ("", "data", "config", "graph?graph_view=fwd", "graph?graph_view=bwd&bwd=3", "graph?graph_view=check",
         "graph?graph_view=mlp", "accumulation", "accumulation?acc_tab=optimizer", "accumulation?acc_tab=micro",
         "retain_graph", "modules", "training")
STREAMLIT_OWN = ("[data-testid=stSidebarNav]", "[data-testid=stHeader]", "[data-testid=stToolbar]",
                 "[data-testid=stSidebarHeader]", "[data-testid=stSidebarCollapseButton]")
SERIOUS = ("serious", "critical")


def audit(page: Page) -> tuple[list[dict], list[dict]]:
    """axe-core over the whole page grown to its content's height: (our serious violations, Streamlit's own)."""
    height = page.evaluate("Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                           "[data-testid=stMainBlockContainer], [data-testid=stSidebarContent]')]"
                           ".map(e => e.scrollHeight), 0)")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(max(height + 120, size["height"]), 12000)})
    page.wait_for_timeout(500)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations'],
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations""")
    page.set_viewport_size(size)
    ours, theirs = [], []
    for violation in result:
        if violation["impact"] not in SERIOUS:
            continue
        for node in violation["nodes"]:
            own = page.evaluate("([selector, own]) => { const e = document.querySelector(selector);"
                                " return !!e && own.some(s => e.closest(s)); }", [node["target"][0], STREAMLIT_OWN])
            (theirs if own else ours).append({"rule": violation["id"], "target": node["target"],
                                              "html": node["html"][:160], "why": node["failureSummary"][:240]})
    return ours, theirs


@pytest.mark.parametrize("present", [False, True], ids=["desk", "projector"])
@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_nothing_serious_in_our_content(page: Page, app_url, path, present):
    if present:
        page.set_viewport_size({"width": 1280, "height": 720})
        path += ("&" if "?" in path else "?") + "present=1"
    else:
        page.set_viewport_size({"width": 1400, "height": 1000})
    open_page(page, app_url, path)
    assert_no_exception(page)
    ours, theirs = audit(page)
    if theirs:
        print(f"\n{path}: Streamlit's own (not counted):", sorted({v["rule"] for v in theirs}))
    assert not ours, json.dumps(ours[:8], indent=1)


@pytest.mark.parametrize("size", [(390, 844), (820, 1180)], ids=["phone", "tablet"])
@pytest.mark.parametrize("path", PAGES)
def test_no_page_scrolls_sideways(page: Page, app_url, path, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    open_page(page, app_url, path)
    wait_idle(page)
    assert_no_exception(page)
    wide = page.evaluate("""() => [document.scrollingElement, ...document.querySelectorAll(
        '[data-testid=stMain], [data-testid=stMainBlockContainer]')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => [e.dataset.testid || e.tagName, e.scrollWidth,
        e.clientWidth])""")
    assert not wide, wide
