"""Chromium: ?present=1 hides the sidebar and secondary controls and enlarges the type; exit brings them back."""
from __future__ import annotations

from tests.e2e.helpers import assert_no_exception, open_page, shot, wait_idle


def font_size(page) -> float:
    return float(page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)"))


def test_presenter_mode_from_url(page, app_url):
    open_page(page, app_url, "data?present=1")
    assert_no_exception(page)
    assert not page.locator("[data-testid=stSidebar]").is_visible()
    assert not page.locator(".st-key-secondary_data_upload_options").is_visible()
    assert font_size(page) == 20
    shot(page, "presenter_data")
    page.get_by_text("Exit presenter mode").click()
    wait_idle(page)
    assert page.locator("[data-testid=stSidebar]").is_visible()
    assert page.locator(".st-key-secondary_data_upload_options").is_visible()
    assert font_size(page) < 20
