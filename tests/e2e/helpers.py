"""Helpers for browser tests: waiting for Streamlit, opening pages, screenshots."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    """Wait until the script run is finished and stays finished (a rerun can follow right after a run ends)."""
    idle = "[data-test-script-state=notRunning]"
    calm = 0
    while calm < 3:
        page.wait_for_selector(idle, timeout=timeout, state="attached")
        page.wait_for_timeout(250)
        calm = calm + 1 if page.locator(idle).count() else 0


def open_page(page: Page, app_url: str, path: str = "") -> None:
    """Open a page of the app by URL path (e.g. 'graph') and wait for it to settle."""
    page.goto(f"{app_url}/{path}")
    page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    wait_idle(page)


def assert_no_exception(page: Page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0, page.locator(
        "[data-testid=stException]").first.inner_text()


def shot(page: Page, name: str) -> Path:
    """Screenshot the whole page: Streamlit scrolls inside its main block, so grow the viewport to fit it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                           "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 0)")
    page.set_viewport_size({"width": size["width"], "height": min(max(height + 120, size["height"]), 8000)})
    page.wait_for_timeout(400)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


def choose_option(page: Page, key: str, option: str) -> None:
    """Pick `option` in the selectbox with this key (when a click only focuses it, ArrowDown opens the list)."""
    wait_idle(page)
    page.locator(f".st-key-{key} input").first.click()
    target = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        try:
            target.click(timeout=3_000)
            break
        except Exception:  # noqa: BLE001 - the list did not open (or closed on a rerun): open it by keyboard
            page.locator(f".st-key-{key} input").first.press("ArrowDown")
    wait_idle(page)


# The Training page's status line: the live panel's while a run plays (serve.py's route feeds it), else the
# progress bar's. Both read "running · epoch 3/20 · step 39/260 …".
TRAIN_STATUS = ".live-status, [data-testid=stProgress]"
