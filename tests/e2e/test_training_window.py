"""Chromium: a real click on a point of the loss curve opens that step; runs overlaid with their labels; a diverged
run's norms chart draws points; the Config page's training section becomes the Training page's defaults."""
from __future__ import annotations

import re

from tests.e2e.helpers import assert_no_exception, open_page, shot, wait_idle


def _open(page, app_url, title: str, key: str) -> None:
    """Open the app at its root and follow the sidebar link to a page (the router, as a learner gets there)."""
    open_page(page, app_url, "")
    page.locator("[data-testid=stSidebarNav] a", has_text=title).first.click()
    page.wait_for_selector(f".st-key-{key}", timeout=60_000)
    wait_idle(page)


def _click(page, key: str) -> None:
    page.locator(f".st-key-{key} button").filter(visible=True).first.click()
    wait_idle(page)


def _choose(page, key: str, option: str) -> None:
    box = page.locator(f".st-key-{key} [role=combobox]")
    box.click()
    box.fill(option)  # typing filters the list; a click alone may not open it near the bottom of the window
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def _window_heading(page) -> str:
    return page.locator("[data-testid=stMarkdownContainer] p", has_text=re.compile(r"^Step \d+ \(epoch")).first \
        .inner_text()


def _texts(locator) -> list[str]:
    """Texts of SVG elements (inner_text is for HTML elements only)."""
    return locator.evaluate_all("els => els.map(e => e.textContent)")


def _chart(page, n: int):
    return page.locator("[data-testid=stPlotlyChart]").nth(n)


def test_a_real_click_on_the_loss_curve_opens_that_step(page, app_url):
    _open(page, app_url, "Training", "train_step")
    for _ in range(5):
        _click(page, "train_step")
    assert _window_heading(page).startswith("Step 5 (epoch 1)")  # the latest step until one is picked
    point = _chart(page, 0).locator("g.trace.scatter").first.locator("path.point").nth(2)  # step 3
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(300)  # plotly picks the clicked point from the hover
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => [...document.querySelectorAll('p')].some(p => p.innerText.startsWith('Step 3 ('))",
                           timeout=30_000)
    wait_idle(page)
    heading = _window_heading(page)
    assert heading.startswith("Step 3 (epoch 1) · 64 rows · loss = ") and "the same number the run recorded" in heading
    assert page.locator(".st-key-train_window_step input").input_value() == "3"
    page.get_by_role("tab", name="Autograd graph of the loss").click()
    page.wait_for_selector(".st-key-train_step_graph svg", timeout=30_000)
    assert "MulBackward0" in page.locator(".st-key-train_step_graph svg").first.text_content()
    page.get_by_role("tab", name="Parameters").click()
    assert "p ← p − lr·g" in page.locator("p", has_text="Update rule").first.inner_text()
    assert_no_exception(page)
    shot(page, "training_window_1400")


def test_two_runs_overlaid_with_their_labels(page, app_url):
    _open(page, app_url, "Training", "train_step")
    _click(page, "train_reset")
    _click(page, "train_step")
    _click(page, "train_step")
    page.locator(".st-key-train_zero_grad label").click()
    wait_idle(page)
    _click(page, "train_reset")
    _click(page, "train_step")
    chart = page.locator(".st-key-train_compare_chart")
    chart.wait_for(timeout=30_000)
    legend = _texts(chart.locator("g.legend text.legendtext"))
    assert legend == ["#1 zero_grad on", "#2 zero_grad off"]
    assert chart.locator("g.trace.scatter").count() == 2
    assert chart.locator("g.trace.scatter").nth(0).locator("path.point").count() == 2  # run 1: two steps
    assert_no_exception(page)
    shot(page, "training_compare_1400")


def test_a_diverged_runs_norms_chart_draws_points(page, app_url):
    _open(page, app_url, "Training", "train_step")
    _choose(page, "train_norm", "none")
    _click(page, "train_reset")
    _click(page, "train_play")
    page.wait_for_selector("[data-testid=stAlertContentError]", timeout=30_000)
    wait_idle(page)
    error = page.locator("[data-testid=stAlertContentError]").first.inner_text()
    assert "Training stopped at step 2" in error and "(try 0.0001)" in error
    norms = page.locator(".st-key-train_norm_chart")
    points = norms.locator("g.trace.scatter path.point")
    points.nth(3).wait_for(timeout=30_000)  # plotly draws the chart after the run's last rerun (CI once counted 0)
    assert points.count() == 4  # weight and gradient norm at steps 1 and 2 (the blow-up)
    ticks = _texts(norms.locator("g.ytick text"))
    assert ticks and all(re.fullmatch(r"(0\.\d*1|1|10|100|1e[+−]\d+)", t) for t in ticks), ticks
    assert norms.get_by_text("diverged").count() == 2  # the step it diverged at, marked on both charts
    assert_no_exception(page)
    shot(page, "training_diverged_norms")


def test_config_training_section_sets_the_training_defaults(page, app_url):
    _open(page, app_url, "Config", "config_apply")
    area = page.locator(".st-key-config_yaml textarea")
    text = area.input_value()
    text = re.sub(r"\n  lags: \d+", "\n  lags: 7", text)
    text = re.sub(r"\n  epochs: \d+", "\n  epochs: 5", text)
    area.fill(text)
    area.press("Control+Enter")
    wait_idle(page)
    _click(page, "config_apply")
    assert page.get_by_text("Training page's defaults now follow").count() == 1
    page.locator("[data-testid=stSidebarNav] a", has_text="Training").first.click()
    page.wait_for_selector(".st-key-train_step", timeout=60_000)
    wait_idle(page)
    assert page.locator(".st-key-train_lags [data-testid=stSliderThumbValue]").inner_text() == "7"
    assert page.locator(".st-key-train_epochs input").input_value() == "5"
    assert_no_exception(page)


def test_the_window_in_presenter_mode(page, app_url):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, app_url, "training?present=1")
    page.wait_for_selector(".st-key-train_step", timeout=60_000)
    _choose(page, "train_model", "mlp")
    _choose(page, "train_optimizer", "adam")
    _click(page, "train_reset")
    for _ in range(3):
        _click(page, "train_step")
    assert _window_heading(page).startswith("Step 3")
    page.get_by_role("tab", name="Autograd graph of the loss").click()
    page.wait_for_selector(".st-key-train_step_graph svg", timeout=30_000)
    drawn = page.locator(".st-key-train_step_graph svg").first.text_content()
    assert "0: Linear" in drawn and "4: Linear" in drawn and "MseLossBackward0" in drawn
    assert_no_exception(page)
    shot(page, "training_window_present_1280")
