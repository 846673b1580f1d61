"""Graph page in Chromium: labels a class can read, every view and option drawn (none blank, no page error),
clicking a node inspects it, ←/→ move only the visible stepper, a link opens at its view and step; screenshots."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from tests.e2e.helpers import assert_no_exception, open_page, shot, wait_idle

PRESENT = {"width": 1280, "height": 720}
LABEL_SIZES = """() => {
  const intro = document.querySelector('[data-testid=stMain] [data-testid=stMarkdown] '
                                       + '[data-testid=stMarkdownContainer] p');
  const body = parseFloat(getComputedStyle(intro).fontSize);
  const labels = [...document.querySelectorAll('.graph-box svg text tspan, .graph-box svg text')].filter(t => /Backward0/.test(t.textContent)
                   && !t.querySelector('tspan'));
  return {body, sizes: labels.map(t => {
    const text = t.closest('text');
    return {font: parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a,
            height: t.getBoundingClientRect().height, text: t.textContent};
  })};
}"""
BLANK_CHARTS = """() => {
  const out = [];
  for (const c of document.querySelectorAll('.graph-box, [data-testid=stGraphVizChart]')) {
    const r = c.getBoundingClientRect();
    const marks = c.querySelectorAll('g.node, [data-node] rect').length;
    if (r.width < 50 || r.height < 50 || marks === 0) out.push(c.className + ' ' + r.width + 'x' + r.height);
  }
  return out;
}"""


def _open_graph(page, app_url, query: str = "") -> list[str]:
    """Open the app at its root, then the Graph page; returns the list that collects page errors."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_page(page, app_url)
    open_page(page, app_url, "graph" + query)
    page.wait_for_selector(".graph-box [data-node] rect", timeout=60_000)
    return errors


def _view(page, name: str) -> None:
    page.get_by_text(re.compile(name)).first.click()
    wait_idle(page)


def _click(page, label: str) -> None:
    page.get_by_role("button", name=re.compile(label)).first.click()
    wait_idle(page)


def _inspected(page) -> str:
    """The node the inspector shows ('MmBackward0 (node n1)')."""
    return re.search(r"Inspecting (\S+ \(node \w+\))", page.locator("[data-testid=stMain]").inner_text()).group(1)


def _params(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _labels_at_least_body_size(page) -> dict:
    got = page.evaluate(LABEL_SIZES)
    assert got["sizes"], "no …Backward0 label found in the drawing"
    smallest = min(s["font"] for s in got["sizes"])
    assert smallest >= 0.9 * got["body"], got
    assert min(s["height"] for s in got["sizes"]) >= 0.9 * got["body"], got
    return {"body": got["body"], "smallest": smallest, "ratio": smallest / got["body"]}


def test_presenter_labels_are_body_text_size_on_forward_and_backward(browser, app_url):
    context = browser.new_context(viewport=PRESENT)
    page = context.new_page()
    errors = _open_graph(page, app_url, "?present=1")
    forward = _labels_at_least_body_size(page)
    shot(page, "graph_present_forward")
    _view(page, "Backward step by step")
    for _ in range(3):
        _click(page, "Next")
    backward = _labels_at_least_body_size(page)
    shot(page, "graph_present_backward_step3")
    print(f"\nlabel/body font: forward {forward}, backward {backward}")
    assert forward["body"] == 20 and not errors
    assert_no_exception(page)
    context.close()


def test_every_view_and_option_draws_and_raises_nothing(page, app_url):
    errors = _open_graph(page, app_url)
    page.get_by_text("below it: torchviz's classic make_dot picture").click()
    wait_idle(page)
    page.wait_for_selector("[data-testid=stGraphVizChart] svg g.node", timeout=60_000)
    assert page.evaluate(BLANK_CHARTS) == []
    shot(page, "graph_desk_forward_torchviz")
    _view(page, "Backward step by step")
    page.get_by_text("ask torchviz for the picture now, after backward()").click()
    _click(page, "Play")
    page.wait_for_function("() => document.body.innerText.includes('what autograd computed')", timeout=30_000)
    wait_idle(page)
    assert page.evaluate(BLANK_CHARTS) == []
    shot(page, "graph_desk_backward_done")
    _view(page, "Gradcheck")
    assert "gradcheck on the same function: PASS" in page.locator("[data-testid=stAlertContentSuccess]").inner_text()
    leaves = page.locator(".light-table.graph-gradcheck tbody tr")  # a light table: one row per leaf, w and b
    assert [leaves.nth(i).locator("td").first.inner_text() for i in range(leaves.count())] == ["w", "b"]
    assert leaves.nth(0).locator("td").nth(2).inner_text() == "PASS"
    _view(page, "Large graph")
    for option in ("after backward()", "hide AccumulateGrad", "hide view / reshape nodes"):
        page.get_by_text(option, exact=True).click()
        wait_idle(page)
    page.wait_for_selector("[data-testid=stGraphVizChart] svg g.node", timeout=60_000)
    assert page.evaluate(BLANK_CHARTS) == []
    shot(page, "graph_desk_mlp_all_options")
    for name in ("Forward: op journal", "Backward step by step"):  # back again: drawn at once, not blank
        _view(page, name)
        assert page.evaluate(BLANK_CHARTS) == []
    assert not errors, errors
    assert_no_exception(page)


def test_torchviz_picture_is_drawn_again_after_other_graphs(page, app_url):
    """The browser's graphviz fails now and then on a layout after another one (at the last step of this path, on
    this machine): the picture must not stay blank (pages._components.graphviz_chart draws it again)."""
    _open_graph(page, app_url)
    page.get_by_text("below it: torchviz's classic make_dot picture").click()
    wait_idle(page)
    for name in ("Large graph", "options", "Forward: op journal", "Backward step by step", "Large graph",
                 "Forward: op journal", "Gradcheck", "Forward: op journal"):
        if name == "options":
            for option in ("after backward()", "hide AccumulateGrad", "hide view / reshape nodes"):
                page.get_by_text(option, exact=True).click()
                wait_idle(page)
        else:
            _view(page, name)
        page.wait_for_timeout(1500)  # each layout done before the next (the failure depends on their order)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=stGraphVizChart] svg g.node').length > 0",
                           timeout=30_000)
    assert page.evaluate(BLANK_CHARTS) == []
    assert_no_exception(page)


