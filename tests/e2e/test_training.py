"""Browser tests of live training: play, watch the loss chart grow, pause (nothing runs after "paused" shows),
play again, Play and Step after the last epoch, two sessions, a diverged run. No timing is asserted here:
bench/bench_train.py measures speed, panel updates and pause latency."""
from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.helpers import TRAIN_STATUS, assert_no_exception, choose_option, open_page, shot, wait_idle


def _status(page) -> tuple[str, int]:
    """The progress bar's text: status and step count."""
    text = page.locator(TRAIN_STATUS).first.inner_text()
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
    """Points drawn in the live loss chart's per-batch curve (the first polyline of its SVG)."""
    return len(page.locator(".live-loss svg polyline").first.get_attribute("points").split())


def test_play_pause_keeps_state(page, app_url):
    _open_training(page, app_url)
    assert_no_exception(page)
    # slow motion so training lasts long enough to watch
    page.locator(".st-key-train_pace input[type=range]").press("Home")
    page.locator(".st-key-train_pace input[type=range]").press("ArrowRight")  # 20 steps/s
    wait_idle(page)
    _set_epochs(page, 200)  # 2,600 steps: far more than this test watches, even on a busy machine
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
    # fed by serve.py's route, not by Streamlit reruns: the board polls, the fragment around it stays quiet
    assert page.locator(".live-board[data-polling]").count() == 1
    assert page.locator(".live-pred svg polyline").count() == 2 and page.locator(".live-norms svg polyline").count()
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


def _set_epochs(page, epochs: int) -> None:
    page.locator(".st-key-train_epochs input").fill(str(epochs))
    page.locator(".st-key-train_epochs input").press("Enter")
    wait_idle(page)


def _wait_status(page, pattern: str) -> None:
    page.locator(TRAIN_STATUS).first.filter(has_text=re.compile(pattern)).wait_for(timeout=60_000)


def _wait_step_above(page, step: int) -> None:
    """Wait until the progress bar shows a step beyond `step` (the first Play starts the training process)."""
    page.wait_for_function("document.querySelector('" + TRAIN_STATUS + "').innerText.match(/step (\\d+)/)[1]"
                           f" > {step}", timeout=60_000)


def _total(page) -> int:
    return int(re.search(r"step \d+/(\d+)", page.locator(TRAIN_STATUS).first.inner_text()).group(1))


def test_a_run_that_ends_while_the_board_polls_redraws_the_page(page, app_url):
    """The board polls serve.py's route and nothing reruns the page while it plays; the run's end must still bring
    the stopped page (its message, the stopped charts)."""
    _open_training(page, app_url)
    page.locator(".st-key-train_pace input[type=range]").press("Home")
    page.locator(".st-key-train_pace input[type=range]").press("ArrowRight")  # 20 steps/s
    wait_idle(page)
    _set_epochs(page, 3)
    _click(page, "train_reset")
    wait_idle(page)
    total = _total(page)
    _click(page, "train_play")
    page.wait_for_selector(".live-board[data-polling]", timeout=30_000)
    assert _status(page)[0] == "running"
    page.get_by_text("Done: 3 epochs.").wait_for(timeout=60_000)  # about 2 s of steps, then the board's rerun
    wait_idle(page)
    assert _status(page) == ("done", total)
    assert page.locator(".live-board").count() == 0 and page.locator(".st-key-train_loss_chart .main-svg").count()
    assert_no_exception(page)


def test_mlp_adam_at_full_speed_pauses_resumes_and_trains_on_after_done(page, app_url):
    _open_training(page, app_url)
    choose_option(page, "train_model", "mlp")
    choose_option(page, "train_optimizer", "adam")
    _set_epochs(page, 3000)
    _click(page, "train_reset")
    wait_idle(page)
    _click(page, "train_play")
    _wait_status(page, r"^running")
    _wait_step_above(page, 0)
    _click(page, "train_pause")
    _wait_status(page, r"^paused")
    paused_at = _status(page)[1]
    page.wait_for_timeout(1500)
    status, later = _status(page)
    assert status == "paused" and paused_at <= later <= paused_at + 1, "training went on after 'paused' showed"
    _click(page, "train_play")  # play resumes from where it paused
    _wait_status(page, r"^running")
    _wait_step_above(page, later + 20)
    _click(page, "train_pause")
    _wait_status(page, r"^paused")
    assert_no_exception(page)
    # a short run to its end: Play then trains as many epochs again, Step one more mini-batch
    _set_epochs(page, 2)
    _click(page, "train_reset")
    wait_idle(page)
    total = _total(page)
    _click(page, "train_play")
    _wait_status(page, r"^done")
    wait_idle(page)
    assert _status(page) == ("done", total)
    assert "Play trains 2 more epochs" in page.locator("[data-testid=stAlertContentInfo]").first.inner_text()
    _click(page, "train_play")
    _wait_status(page, r"^done · epoch 4/4")
    wait_idle(page)
    assert _status(page) == ("done", 2 * total) and _total(page) == 2 * total
    _click(page, "train_step")
    wait_idle(page)
    assert _status(page) == ("paused", 2 * total + 1) and _total(page) == 3 * total
    assert "Training on: 2 more epochs (6 in all)" in page.locator("[data-testid=stAlertContentInfo]").first.inner_text()
    assert_no_exception(page)
    shot(page, "training_after_done")


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
    _click(page, "train_play")  # a diverged run cannot go on: the page says what to press
    wait_idle(page)
    assert "press Reset" in page.locator("[data-testid=stAlertContentInfo]").first.inner_text()
    assert _status(page)[0] == "diverged"
    assert_no_exception(page)
    shot(page, "training_diverged")
