"""Browser: defects found in a learner's walk through the app (issue 25), each checked where the learner met it."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_exception, open_page, wait_idle

TIMEOUT = 60_000


def test_help_icon_does_not_flip_its_toggle(page, app_url):
    """The "?" beside "zero after each step" shows help; it does not switch the lab's setting (nor the URL)."""
    open_page(page, app_url)
    open_page(page, app_url, "accumulation")
    toggle = page.locator(".st-key-acc_zero_each")
    switch = toggle.locator("input[role=switch]")
    expect(switch).not_to_be_checked(timeout=TIMEOUT)
    icon = toggle.locator("[data-testid=stTooltipIcon]")
    icon.hover()
    expect(page.locator("[data-testid=stTooltipContent]")).to_contain_text("Zero both", timeout=TIMEOUT)  # its help
    icon.click()
    page.wait_for_timeout(800)
    wait_idle(page)
    expect(switch).not_to_be_checked()
    assert "acc_zero_each=1" not in page.url
    toggle.locator("[data-testid=stWidgetLabel] p").click()  # the label's text still flips it
    expect(switch).to_be_checked(timeout=TIMEOUT)
    wait_idle(page)
    assert_no_exception(page)


def test_lesson_page_links_on_to_the_next_stop(page, app_url):
    """From stop 3's page, the link at its end opens the Guided path at stop 4, and the URL says so; the sidebar's
    Guided path then opens where the learner was."""
    open_page(page, app_url)
    open_page(page, app_url, "accumulation")
    link = page.locator(".st-key-tour_next button")
    expect(link).to_have_text("Next on the guided path: 4 · retain_graph →", timeout=TIMEOUT)
    link.click()
    expect(page.locator("h3").first).to_contain_text("4 · retain_graph", timeout=TIMEOUT)
    wait_idle(page)
    assert "home_stop=4" in page.url
    page.get_by_role("link", name="Open retain_graph →").click()
    wait_idle(page)
    assert page.locator(".st-key-tour_next button").inner_text().startswith("Next on the guided path: 5 · Training")
    page.locator("[data-testid=stSidebarNav] a", has_text="Guided path").click()
    expect(page.locator("h3").first).to_contain_text("4 · retain_graph", timeout=TIMEOUT)
    assert_no_exception(page)


def test_graph_journal_values_are_readable_at_1400(page, app_url):
    """At 1400x1000 the op journal beside the graph shows each op's value whole: nothing cut at the box's edge."""
    open_page(page, app_url)
    open_page(page, app_url, "graph")
    box = page.locator(".light-table.graph-journal").first
    expect(box).to_be_visible(timeout=TIMEOUT)
    fits = box.evaluate("""e => {
        const edge = e.getBoundingClientRect().right;
        const cells = [...e.querySelectorAll('tbody td:nth-child(5)')];
        return {box: [e.clientWidth, e.scrollWidth], cells: cells.map(c => [c.textContent,
            c.getBoundingClientRect().right <= edge + 0.5, c.scrollWidth <= c.clientWidth + 1])};
    }""")
    assert fits["box"][1] <= fits["box"][0] + 1, fits  # the table fits its box: no sideways scroll
    assert len(fits["cells"]) == 3 and all(inside and whole for _, inside, whole in fits["cells"]), fits
    assert "[[ 1.54" in fits["cells"][0][0]


def test_a_long_pasted_expression_is_named_not_dropped(page, app_url):
    """A paste of more than 300 characters stays in the field, and Enter names the problem (its length), instead of
    vanishing and then calling the field empty."""
    open_page(page, app_url)
    open_page(page, app_url, "graph")
    field = page.locator(".st-key-graph_expr input")
    long = " + ".join(["x @ w.T + b"] * 30)  # 418 characters
    field.fill("")
    field.focus()
    page.keyboard.insert_text(long)  # as a paste arrives
    field.press("Enter")
    wait_idle(page)
    assert field.input_value() == long
    expect(page.locator("[data-testid=stAlert]").first).to_contain_text(
        f"too long ({len(long)} characters, at most 300)", timeout=TIMEOUT)
    assert "empty" not in page.locator("[data-testid=stAlert]").first.inner_text()
    assert_no_exception(page)


def test_a_click_on_a_long_runs_loss_curve_opens_that_step(page, app_url):
    """2,600 steps: the batch curve is drawn as a line (no markers to see), and a click on it still opens the step
    under the pointer (it left the window on the last step: plotly selects nothing on a line-only trace)."""
    import re

    from tests.e2e.helpers import TRAIN_STATUS
    open_page(page, app_url)
    page.locator("[data-testid=stSidebarNav] a", has_text="Training").first.click()
    page.wait_for_selector(".st-key-train_play", timeout=TIMEOUT)
    wait_idle(page)
    page.locator(".st-key-train_epochs input").fill("200")
    page.locator(".st-key-train_epochs input").press("Enter")
    wait_idle(page)
    page.locator(".st-key-train_reset button").filter(visible=True).first.click()
    wait_idle(page)
    page.locator(".st-key-train_play button").filter(visible=True).first.click()
    page.locator(TRAIN_STATUS).first.filter(has_text=re.compile(r"^\**done")).wait_for(timeout=120_000)
    wait_idle(page)
    expect(page.locator(".st-key-train_window_step input")).to_have_value("2600", timeout=TIMEOUT)
    chart = page.locator("[data-testid=stPlotlyChart]").first
    expect(chart.locator("g.trace.scatter").first).to_be_attached(timeout=TIMEOUT)
    points = chart.locator("g.trace.scatter").first.locator("path.point")
    assert points.count() > 1000, "the batch curve has no points to click"  # thinned: every other step
    expected = chart.locator(".js-plotly-plot").evaluate("p => Number(p._fullData[0].x[400])")  # the 401st point's step
    chart.scroll_into_view_if_needed()
    box = points.nth(400).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_timeout(300)  # plotly picks the clicked point from the hover
    page.mouse.click(x, y)
    page.wait_for_function("() => document.querySelector('.st-key-train_window_step input').value !== '2600'",
                           timeout=30_000)
    wait_idle(page)
    step = int(page.locator(".st-key-train_window_step input").input_value())
    # the point under the pointer: 1,300 points in about 900 px, so a pixel holds a few steps
    assert 600 < expected < 2000 and abs(step - expected) <= 26, (step, expected)
    assert_no_exception(page)