def test_clicking_a_node_opens_its_inspector(page, app_url):
    _open_graph(page, app_url)
    label = page.locator(".graph-box svg text", has_text="MmBackward0").first
    label.scroll_into_view_if_needed()
    box = label.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_idle(page)
    assert _inspected(page) == "MmBackward0 (node n1)"
    main = page.locator("[data-testid=stMain]").inner_text()
    assert "saved tensors:\nself: shape (1, 5), float32" in main and "1: PermuteBackward0" in main
    assert _params(page)["graph_node"] == "n1"
    shot(page, "graph_inspector_clicked")
    assert_no_exception(page)


def test_arrow_keys_move_only_the_visible_stepper_and_the_link_keeps_the_step(page, app_url):
    _open_graph(page, app_url)
    _view(page, "Backward step by step")
    before = _inspected(page)
    page.locator("h1").click()  # focus the page, not a widget
    for _ in range(3):
        page.keyboard.press("ArrowRight")
        wait_idle(page)
    params = _params(page)
    assert params["graph_bwd_pos"] == "3" and params["graph_fwd_pos"] == "3" and params["graph_view"] == "bwd"
    assert _inspected(page) != before and "step 3: MmBackward0" in page.locator("[data-testid=stMain]").inner_text()
    link = page.url
    page.goto("about:blank")
    page.goto(link)  # the copied link, opened afresh
    wait_idle(page)
    page.wait_for_selector(".graph-box [data-node] rect", timeout=60_000)
    assert "step 3: MmBackward0" in page.locator("[data-testid=stMain]").inner_text()
    assert page.get_by_role("radio", name=re.compile("Backward step by step")).is_checked()
    assert_no_exception(page)


def test_bad_expression_keeps_last_graph(page, app_url):
    _open_graph(page, app_url)
    box = page.get_by_label("forward expression (edit me)", exact=True)  # not its help button
    box.fill("().__class__.__bases__")
    box.press("Enter")
    wait_idle(page)
    assert "'__bases__' are not allowed" in page.locator("[data-testid=stAlertContentError]").inner_text()
    assert page.locator(".graph-box [data-node] rect").count() > 3
    box.fill("torch.sigmoid(x @ w.T + b)")
    box.press("Enter")
    wait_idle(page)
    assert "Saturated" in page.locator("[data-testid=stAlertContentWarning]").first.inner_text()
    shot(page, "graph_saturated_sigmoid")
    assert_no_exception(page)
