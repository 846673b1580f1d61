"""Graph page step clicks in Chromium: time from a click to the app being idle again, against a button click on an
empty Streamlit page, in the same browser run (median of CLICKS each).

Run: .venv/bin/python bench/bench_graph_steps.py [clicks]   — the last line printed is the ratio.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_server  # noqa: E402
from tests.e2e.helpers import wait_idle  # noqa: E402

CLICKS = 12
EMPTY_PAGE = "import streamlit as st\nst.button('click me', key='b')\n"
WATCH = """() => { window.__idle = [];  // when a run ends: the attribute leaves 'running' (even within one batch)
  new MutationObserver((records) => { for (const r of records) if (r.oldValue === 'running')
    window.__idle.push(performance.now()); }).observe(document.body, {attributes: true, subtree: true,
    attributeOldValue: true, attributeFilter: ['data-test-script-state']});
}"""


def click_to_idle(page: Page, name: str) -> float:
    """Milliseconds from clicking the button `name` to the last moment the script run became idle."""
    page.evaluate("window.__idle = []")
    start = page.evaluate("performance.now()")
    page.get_by_role("button", name=name).first.click()
    wait_idle(page)
    for _ in range(200):  # a run that ended between two polls of wait_idle is still on the list
        if page.evaluate("window.__idle.length"):
            break
        page.wait_for_timeout(50)
    return page.evaluate("Math.max(...window.__idle)") - start


def timings(page: Page, url: str, buttons: list[str], clicks: int) -> list[float]:
    page.goto(url)
    wait_idle(page)
    page.evaluate(WATCH)
    return [click_to_idle(page, buttons[i % len(buttons)]) for i in range(clicks)]


def main(clicks: int = CLICKS) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "empty.py"
        script.write_text(EMPTY_PAGE)
        app, app_url = start_server()
        bare, bare_url = start_server(script=str(script))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(app_url)
                wait_idle(page)
                empty = timings(page, bare_url, ["click me"], clicks)
                forward = timings(page, app_url + "/graph", ["Previous", "Next"], clicks)
                backward = timings(page, app_url + "/graph?graph_view=bwd&graph_bwd_pos=1", ["Next", "Previous"],
                                   clicks)
                browser.close()
        finally:
            for proc in (app, bare):
                proc.terminate()
                proc.wait(timeout=20)
    e, f, b = (statistics.median(t) for t in (empty, forward, backward))
    print(f"empty page button: {e:.0f} ms · Graph forward step: {f:.0f} ms · Graph backward step: {b:.0f} ms "
          f"(median of {clicks} clicks each, same browser)")
    ratio = max(f, b) / e
    print(f"slowest Graph step / empty click: {ratio:.2f}x")
    return ratio


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else CLICKS)
