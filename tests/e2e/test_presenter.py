"""Chromium: presenter mode (?present=1) and the desk size; every page but Graph fits its controls, tables and
charts on screen (measured in the DOM, not by eye), tooltips never cover a control, and shortcuts act on the
visible tab only. Screenshots of every page at both sizes go to artifacts/screenshots."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import TRAIN_STATUS, assert_no_exception, open_page, shot, wait_idle

TIMEOUT = 60_000

# Layout problems on the page, measured: a button whose label is cut (ellipsis or overflow), a code block or
# table wider than its box with no scrollbar, an element sticking out of the main column, a chart legend lying on
# an axis title, tick label or panel title; `strict` (presenter mode): also a table that scrolls sideways.
AUDIT = """(strict) => {
  const main = document.querySelector('[data-testid=stMain]');
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'
    && e.closest('[aria-hidden=true]') === null;
  const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const out = [];
  for (const b of main.querySelectorAll('button')) {
    if (!shown(b)) continue;
    const cut = [b, ...b.querySelectorAll('*')].find(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1);
    if (cut) out.push(`button cut: ${b.innerText.trim()} (${cut.scrollWidth} > ${cut.clientWidth} px)`);
  }
  for (const e of main.querySelectorAll('pre, table, [data-testid=stMarkdownContainer]')) {
    const scrolls = ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
    if (shown(e) && e.scrollWidth > e.clientWidth + 1 && !scrolls)
      out.push(`clipped without a scrollbar: ${e.tagName} ${e.innerText.slice(0, 40)}`);
  }
  // data grids and light tables; the Training page's feature rows (its first five, the step window's mini-batch)
  // have a column per lagged feature by nature: they may scroll inside their box
  for (const grid of strict ? main.querySelectorAll('[data-testid=stDataFrame] .dvn-scroller, .light-table') : [])
    if (shown(grid) && grid.scrollWidth > grid.clientWidth + 1 && !grid.matches('.train-batch, .train-table'))
      out.push(`table wider than its box: ${grid.closest('[class*=st-key-]')?.className.match(/st-key-\\S+/)}`);
  // a light table's type follows presenter mode's (18 px cells under 20 px body text)
  const body = parseFloat(getComputedStyle(document.documentElement).fontSize);
  for (const cell of strict ? main.querySelectorAll('.light-table td:first-child') : [])
    if (shown(cell) && parseFloat(getComputedStyle(cell).fontSize) < 0.85 * body)
      out.push(`small type: ${cell.closest('.light-table').className} ${getComputedStyle(cell).fontSize}`);
  const right = main.querySelector('[data-testid=stMainBlockContainer]').getBoundingClientRect().right;
  for (const e of main.querySelectorAll('[data-testid=stElementContainer]'))
    if (shown(e) && e.getBoundingClientRect().right > right + 1) out.push(`sticks out: ${e.innerText.slice(0, 40)}`);
  for (const plot of main.querySelectorAll('.js-plotly-plot')) {
    const legend = plot.querySelector('.legend');
    if (!legend || !shown(legend)) continue;
    const box = legend.getBoundingClientRect();
    for (const t of plot.querySelectorAll('.xtitle, .ytitle, .gtitle, .annotation-text, .xtick text, .ytick text'))
      if (shown(t) && meet(box, t.getBoundingClientRect()))
        out.push(`legend on "${t.textContent}" in ${plot.closest('[class*=st-key-]')?.className.match(/st-key-\\S+/)}`);
  }
  return out;
}"""

SIZES = {"present": ({"width": 1280, "height": 720}, "?present=1"), "desk": ({"width": 1400, "height": 1000}, "")}


def font_size(page) -> float:
    return float(page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)"))


def click_key(page: Page, key: str) -> None:
    page.locator(f".st-key-{key} button:visible, .st-key-{key} label:visible").first.click()
    wait_idle(page)


def fill_home(page: Page) -> None:
    click_key(page, "home_next")  # stop 2: the widest printout (w.grad, b.grad)
    expect(page.locator("[data-testid=stHeading]").nth(1)).to_contain_text("2 · Graph", timeout=TIMEOUT)


def fill_accumulation(page: Page) -> None:
    click_key(page, "acc_run")
    expect(page.locator("[data-testid=stCode]").first).to_contain_text("b.grad = tensor([3.])", timeout=TIMEOUT)


def fill_optimizer(page: Page) -> None:
    page.get_by_role("tab", name="nn.Linear + optimizer").click()
    wait_idle(page)
    for key in ("acc_opt_zero", "acc_opt_forget", "acc_opt_forget"):  # the table's rows: called, forgotten twice
        click_key(page, key)
    expect(page.locator(".light-table.acc-opt")).to_contain_text("forgotten", timeout=TIMEOUT)


def fill_microbatches(page: Page) -> None:
    page.get_by_role("tab", name="micro-batches").click()
    wait_idle(page)
    expect(page.locator(".light-table.acc-microbatch")).to_contain_text("bias.grad", timeout=TIMEOUT)


def fill_retain(page: Page) -> None:
    click_key(page, "retain_backward")
    click_key(page, "retain_backward")  # the second call fails: the longest message
    expect(page.locator("[data-testid=stAlert]").first).to_contain_text("RuntimeError", timeout=TIMEOUT)


def fill_training(page: Page) -> None:
    for _ in range(3):
        click_key(page, "train_step")
    expect(page.locator(TRAIN_STATUS).first).to_contain_text("step 3/", timeout=TIMEOUT)
    expect(page.locator(".light-table.train-batch")).to_be_visible(timeout=TIMEOUT)


def fill_parameters(page: Page) -> None:
    """The step window's Parameters tab (the run trained by fill_training)."""
    page.get_by_role("tab", name="Parameters").click()
    wait_idle(page)
    expect(page.locator(".light-table.train-params")).to_be_visible(timeout=TIMEOUT)


