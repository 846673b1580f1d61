"""Graph page links: query parameters in → the same widgets, step positions and numbers; bad values → messages."""
from __future__ import annotations


import pytest
from streamlit.testing.v1 import AppTest

from explorer import load_candles
from explorer.data.config import load_config, resolve_data_path
from explorer.autograd.lesson import gradient_printout, run_lesson, seed_printout
from tests.app.apptest import APP, printouts


@pytest.fixture(scope="module")
def frame():
    """The candles the app loads by default."""
    d = (config := load_config()).data
    return load_candles(str(resolve_data_path(config)), sep=d.separator, nrows=d.train_rows,
                        names=list(d.features)).frame


def open_link(params: dict[str, str]) -> AppTest:
    """What a browser does with a copied /graph?… link: a fresh session whose first run is the Graph page."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()  # app.py's first run (AppTest opens on the default page; the browser test opens the page's URL)
    at.switch_page("pages/graph.py").run()  # the page's first show: share_state reads the link
    assert not at.exception
    return at


def test_link_sets_widgets_positions_and_numbers(frame):
    expr = "relu(x / 1000 @ w.T + b)"
    at = open_link({"graph_row": "7", "graph_seed": "5", "graph_expr": expr, "graph_fwd_pos": "2",
                    "graph_bwd_pos": "3", "graph_mlp_layers": "3", "graph_mlp_collapse": "0"})
    assert not [w for w in at.warning if "Link parameter" in w.value] and not at.error
    assert at.number_input(key="graph_row").value == 7 and at.number_input(key="graph_seed").value == 5
    assert at.text_input(key="graph_expr").value == expr
    assert at.slider(key="graph_fwd_slider").value == 2 and at.session_state["graph_bwd_pos"] == 3
    assert at.session_state["graph_mlp_layers"] == 3 and at.session_state["graph_mlp_collapse"] is False
    assert at.code[0].value == seed_printout(*run_lesson(frame, 7, 5, expr).tensors())


def test_a_copied_url_reproduces_the_page(frame):
    at = open_link({})
    at.number_input(key="graph_row").set_value(42).run()
    at.text_input(key="graph_expr").set_value("((x @ w.T + b) ** 2).mean()").run()
    at.button(key="graph_fwd_prev").click().run()
    at.radio(key="graph_view").set_value("bwd").run()
    for _ in range(4):
        at.button(key="graph_bwd_next").click().run()
    url = dict(at.query_params)
    assert url["graph_row"] == "42" and url["graph_bwd_pos"] == "4" and url["graph_view"] == "bwd"
    assert url["graph_fwd_pos"] == str(len(run_lesson(frame, 42, 0, url["graph_expr"]).journal.entries) - 1)
    again = open_link(url)
    assert not again.warning
    shown = printouts(at)
    assert printouts(again) == shown
    assert again.radio(key="graph_view").value == "bwd"
    assert [g.proto.json for g in again.get("bidi_component")] == [g.proto.json for g in at.get("bidi_component")]
    lesson = run_lesson(frame, 42, 0, "((x @ w.T + b) ** 2).mean()")
    assert seed_printout(*lesson.tensors()) in shown
    while at.session_state["graph_bwd_pos"] < len(lesson.trace.steps):  # the last step prints the gradients
        at.button(key="graph_bwd_next").click().run()
    assert any(gradient_printout(lesson.w, lesson.b) == c.value for c in at.code)


@pytest.mark.parametrize("params, words", [
    ({"graph_row": "5000"}, "`graph_row` = '5000' ignored"),
    ({"graph_seed": "-1"}, "`graph_seed` = '-1' ignored"),
    ({"graph_row": "seven"}, "`graph_row` = 'seven' ignored"),
    ({"graph_mlp_hidden": "5"}, "not one of the choices"),
    ({"graph_classic": "yes"}, "expected 0 or 1"),
    ({"graph_fwd_pos": "40"}, "past the last op of the forward journal of this expression (3): showing step 3"),
    ({"graph_view": "sideways"}, "`graph_view` = 'sideways' ignored"),
])
def test_bad_link_values_become_messages(params, words):
    at = open_link(params)
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.number_input(key="graph_row").value == 100  # the rest of the page works with defaults


def test_refused_expression_from_a_link_is_an_error_not_a_crash(frame):
    at = open_link({"graph_expr": "__import__('os')"})
    assert "Expression not accepted" in at.error[0].value
    assert at.code[0].value == seed_printout(*run_lesson(frame, 100, 0).tensors())


def test_step_buttons_have_keyboard_shortcuts():
    at = open_link({})
    shortcuts = {key: at.button(key=key).proto.shortcut for key in ("graph_fwd_prev", "graph_fwd_next")}
    assert shortcuts == {"graph_fwd_prev": "left", "graph_fwd_next": "right"}
    assert "keyboard: Right" in at.button(key="graph_fwd_next").help


def test_a_link_copied_at_backward_step_3_opens_there(frame):
    at = open_link({"graph_view": "bwd", "graph_bwd_pos": "3", "present": "1"})
    assert not at.warning and at.radio(key="graph_view").value == "bwd"
    assert at.slider(key="graph_bwd_slider").value == 3
    assert any(run_lesson(frame, 100, 0).trace.steps[2].chain_rule() == c for c in printouts(at))
    assert at.button(key="graph_bwd_next").proto.shortcut == "right"
