"""Graph page in Chromium: the graph renders as SVG, stepping moves the highlight, screenshots for a human look."""
from __future__ import annotations

import re

from tests.e2e.helpers import assert_no_exception, open_page, shot, wait_idle

HIGHLIGHT_FILL = "gold"


def _highlighted(page) -> list[str]:
    """Titles (DOT node ids) of the nodes drawn gold in every rendered graph, in page order."""
    return page.evaluate(
        """(fill) => Array.from(document.querySelectorAll('[data-testid=stGraphVizChart] svg g.node'))
             .filter(g => Array.from(g.querySelectorAll('path,polygon')).some(p => p.getAttribute('fill') === fill))
             .map(g => g.querySelector('title').textContent)""", HIGHLIGHT_FILL)


def _click(page, label: str) -> None:
    """Click the visible button (widgets of hidden tabs are not in the accessibility tree)."""
    page.get_by_role("button", name=re.compile(label)).first.click()
    wait_idle(page)


def _open_graph(page, app_url) -> None:
    """Open the app once at its root first: a fresh server resolves /graph before app.py's st.navigation ran."""
    open_page(page, app_url)
    open_page(page, app_url, "graph")
    page.wait_for_selector("[data-testid=stGraphVizChart] svg g.node", timeout=60_000)


def test_graph_renders_and_forward_stepping_moves_highlight(page, app_url):
    _open_graph(page, app_url)
    assert_no_exception(page)
    text = page.locator("[data-testid=stMain]").inner_text()
    assert "grad_fn=<AddBackward0>" in text and "torch.Size([1, 5])" in text
    seen = [_highlighted(page)[0]]  # the page opens on the last op: y's AddBackward0
    shot(page, "graph_forward_full")
    for _ in range(2):
        _click(page, "Previous")
        seen.append(_highlighted(page)[0])
    assert len(set(seen)) == 3, seen  # each step highlights a different node
    shot(page, "graph_forward_step1")
    assert_no_exception(page)


def test_backward_stepping_and_play(page, app_url):
    _open_graph(page, app_url)
    page.get_by_role("tab", name=re.compile("Backward")).click()
    page.wait_for_timeout(500)
    seen = []
    for _ in range(3):
        _click(page, "Next")
        seen.append(_highlighted(page)[-1])
    assert len(set(seen)) == 3, seen
    assert "step 3: MmBackward0" in page.locator("[data-testid=stMain]").inner_text()
    shot(page, "graph_backward_step3")
    _click(page, "Play")  # plays to the end, then stops
    page.wait_for_function("() => document.body.innerText.includes('b.grad == 1 is True')", timeout=30_000)
    wait_idle(page)
    assert page.get_by_role("button", name=re.compile("Play")).count() == 1  # stopped: Pause became Play again
    shot(page, "graph_backward_done")
    assert_no_exception(page)


def test_bad_expression_keeps_last_graph_and_large_graph(page, app_url):
    _open_graph(page, app_url)
    box = page.get_by_label("forward expression (edit me)", exact=True)  # not its help button
    box.fill("().__class__.__bases__")
    box.press("Enter")
    wait_idle(page)
    assert "'__bases__' are not allowed" in page.locator("[data-testid=stAlertContentError]").inner_text()
    assert page.locator("[data-testid=stGraphVizChart] svg g.node").count() > 3
    shot(page, "graph_bad_expression")
    page.get_by_role("tab", name=re.compile("Large graph")).click()
    page.wait_for_timeout(1500)
    assert "0: Linear" in page.locator("[data-testid=stGraphVizChart]").last.inner_text()
    shot(page, "graph_mlp_collapsed")
    assert_no_exception(page)
