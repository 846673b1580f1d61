"""AppTest of the Hooks and higher order page (every view) and the Gradient flow page (the bars, the sentence from
the numbers, training live)."""
from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from streamlit.testing.v1 import AppTest

from explorer.mechanics import flow, tools
from tests.app.apptest import APP, click, component_html, light_table, open_app_page
from tests.app.test_code_blocks import assert_lessons


@pytest.fixture(scope="module")
def tools_page() -> AppTest:
    return open_app_page("pages/autograd_tools.py")


def texts(at: AppTest) -> list[str]:
    return [c.value for c in at.code if c.language == "text"]


@pytest.mark.parametrize("view", list(tools.VIEWS))
def test_each_view_opens_on_torchs_message_next_to_the_fix(tools_page, view):
    at = tools_page
    at.radio(key="tools_view").set_value(view).run()
    assert not at.exception
    shown = tools.tools_view(view, at.session_state["candles"].frame, at.number_input(key="tools_row").value, 14)
    assert texts(at)[0] == shown.message and texts(at)[1] == shown.fixed
    assert shown.message.split(":")[0] in ("RuntimeError", "GradcheckError")
    assert "graph-svg" in component_html(at, "graph-svg")
    assert_lessons(at, f"autograd_tools {view}")  # the code shown is lessons only, in every view
    links = [m.value for m in at.markdown if "Open in scratchpad" in m.value]
    if shown.scratch:
        assert unquote(re.search(r"\?code=([^)]*)\)", links[0]).group(1)) == shown.scratch
    else:
        assert not links


def test_the_hooks_view_shows_the_order_and_w_grad(tools_page):
    at = tools_page
    at.radio(key="tools_view").set_value("hooks").run()
    shown = tools.tools_view("hooks", at.session_state["candles"].frame, at.number_input(key="tools_row").value, 14)
    assert "cannot register a hook on a tensor that doesn't require gradient" in texts(at)[0]
    assert f"w.grad = {shown.facts['w_grad']:.6f}" in texts(at)[1]
    assert "fires: pre-hook 1, hook 2" in component_html(at, "graph-svg")


def test_a_link_opens_a_view_and_a_bad_one_is_refused():
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["tools_view"] = "anomaly"
    at.run()
    at.switch_page("pages/autograd_tools.py").run()
    assert at.radio(key="tools_view").value == "anomaly"
    assert "PowBackward0" in texts(at)[0]
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["tools_view"] = "nonsense"
    at.run()
    at.switch_page("pages/autograd_tools.py").run()
    assert not at.exception and at.radio(key="tools_view").value == "hooks"
    assert any("tools_view" in w.value for w in at.warning)


@pytest.fixture(scope="module")
def flow_page() -> AppTest:
    return open_app_page("pages/gradient_flow.py")


def test_gradient_flow_says_how_much_smaller_the_first_layers_gradient_is(flow_page):
    at = flow_page
    run = at.session_state["flow_run"]
    assert run.settings == flow.FlowSettings(10, "sigmoid", "pytorch_default", 100)
    first, last = run.init_norms[0], run.init_norms[-1]
    assert last / first >= 100
    said = [m.value for m in at.markdown if m.value.startswith("At init")]
    assert said and f"the first layer's gradient is {flow.times(last / first)} smaller than the last's" in said[0]
    assert light_table(at, "flow-norms")["at init"].tolist() == [float(f"{v:.3e}") for v in run.init_norms]
    assert len(re.findall(r"<rect ", component_html(at, "flow-bars"))) == 10  # one bar a layer until it trains


def test_training_steps_and_redraws_until_done(flow_page):
    at = flow_page
    at.select_slider(key="flow_steps").set_value(20).run()
    at.slider(key="flow_depth").set_value(4).run()
    run = at.session_state["flow_run"]
    assert run.settings.depth == 4 and run.done == 0
    click(at, "flow_train")
    assert at.session_state["flow_run"] is run and run.done == 1  # one tick: 20 // 20 steps
    for _ in range(25):
        if not at.session_state.get("flow_playing"):
            break
        at.run()
    assert run.done == 20 and not at.session_state["flow_playing"]
    assert any(m.value.endswith("on its way back.") and "After 20 steps" in m.value for m in at.markdown)
    assert "after 20 steps" in component_html(at, "flow-bars")
    click(at, "flow_reset")
    assert at.session_state["flow_run"].done == 0
    click(at, "flow_train")
    at.radio(key="flow_activation").set_value("relu").run()  # new settings while it plays: a new model, at rest
    assert at.session_state["flow_run"].done == 0 and not at.session_state["flow_playing"]


def test_quiz_mode_asks_for_w_grad_before_showing_it():
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["quiz"] = "1"
    at.run()
    at.switch_page("pages/autograd_tools.py").run()
    assert not at.exception and not texts(at)  # the printouts wait for the prediction
    shown = tools.tools_view("hooks", at.session_state["candles"].frame, at.number_input(key="tools_row").value, 14)
    at.text_input(key="quiz_in_tools_hooked_w_grad").input(repr(shown.facts["w_grad"]))
    at.button(key="quiz_check_tools_hooked_w_grad").click().run()
    assert not at.exception and at.success and texts(at)[1] == shown.fixed
