"""A step click on each lesson page vs a button click on an empty Streamlit page: click to idle, in Chromium.

Both apps run under `streamlit run` and are driven by the same headless Chromium in the same run, clicks taken in
turn (one per page per round) so that load on the machine falls on all of them alike. Idle: the script state is
`notRunning` again after the click's rerun, and no element is stale. Target: each step <= 2x the empty page.
"""
from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, start_server  # noqa: E402
from tests.e2e.helpers import open_page, wait_idle  # noqa: E402

CLICKS = 12
# A button and the number of clicks: the page changes on each click, as a lesson's does (a run that leaves the page
# as it was can end before the browser shows it running, and then nothing tells that it happened).
EMPTY_APP = """import streamlit as st

if st.button("click me", key="empty_button"):
    st.session_state["clicks"] = st.session_state.get("clicks", 0) + 1
st.write(st.session_state.get("clicks", 0))
"""

# Resolves with the milliseconds from the click until the rerun it caused has finished and nothing is stale.
CLICK_TO_IDLE = """async (selector) => {
  // the first button that is on screen (Streamlit keeps an invisible copy of a button to measure its label)
  const button = [...document.querySelectorAll(selector)].find(b => b.getClientRects().length
    && getComputedStyle(b).visibility !== 'hidden' && b.closest('[aria-hidden=true]') === null);
  if (!button) return -2;
  if (button.disabled) return -3;
  let started = false;
  const watch = new MutationObserver(records => {  // a run may start and end between two checks: read the records
    if (records.some(r => r.type !== 'attributes' || r.attributeName !== 'data-test-script-state'
                          || r.oldValue === 'running' || r.target.getAttribute(r.attributeName) === 'running'))
      started = true;  // the run was seen, or the page changed (a run too quick to catch)
  });
  watch.observe(document.body, {attributes: true, subtree: true, attributeOldValue: true,
                                attributeFilter: ['data-test-script-state']});
  const main = document.querySelector('[data-testid=stMain]');
  if (main) watch.observe(main, {childList: true, subtree: true, characterData: true});
  const t0 = performance.now();
  button.click();
  return await new Promise(resolve => {
    const check = () => {
      if (document.querySelector('[data-test-script-state=running]')) started = true;
      const idle = document.querySelector('[data-test-script-state=notRunning]')
        && !document.querySelector('[data-stale=true]');
      if (started && idle) { watch.disconnect(); resolve(performance.now() - t0); }
      else if (performance.now() - t0 > 30000) { watch.disconnect(); resolve(-1); }
      else setTimeout(check, 4);
    };
    check();
  });
}"""


@dataclass
class Target:
    """A page and the two buttons clicked in turn there (a step forward, a step back)."""
    name: str
    path: str
    keys: tuple[str, str]
    tab: str | None = None  # a tab to show first (the stepper lives in it)

    def selector(self, i: int) -> str:
        return f".st-key-{self.keys[i % 2]} button"


TARGETS = [
    Target("graph forward step", "graph", ("graph_fwd_prev", "graph_fwd_next")),
    Target("graph backward step", "graph?graph_view=bwd", ("graph_bwd_next", "graph_bwd_prev"), tab="Backward"),
    Target("accumulation step", "accumulation", ("acc_step", "acc_step")),
    Target("retain_graph step", "retain_graph", ("retain_backward", "retain_reset")),
    Target("home next stop", "", ("home_next", "home_prev")),
]


def start_empty_app(folder: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run` on a one-button app, started like the real one."""
    script = folder / "empty_app.py"
    script.write_text(EMPTY_APP)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false"], cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):  # up to about a minute and a half on a busy machine
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return proc, url
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the empty Streamlit app did not start")


def open_target(page: Page, url: str, target: Target) -> None:
    open_page(page, url)  # the router first (see tests/e2e/test_labs.py on a fresh server's first request)
    open_page(page, url, target.path)
    if target.tab and page.get_by_role("tab", name=target.tab).count():
        page.get_by_role("tab", name=target.tab).first.click()
        wait_idle(page)
    for key in target.keys:
        page.locator(f".st-key-{key} button").first.wait_for(state="visible", timeout=60_000)


def click_ms(page: Page, selector: str) -> float:
    ms = page.evaluate(CLICK_TO_IDLE, selector)
    if ms < 0:
        why = {-1: "no idle within 30 s", -2: "no such button", -3: "the button is disabled"}[ms]
        raise RuntimeError(f"{selector}: {why}")
    wait_idle(page)  # settled (a follow-up rerun included) before the next click
    return ms


def measure(targets: list[Target], clicks: int) -> dict[str, list[float]]:
    app, url = start_server()
    with tempfile.TemporaryDirectory() as folder:
        empty, empty_url = start_empty_app(Path(folder))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                pages = {}
                for target in [Target("empty page button", "", ("empty_button", "empty_button"))] + targets:
                    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                    open_target(page, empty_url if target.name == "empty page button" else url, target)
                    pages[target.name] = (page, target)
                times = {name: [] for name in pages}
                for i in range(clicks + 1):  # the first round warms caches and is dropped
                    for name, (page, target) in pages.items():
                        ms = click_ms(page, target.selector(i))
                        if i:
                            times[name].append(ms)
                browser.close()
        finally:
            empty.terminate()
            app.terminate()
    return times


def main(clicks: int = CLICKS, only: str = "") -> dict:
    """Median click-to-idle of each lesson step over `clicks` rounds; `only` keeps the targets whose name has it."""
    times = measure([t for t in TARGETS if only in t.name], clicks)
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians.pop("empty page button")
    print(f"empty page button click → idle: {base:.0f} ms (median of {clicks})")
    for name, ms in medians.items():
        print(f"{name:22s} {ms:7.0f} ms  {ms / base:5.2f}x empty  (min {min(times[name]):.0f}, "
              f"max {max(times[name]):.0f})")
    worst = max(medians, key=medians.get)
    return {"what": f"slowest lesson step click ({worst}) vs an empty page's button, click to idle",
            "ratio": medians[worst] / base, "target": "<= 2", "empty_ms": base,
            **{f"ratio_{name.replace(' ', '_')}": ms / base for name, ms in medians.items()}}


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else CLICKS, sys.argv[2] if len(sys.argv) > 2 else "")
    print(f"ratio {result['what']}: {result['ratio']:.2f}x (target {result['target']})")
