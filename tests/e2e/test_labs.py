"""Browser: click through the Gradient accumulation and retain_graph labs, screenshots of each state."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.app.test_retain_graph_page import torch_second_backward_error
from tests.e2e.helpers import assert_no_exception, open_page, shot, wait_idle

TIMEOUT = 60_000  # generous: the CI machine is shared


def open_lab(page: Page, app_url: str, path: str) -> None:
    """Open a lab page through the router (see the note on the first request of a fresh server)."""
    # Streamlit quirk: on a fresh server, the very first request for /<page> runs pages/<page>.py directly
    # (pages/-folder mode, no router, no sidebar) until app.py has called st.navigation once; "/" first avoids it.
    open_page(page, app_url)
    open_page(page, app_url, path)
    expect(page.locator("[data-testid=stSidebar]")).to_contain_text("Loaded candles", timeout=TIMEOUT)
    assert_no_exception(page)


def click_key(page: Page, key: str, expect_text: str | None = None, where: str = "[data-testid=stCode]") -> None:
    """Click the widget with this key (class st-key-<key>) and wait until the rerun shows `expect_text`."""
    page.locator(f".st-key-{key} button, .st-key-{key} label").first.click()
    if expect_text is not None:  # waiting for the result, not for a timer: reruns can start late under load
        expect(page.locator(where).first).to_contain_text(expect_text, timeout=TIMEOUT)
    wait_idle(page)
    assert_no_exception(page)


def test_accumulation_lab_in_browser(page, app_url):
    open_lab(page, app_url, "accumulation")
    click_key(page, "acc_run", "b.grad = tensor([3.])")
    shot(page, "accumulation_3_steps")
    click_key(page, "acc_zero_none", "b.grad = None")
    click_key(page, "acc_grad_zero", "AttributeError", where="[data-testid=stAlert]")
    click_key(page, "acc_step", "b.grad = tensor([1.])")
    click_key(page, "acc_zero_each")
    click_key(page, "acc_run", "b.grad = tensor([0.])")
    shot(page, "accumulation_zero_each_step")

    page.get_by_role("tab", name="nn.Linear + optimizer").click()
    for key in ("acc_opt_zero", "acc_opt_forget"):
        click_key(page, key)
    click_key(page, "acc_opt_forget", "bias.grad   = tensor([3.])", where=".st-key-acc_opt_state")
    shot(page, "accumulation_optimizer")

    page.get_by_role("tab", name="micro-batches").click()
    wait_idle(page)
    expect(page.locator("[data-testid=stMetric]").nth(1)).to_contain_text("3.0000", timeout=TIMEOUT)
    shot(page, "accumulation_microbatches")


def test_retain_graph_lab_in_browser(page, app_url):
    torch_message = torch_second_backward_error()
    open_lab(page, app_url, "retain_graph")
    shot(page, "retain_before_backward")
    click_key(page, "retain_backward", "pnl.grad = tensor([-6.])")
    # PyTorch's own words, shown as a lesson (the alert renders markdown, so compare the first sentence)
    click_key(page, "retain_backward", torch_message.split(" (")[0], where="[data-testid=stAlert]")
    shot(page, "retain_second_backward_error")

    click_key(page, "retain_retain", "retain_graph=True", where=".st-key-retain_backward")
    click_key(page, "retain_reset", "pnl.grad = None")
    click_key(page, "retain_backward", "pnl.grad = tensor([-6.])")
    click_key(page, "retain_backward", "pnl.grad = tensor([-12.])")
    shot(page, "retain_graph_accumulates")


def test_retain_graph_pnl_zero_in_browser(page, app_url):
    open_lab(page, app_url, "retain_graph")
    thumb = page.locator(".st-key-retain_pnl input[type=range]").first
    thumb.focus()
    for _ in range(6):  # -3.0 -> 0.0 in steps of 0.5
        thumb.press("ArrowRight")
    expect(page.locator("[data-testid=stAlert]").first).to_contain_text("UnboundLocalError", timeout=TIMEOUT)
    wait_idle(page)
    assert_no_exception(page)
    click_key(page, "retain_backward", "forward pass failed", where="[data-testid=stAlert]")
    shot(page, "retain_pnl_zero_unbound")
    page.get_by_text("fixed: else branch").click()
    expect(page.locator("[data-testid=stCode]").first).to_contain_text("loss     = tensor([0.]", timeout=TIMEOUT)
    wait_idle(page)
    click_key(page, "retain_backward", "pnl.grad = tensor([0.])")
    shot(page, "retain_pnl_zero_fixed")
