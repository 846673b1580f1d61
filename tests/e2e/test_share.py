"""Chromium: a copied URL opened in a new browser context shows the same numbers; keyboard stepping; presenter
mode and the dark theme screenshotted; the downloaded take-home script prints what the page shows."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.e2e.helpers import assert_no_exception, open_page, shot, wait_idle


def code_blocks(page) -> list[str]:
    return [t.strip() for t in page.locator("[data-testid=stMain] [data-testid=stCode]").all_inner_texts()]


def fresh_page(browser, **options):
    """A new browser context: no cookies, no session, nothing shared with the first one."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, **options)
    return context, context.new_page()


def open_url(page, url: str) -> None:
    """Open a copied URL and wait until the page has drawn its code blocks."""
    page.goto(url)
    page.wait_for_selector("[data-testid=stMain] [data-testid=stCode]", timeout=60_000)
    wait_idle(page)


def click(page, key: str) -> None:
    page.locator(f".st-key-{key} button").first.click()
    wait_idle(page)


def param(page, name: str) -> str | None:
    found = re.search(rf"[?&]{name}=([^&]*)", page.url)
    return found.group(1) if found else None


def test_graph_url_reproduces_numbers_and_keyboard_steps(page, app_url, browser):
    open_page(page, app_url)
    open_page(page, app_url, "graph")
    row = page.locator(".st-key-graph_row input")
    row.fill("42")
    row.press("Enter")
    wait_idle(page)
    page.evaluate("document.activeElement.blur()")  # keys go to the page, not into the number input
    page.keyboard.press("ArrowLeft")  # the journal's Previous button
    wait_idle(page)
    assert param(page, "graph_fwd_pos") == "2"
    page.get_by_text(re.compile("Backward step by step")).first.click()  # only the visible stepper has keys
    wait_idle(page)
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("ArrowRight")  # the backward pass's Next button
    wait_idle(page)
    assert param(page, "graph_row") == "42" and param(page, "graph_bwd_pos") == "1"
    shown = code_blocks(page)
    assert "x, w, b" in shown[0] and "grad_fn=<AddBackward0>" in shown[0]  # the seed printout
    context, other = fresh_page(browser)
    try:
        open_url(other, page.url)
        assert_no_exception(other)
        assert other.locator(".st-key-graph_row input").input_value() == "42"
        assert code_blocks(other) == shown
        assert param(other, "graph_fwd_pos") == "2" and param(other, "graph_bwd_pos") == "1"
    finally:
        context.close()


@pytest.mark.parametrize("name, clicks, param_name, code", [
    ("accumulation", ["acc_step", "acc_step", "acc_zero_false", "acc_step"], "acc_history", "FFZF"),
    ("retain_graph", ["retain_backward", "retain_grad", "retain_backward"], "retain_calls", "bab"),
])
def test_lab_url_reproduces_the_clicks(page, app_url, browser, name, clicks, param_name, code):
    open_page(page, app_url, name)
    for key in clicks:
        click(page, key)
    assert param(page, param_name) == code
    shown = code_blocks(page)  # x, w, b and their grads / pnl, loss, pnl.grad
    context, other = fresh_page(browser)
    try:
        open_url(other, page.url)
        assert_no_exception(other)
        assert code_blocks(other) == shown
    finally:
        context.close()


@pytest.mark.parametrize("name, hidden", [("graph", "secondary_graph_seed"), ("accumulation", "secondary_acc_seed"),
                                          ("retain_graph", "secondary_retain_takehome")])
def test_presenter_mode_screens(page, app_url, name, hidden):
    open_page(page, app_url, f"{name}?present=1")
    assert_no_exception(page)
    assert not page.locator(f".st-key-{hidden}").is_visible()
    assert not page.locator("[data-testid=stSidebar]").is_visible()
    shot(page, f"presenter_{name}")


def test_dark_theme_graph_screenshot(app_url, browser):
    context, page = fresh_page(browser, color_scheme="dark")
    try:
        open_url(page, f"{app_url}/graph")
        page.wait_for_selector(".graph-box svg text", timeout=60_000)
        background = page.evaluate("getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor")
        assert background != "rgb(255, 255, 255)"  # the dark theme is on
        # the graph draws its own light node boxes on a white sheet, so its labels stay dark in either theme
        texts = page.evaluate("""Array.from(document.querySelectorAll('.graph-box svg text'))
                                  .map(t => getComputedStyle(t).fill)""")
        sheet = page.evaluate("getComputedStyle(document.querySelector('.graph-box svg')).backgroundColor")
        assert sheet == "rgb(255, 255, 255)", sheet
        assert texts and all(f != "rgb(255, 255, 255)" for f in texts), texts
        shot(page, "dark_graph")
    finally:
        context.close()


def test_downloaded_graph_script_prints_the_page_numbers(page, app_url, tmp_path):
    open_page(page, app_url, "graph?graph_row=7&graph_expr=relu(x%20%2F%201000%20%40%20w.T%20%2B%20b)")
    shown = code_blocks(page)[0]
    with page.expect_download() as info:
        page.locator(".st-key-graph_takehome button").first.click()
    script = tmp_path / "graph_lesson.py"
    info.value.save_as(script)
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert shown in out.stdout


def test_downloaded_data_script_prints_the_tensor_shown(page, app_url, tmp_path):
    open_page(page, app_url, "data?data=sample:300")
    shown = code_blocks(page)  # the seed's (dtype, shape, device) line, then the tensor
    assert "(torch.float32, torch.Size([300, 5]), device(type='cpu'))" in shown[0]
    with page.expect_download() as info:  # built on click (a deferred download)
        page.locator(".st-key-data_takehome button").first.click()
    script = tmp_path / "candles_to_tensor.py"
    info.value.save_as(script)
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert shown[0].splitlines()[-1] in out.stdout and shown[1] in out.stdout
