"""Browser test of live training: play, watch the loss chart grow, pause, click another widget, state kept."""
from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.helpers import assert_no_exception, open_page, shot, wait_idle


def _status(page) -> tuple[str, int]:
    """The progress bar's text: status and step count."""
    text = page.locator("[data-testid=stProgress]").first.inner_text()
    m = re.search(r"(\w+) · epoch \d+/\d+ · step (\d+)/", text)
    assert m, text
    return m.group(1), int(m.group(2))


def _open_training(page, app_url) -> None:
    """Open the app at its root and follow the sidebar link (a direct /training URL bypasses st.navigation
    in this Streamlit version, because a pages/ folder sits next to app.py)."""
    open_page(page, app_url, "")
    page.locator("[data-testid=stSidebarNav] a", has_text="Training").first.click()
    page.wait_for_selector(".st-key-train_play", timeout=60_000)
    wait_idle(page)


def _click(page, key: str) -> None:
    """Click the visible button of the widget with this key."""
    page.locator(f".st-key-{key} button").filter(visible=True).first.click()


def _loss_points(page) -> int:
    """Points drawn in the loss chart's per-batch trace (plotly SVG path segments)."""
    path = page.locator("[data-testid=stPlotlyChart]").first.locator("g.trace.scatter path.js-line").first
    return path.get_attribute("d").count("L") + 1


def test_play_pause_keeps_state(page, app_url):
    _open_training(page, app_url)
    assert_no_exception(page)
    # slow motion so training lasts long enough to watch
    page.locator(".st-key-train_pace input[type=range]").press("Home")
    page.locator(".st-key-train_pace input[type=range]").press("ArrowRight")  # 20 steps/s
    wait_idle(page)
    _click(page, "train_reset")
    wait_idle(page)
    assert _status(page) == ("ready", 0)
    _click(page, "train_play")
    page.wait_for_timeout(1500)
    status, first = _status(page)
    assert status == "running" and first > 0
    points_early = _loss_points(page)
    page.wait_for_timeout(2000)
    status, later = _status(page)
    assert later > first, "the step count did not advance while playing"
    assert _loss_points(page) > points_early, "the loss chart did not grow"
    shot(page, "training_running")
    _click(page, "train_pause")
    wait_idle(page)
    status, paused_at = _status(page)
    assert status == "paused"
    page.wait_for_timeout(1000)
    assert _status(page) == ("paused", paused_at), "training went on after pause"
    # another widget: a click must neither reset nor restart training
    page.locator(".st-key-train_log_y label").click()
    wait_idle(page)
    assert _status(page) == ("paused", paused_at)
    assert_no_exception(page)
    shot(page, "training_paused_log_y")
    # the downloads are built on click from the paused run
    with page.expect_download() as csv_download:
        _click(page, "train_dl_csv")
    lines = Path(csv_download.value.path()).read_text().splitlines()
    assert lines[0].startswith("step,train_loss") and len(lines) == paused_at + 1
    with page.expect_download() as script_download:
        _click(page, "train_dl_script")
    script = Path(script_download.value.path()).read_text()
    compile(script, "train_run.py", "exec")
    assert "def train_step(" in script and "CANDLES_CSV" in script


def test_two_sessions_train_independently(browser, app_url):
    pages = [browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(2)]
    try:
        for pg in pages:
            _open_training(pg, app_url)
        first, second = pages
        first.locator(".st-key-train_pace input[type=range]").press("Home")  # 5 steps/s
        wait_idle(first)
        _click(first, "train_play")
        first.wait_for_timeout(1500)
        assert _status(first)[0] == "running"
        assert _status(second) == ("ready", 0)  # the other session has its own worker
        _click(second, "train_step")
        wait_idle(second)
        assert _status(second) == ("paused", 1)
        assert _status(first)[0] == "running"
        _click(first, "train_pause")
        wait_idle(first)
    finally:
        for pg in pages:
            pg.context.close()


def test_raw_prices_diverge_with_a_message(page, app_url):
    _open_training(page, app_url)
    page.locator(".st-key-train_norm").click()
    page.get_by_role("option", name="none", exact=True).click()
    wait_idle(page)
    _click(page, "train_reset")
    wait_idle(page)
    _click(page, "train_play")
    page.wait_for_selector("[data-testid=stAlertContentError]", timeout=30_000)
    wait_idle(page)
    text = page.locator("[data-testid=stAlertContentError]").first.inner_text()
    assert text.startswith("Training stopped at step 2 (epoch 1)") and "Normalise the inputs" in text
    assert _status(page)[0] == "diverged"
    assert_no_exception(page)
    shot(page, "training_diverged")
