"""Chromium: every page audited with axe-core (WCAG 2.1 A and AA) with everything scrolled into view, at a desk
(1400x1000) and on a projector (1280x720, ?present=1); and no page scrolls sideways on a phone or a tablet.

Violations inside Streamlit's own navigation, header and toolbar are Streamlit's, not ours: they are listed (the
run prints them) and not counted.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.helpers import assert_no_exception, open_page, shot, wait_idle

AXE = Path(__file__).resolve().parents[2] / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ("", "data", "config", "graph?graph_view=fwd", "graph?graph_view=bwd&graph_bwd_pos=3", "graph?graph_view=check",
         "graph?graph_view=mlp", "accumulation", "accumulation?acc_tab=optimizer", "accumulation?acc_tab=micro",
         "retain_graph", "modules", "errors", "autograd_tools", "gradient_flow", "scratchpad", "training")
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


FOCUSED_NODE = """() => { const e = document.activeElement; const node = e && e.closest('.graph-box [data-node]');
  if (!node) return null; const s = getComputedStyle(node);
  return {id: node.dataset.node, role: node.getAttribute('role'), name: node.getAttribute('aria-label'),
          outline: s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor}; }"""
SAID = "() => [...document.querySelectorAll('.graph-say')].map(e => e.textContent).join(' | ')"


def test_graph_nodes_are_buttons_from_the_keyboard_and_a_live_region_says_the_step(page: Page, app_url):
    page.set_viewport_size({"width": 1400, "height": 1000})
    open_page(page, app_url, "graph?graph_view=bwd&graph_bwd_pos=3")
    page.wait_for_selector(".graph-box [data-node] rect", timeout=60_000)
    assert page.evaluate("document.querySelector('.graph-say').getAttribute('aria-live')") == "polite"
    before = page.evaluate(SAID)
    assert before.startswith("Backward step 3 of "), before
    page.evaluate("document.querySelector('[data-testid=stMain]').focus()")  # start tabbing from the page's top
    node = None
    for _ in range(120):
        page.keyboard.press("Tab")
        node = page.evaluate(FOCUSED_NODE)
        if node:
            break
    assert node, "Tab never reached a node of the graph"
    assert node["role"] == "button" and node["outline"].startswith("solid 3px"), node
    name = node["name"].split(" ")[0]
    assert "(" in node["name"] and any(kind in node["name"] for kind in ("parameter", "input tensor",
                                                                          "backward function", "output tensor",
                                                                          "AccumulateGrad")), node
    page.keyboard.press("Enter")
    wait_idle(page)
    said = page.evaluate(SAID)
    assert f"Inspecting {name}." in said and said != before, said
    assert re.search(rf"Inspecting {re.escape(name)} \(node {node['id']}\)",
                     page.locator("[data-testid=stMain]").inner_text())  # the inspector, as a click opens it
    assert (page.evaluate(FOCUSED_NODE) or {}).get("id") == node["id"]  # the keyboard keeps its place


LABEL_PX = """() => [...document.querySelectorAll('svg.graph-svg')].filter(svg => svg.getBoundingClientRect().width)
  .flatMap(svg => [...svg.querySelectorAll('text')]
  .map(t => parseFloat(getComputedStyle(t).fontSize) * svg.getScreenCTM().a))"""
BROKEN_WORDS = """() => {  // a control's label whose words do not fit on their line (broken inside, or cut with …)
  const out = [];
  for (const p of document.querySelectorAll('[data-testid^=stBaseButton] p, [data-testid=stWidgetLabel] p, '
                                            + '[data-baseweb=select] [value], [data-baseweb=select] div[title]')) {
    const range = document.createRange(); const words = (p.textContent || '').split(/\\s+/).filter(Boolean);
    if (!words.length || !p.firstChild || p.closest('[data-testid=stSidebar][data-collapsed=true]')) continue;
    const text = p.firstChild.nodeType === 3 ? p.firstChild : null;
    if (p.scrollWidth > p.clientWidth + 1) { out.push(p.textContent + ' (cut)'); continue; }
    if (!text) continue;
    let at = 0;
    for (const word of words) {  // each word on one line: its box is one line high
      const i = text.textContent.indexOf(word, at); if (i < 0) break; at = i + word.length;
      range.setStart(text, i); range.setEnd(text, at);
      if (range.getClientRects().length > 1) { out.push(word + ' (broken)'); break; }
    }
  }
  for (const b of document.querySelectorAll('[data-testid^=stBaseButton]')) {  // a label never runs under its hint
    const label = b.querySelector('[data-testid=stMarkdownContainer]'), hint = b.querySelector('kbd');
    if (!label || b.closest('[data-testid=stSidebar][data-collapsed=true]')) continue;
    if (label.scrollWidth > label.clientWidth + 1) out.push(label.textContent + ' (overflows its button)');
    const a = label.getBoundingClientRect(), k = hint && hint.getBoundingClientRect();
    if (k && k.width && a.width && k.left < a.right - 1 && k.right > a.left + 1 && k.top < a.bottom - 1
        && k.bottom > a.top + 1) out.push(label.textContent + ' (under its shortcut hint)');
  }
  return out;
}"""


@pytest.mark.parametrize("size", [(390, 844), (820, 1180)], ids=["phone", "tablet"])
def test_graph_labels_stay_readable_and_no_control_label_breaks_inside_a_word(page: Page, app_url, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    for path in ("graph?graph_view=fwd", "graph?graph_view=bwd&graph_bwd_pos=3", "retain_graph", "errors",
                 "training", "accumulation", "data"):
        open_page(page, app_url, path)
        assert_no_exception(page)
        if path.startswith(("graph", "retain", "errors")):
            page.wait_for_selector("svg.graph-svg [data-node] rect", timeout=60_000)
            sizes = page.evaluate(LABEL_PX)
            assert sizes and min(sizes) >= 11.9, (path, min(sizes))
        if size[0] > 800:
            assert page.locator("[data-testid=stSidebar][data-collapsed=false]").count(), "the sidebar is open"
        assert not page.evaluate(BROKEN_WORDS), (path, page.evaluate(BROKEN_WORDS))
        shot(page, f"a11y_{path.split('?')[0] or 'home'}_{size[0]}")


@pytest.mark.parametrize("path", ["graph?graph_view=bwd&graph_bwd_pos=3", "training", "data"])
def test_presenter_screenshots(page: Page, app_url, path):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, app_url, path + ("&" if "?" in path else "?") + "present=1")
    assert_no_exception(page)
    shot(page, f"a11y_present_{path.split('?')[0]}")


RING = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
  const shown = e.matches('input[type=checkbox], input[type=radio]') ? e.closest('label') : e;
  const s = getComputedStyle(shown);
  return {what: e.type || e.getAttribute('role') || e.tagName, name: (e.getAttribute('aria-label') || e.textContent
          || '').slice(0, 30), ring: s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor}; }"""


def test_focus_is_ringed_on_links_toggles_radios_buttons_and_graph_nodes(page: Page, app_url):
    """Every control the keyboard reaches (nav links, toggles, radios, buttons, the graph's nodes) shows a 3 px ring
    in #1a4fa8 (8:1 on white, 7:1 on the sidebar's grey), not Streamlit's faint one (1.1-2.2:1)."""
    page.set_viewport_size({"width": 1400, "height": 1000})
    open_page(page, app_url, "graph?graph_view=bwd&graph_bwd_pos=3")
    page.wait_for_selector(".graph-box [data-node] rect", timeout=60_000)
    page.evaluate("document.body.focus()")
    kinds = {}
    for _ in range(60):
        page.keyboard.press("Tab")
        got = page.evaluate(RING)
        if got:
            kinds.setdefault(got["what"], []).append(got)
    for kind in ("checkbox", "radio", "button", "submit"):
        assert kind in kinds, sorted(kinds)
    assert "A" in kinds  # the navigation's links
    weak = [g for found in kinds.values() for g in found if g["ring"] != "solid 3px rgb(26, 79, 168)"]
    assert not weak, weak