# page: (its path, or None to stay on the page before; what to click before measuring)
PAGES = {"home": ("", fill_home), "data": ("data", None), "config": ("config", None),
         "accumulation": ("accumulation", fill_accumulation), "accumulation_optimizer": (None, fill_optimizer),
         "accumulation_microbatches": (None, fill_microbatches), "retain_graph": ("retain_graph", fill_retain),
         "training": ("training", fill_training), "training_parameters": (None, fill_parameters)}


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


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_fits(browser, app_url, size):
    """Each page except Graph (tested with the Graph page), filled with a lesson's worth of clicks, then measured."""
    viewport, query = SIZES[size]
    page = browser.new_context(viewport=viewport).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_page(page, app_url, query)  # the router first: a fresh server's first request may skip it
    problems = {}
    for name, (path, fill) in PAGES.items():
        if path is not None:
            open_page(page, app_url, path + query)
        assert_no_exception(page)
        if fill:
            fill(page)
        assert_no_exception(page)
        page.wait_for_timeout(500)  # charts draw after the run ends
        problems[name] = page.evaluate(AUDIT, size == "present")
        shot(page, f"fit_{size}_{name}")
    page.context.close()
    assert not errors, errors
    assert not any(problems.values()), problems


def test_tooltips_never_cover_a_control(browser, app_url):
    """Hovering a lab button: in presenter mode no tooltip shows; at a desk one shows, away from the retain_graph
    toggle, and would let a click through anyway."""
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    open_page(page, app_url, "?present=1")
    open_page(page, app_url, "retain_graph?present=1")
    page.locator(".st-key-retain_backward button:visible").first.hover()
    page.wait_for_timeout(1500)
    assert page.locator("[role=tooltip]:visible").count() == 0
    page.context.close()

    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_page(page, app_url)
    open_page(page, app_url, "retain_graph")
    toggle = page.locator(".st-key-retain_retain label").first
    box = toggle.bounding_box()
    for key in ("retain_backward", "retain_grad", "retain_reset"):
        page.locator(f".st-key-{key} button:visible").first.hover()
        page.wait_for_timeout(1200)
        expect(page.locator("[role=tooltip]").first).to_be_visible(timeout=TIMEOUT)  # the help is there at a desk
        tip = page.locator("[role=tooltip]").first.bounding_box()
        apart = tip["y"] + tip["height"] <= box["y"] or box["y"] + box["height"] <= tip["y"]
        assert apart, f"{key}'s tooltip hides the retain_graph toggle"
        under = page.evaluate("([x, y]) => !!document.elementFromPoint(x, y).closest('.st-key-retain_retain')",
                              [box["x"] + 10, box["y"] + box["height"] / 2])
        assert under, f"{key}'s tooltip takes the clicks meant for the retain_graph toggle"
    page.mouse.click(box["x"] + 10, box["y"] + box["height"] / 2)
    wait_idle(page)
    expect(page.locator(".st-key-retain_backward")).to_contain_text("retain_graph=True", timeout=TIMEOUT)
    page.context.close()


def test_shortcuts_act_on_the_visible_tab_only(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "accumulation")
    page.get_by_role("tab", name="nn.Linear + optimizer").click()
    wait_idle(page)
    assert "acc_tab=nn.Linear" in page.url  # the open tab travels in the link
    page.locator("body").press("f")  # the hidden lab's 'forward + backward' shortcut
    page.wait_for_timeout(800)
    wait_idle(page)
    page.get_by_role("tab", name="x, w, b lab").click()
    wait_idle(page)
    expect(page.locator("[data-testid=stCode]").first).to_contain_text("b.grad = None", timeout=TIMEOUT)
    page.locator("body").press("f")  # on the visible tab it works
    expect(page.locator("[data-testid=stCode]").first).to_contain_text("b.grad = tensor([1.])", timeout=TIMEOUT)
    wait_idle(page)
    open_page(page, app_url, "accumulation?acc_tab=micro-batches")  # a link opens on its tab
    expect(page.get_by_role("tab", name="micro-batches")).to_have_attribute("aria-selected", "true", timeout=TIMEOUT)
    assert page.locator(".st-key-acc_mb_k").count() == 1 and page.locator(".st-key-acc_step").count() == 0
