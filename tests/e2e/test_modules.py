"""Chromium: the Modules and shapes page, predict-then-reveal from a ?quiz=1 link and from the sidebar switch."""
from __future__ import annotations

import pytest
import torch
from playwright.sync_api import expect

from tests.e2e.helpers import SHOTS, assert_no_exception, open_page, shot, wait_idle

pytestmark = pytest.mark.e2e

LINEAR_LIVE = "torch.equal(flat_image @ w.T, layer1(flat_image)): True"


def main_text(page) -> str:
    return page.locator("[data-testid=stMain]").inner_text()


def answer(page, key: str, text: str) -> None:
    box = page.locator(f".st-key-quiz_in_{key} input")
    expect(box).to_be_editable()
    box.fill(text)
    page.locator(f".st-key-quiz_check_{key} button").click()
    wait_idle(page)


def test_modules_page_shows_the_seed_cells_live(page, app_url):
    open_page(page, app_url, "modules")
    assert_no_exception(page)
    expect(page.locator("[data-testid=stMain]")).to_contain_text(LINEAR_LIVE, timeout=30_000)
    assert str(torch.Size([3, 2, 4, 2])) in main_text(page)
    assert page.locator(".tbox").count() > 40  # the nested boxes drew
    shot(page, "modules_1400x1000")
    tabs = page.locator("[data-testid=stTab]")
    for i in range(tabs.count()):  # each of the seed's mistakes, looked at one by one
        tabs.nth(i).click()
        page.wait_for_timeout(300)
        page.locator("[data-testid=stTabs]").screenshot(path=str(SHOTS / f"modules_bug_{i}.png"))
        if tabs.nth(i).inner_text() == "undefined device":
            assert "NameError: name 'device' is not defined" in main_text(page)


def test_quiz_link_asks_first_then_reveals_and_scores(page, app_url):
    open_page(page, app_url, "modules?quiz=1")
    assert_no_exception(page)
    assert LINEAR_LIVE not in main_text(page)  # held back until predicted
    assert page.get_by_text("Predict first.").first.is_visible()
    answer(page, "modules_weight_shape", "[2,4]")
    expect(page.get_by_text("Right: [2, 4].")).to_be_visible()
    assert LINEAR_LIVE in main_text(page)
    answer(page, "modules_index_t_2_", "[3, 2, 4, 2]")
    expect(page.get_by_text("Indexing with an integer removes that dimension.").first).to_be_visible()
    expect(page.locator("[data-testid=stSidebar]").get_by_text("1 of 2 predictions right")).to_be_visible()
    assert "quiz=1" in page.url
    shot(page, "modules_quiz")


def test_sidebar_switch_puts_quiz_in_the_link(page, app_url):
    open_page(page, app_url, "modules")
    page.locator(".st-key-quiz label").click()
    wait_idle(page)
    assert "quiz=1" in page.url
    assert LINEAR_LIVE not in main_text(page)
    page.locator(".st-key-quiz label").click()
    wait_idle(page)
    assert "quiz=1" not in page.url and LINEAR_LIVE in main_text(page)


def test_modules_page_in_presenter_mode(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        open_page(page, app_url, "modules?present=1")
        assert_no_exception(page)
        assert not page.locator("[data-testid=stSidebar]").is_visible()
        shot(page, "modules_present_1280x720")
    finally:
        context.close()


def test_quiz_link_on_the_accumulation_page(page, app_url):
    open_page(page, app_url, "accumulation?quiz=1")
    page.locator(".st-key-acc_step button").first.click()
    wait_idle(page)
    assert_no_exception(page)
    expect(page.get_by_text("What is w.grad after backward()?")).to_be_visible()
    assert "w.grad = tensor" not in main_text(page)  # held back until predicted
    assert "quiz=1" in page.url
    expect(page.locator("[data-testid=stSidebar]").get_by_text("Loaded candles")).to_be_visible()  # still drawn
    shot(page, "accumulation_quiz")
