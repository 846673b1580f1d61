"""Scratchpad in Chromium: a program opened from a link (?code=), stepped through statement by statement, its graph
drawn; a click on a node opens all of it; screenshots at a desk and on a projector."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from explorer.mechanics.scratchpad import scratch_link
from tests.e2e.helpers import SHOTS, assert_no_exception, open_page, shot, wait_idle

PROGRAM = ("w = torch.tensor([1.0, -2.0], requires_grad=True)\n"
           "h = (w * 3).relu()\n"
           "loss = h.sum()\n"
           "loss.backward()\n"
           "print(w.grad)\n")


def _main(page) -> str:
    return page.locator("[data-testid=stMain]").inner_text()


def test_a_linked_program_steps_through_and_a_graph_node_opens(page, app_url):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_page(page, app_url)
    open_page(page, app_url, scratch_link(PROGRAM).lstrip("/"))
    assert page.locator(".st-key-scratch_code textarea").input_value() == PROGRAM
    assert "Nothing has run yet: 5 statements to go" in _main(page)
    for done in range(1, 6):
        page.get_by_role("button", name="Step", exact=True).click()
        wait_idle(page)
        assert f"Ran {done} of 5 statements." in _main(page)
    assert "tensor([0., 0.])" not in _main(page) and "tensor([3., 0.])" in _main(page)  # w.grad, printed
    page.wait_for_selector(".graph-box [data-node] rect", timeout=60_000)
    label = page.locator(".graph-box svg text", has_text="ReluBackward0").first
    label.scroll_into_view_if_needed()
    box = label.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_idle(page)
    page.wait_for_function("() => document.body.innerText.includes('rule: out = relu(self)')", timeout=30_000)
    assert "saved result: freed by backward()" in _main(page)
    params = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
    assert params["code"] == PROGRAM and params["scratch_pos"] == "5"
    shot(page, "scratchpad_desk_node_opened")
    assert not errors, errors
    assert_no_exception(page)


def test_presenter_view_of_the_sanity_check(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    open_page(page, app_url)
    open_page(page, app_url, "scratchpad?present=1")
    page.get_by_role("button", name="Run all", exact=True).click()
    wait_idle(page)
    page.wait_for_selector(".graph-box [data-node] rect", timeout=60_000)
    assert "Ran 7 of 7 statements. The end." in _main(page)
    page.screenshot(path=str(SHOTS / "scratchpad_present_sanity_check.png"))  # what a projector shows at once
    assert_no_exception(page)
    context.close()
