"""Graph page under AppTest: numbers follow row and seed, steppers move one op at a time, only the chosen view is
drawn, the inspector shows a chosen node in full, explanations and gradcheck follow what ran."""
from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer.autograd.graph_plot import HIGHLIGHT_FILL, SELECTED_LINE
from explorer.autograd.gradcheck import check_gradients
from explorer.autograd.inspector import full
from explorer.autograd.journal import preview
from explorer.autograd.lesson import run_lesson
from explorer.data.config import load_config
from pages._common import load_from_config
from tests.app.apptest import light_table, open_app_page, printouts


@pytest.fixture(scope="module")
def frame():
    return load_from_config(load_config()).frame


@pytest.fixture
def at() -> AppTest:
    return open_app_page("pages/graph.py")


def figures(at: AppTest) -> list[dict[str, dict]]:
    """Our graph drawings on the page (one SVG each): node id → its box's fill, outline colour and text."""
    out = []
    for drawing in at.get("bidi_component"):
        data = json.loads(drawing.proto.json)
        data = data["svg"] if isinstance(data, dict) and "svg" in data else data  # the graph: its SVG and what it says
        if not isinstance(data, str) or not data.startswith("<svg"):  # the journal table
            continue
        svg = ElementTree.fromstring(data)
        out.append({g.get("data-node"): {"fill": g.find("rect").get("fill"), "line": g.find("rect").get("stroke"),
                                         "text": " ".join(g.find("text").itertext())}
                    for g in svg.iter("g") if g.get("data-node")})
    return out


def highlighted(fig: dict) -> str:
    """The node id of the box drawn gold."""
    found = [nid for nid, box in fig.items() if box["fill"] == HIGHLIGHT_FILL]
    assert len(found) == 1, found
    return found[0]


def labels(fig: dict) -> str:
    return " ".join(box["text"] for box in fig.values())


def show(at: AppTest, view: str) -> AppTest:
    at.radio(key="graph_view").set_value(view).run()
    assert not at.exception
    return at


def test_row_and_seed_change_the_numbers(at, frame):
    expected = run_lesson(frame, 100, 0)
    assert repr(expected.y) in at.code[0].value and repr(expected.x) in at.code[0].value
    at.number_input(key="graph_row").set_value(7).run()
    moved = run_lesson(frame, 7, 0)
    assert repr(moved.x) in at.code[0].value and repr(moved.y) in at.code[0].value and not at.exception
    at.number_input(key="graph_seed").set_value(5).run()
    reseeded = run_lesson(frame, 7, 5)
    assert repr(reseeded.w) in at.code[0].value and repr(moved.w) not in at.code[0].value
    assert torch.equal(reseeded.w, torch.randn(1, 5, generator=torch.Generator().manual_seed(5)))


def test_journal_stepping_moves_one_op_at_a_time(at):
    assert at.session_state["graph_fwd_pos"] == 3 and len(figures(at)) == 1  # only the forward view is drawn
    seen = [highlighted(figures(at)[0])]
    for expected in (2, 1):
        at.button(key="graph_fwd_prev").click().run()
        assert at.session_state["graph_fwd_pos"] == expected and not at.exception
        seen.append(highlighted(figures(at)[0]))
    assert len(set(seen)) == 3
    assert "PermuteBackward0" in labels(figures(at)[0]) and "AddBackward0" not in labels(figures(at)[0])
    at.button(key="graph_fwd_next").click().run()
    assert at.session_state["graph_fwd_pos"] == 2 and "MmBackward0" in labels(figures(at)[0])


def test_backward_stepping_and_play_to_the_end(at, frame):
    show(at, "bwd")
    assert at.session_state["graph_bwd_pos"] == 0
    seen = []
    for expected in (1, 2, 3):
        at.button(key="graph_bwd_next").click().run()
        assert at.session_state["graph_bwd_pos"] == expected
        seen.append(highlighted(figures(at)[0]))
    assert len(set(seen)) == 3 and any("step 3: MmBackward0" in c for c in printouts(at))
    at.button(key="graph_bwd_play").click().run()  # plays the remaining steps, then stops
    assert at.session_state["graph_bwd_pos"] == 5 and at.session_state["graph_bwd_playing"] is False
    assert any("w.grad == x" in s.value for s in at.success) and not at.exception


def test_keyboard_shortcuts_exist_only_on_the_visible_stepper(at):
    assert at.button(key="graph_fwd_next").proto.shortcut == "right"
    with pytest.raises(KeyError):
        at.button(key="graph_bwd_next")  # the backward stepper is not on the page, so ← → cannot move it
    show(at, "bwd")
    assert at.button(key="graph_bwd_next").proto.shortcut == "right"
    with pytest.raises(KeyError):
        at.button(key="graph_fwd_next")
    assert at.session_state["graph_fwd_pos"] == 3


def test_choosing_a_node_shows_its_inspector_in_full(at, frame):
    lesson = run_lesson(frame, 100, 0)
    mm = next(nid for nid, n in lesson.before.nodes.items() if n.name == "MmBackward0")
    at.selectbox(key="graph_node").set_value(mm).run()
    codes = printouts(at)
    assert any(full(lesson.journal.entries[1].output) in c for c in codes)  # value x @ w.T, every digit
    assert any("saved tensors:\nself: " + full(lesson.x) in c for c in codes)  # before backward: x, saved
    assert any("1: PermuteBackward0" in c for c in codes)
    show(at, "bwd")
    for _ in range(3):
        at.button(key="graph_bwd_next").click().run()
    codes = printouts(at)
    assert any("self: freed by backward()" in c for c in codes)  # MmBackward0 ran at step 3
    assert any(full(torch.ones(1, 1)) in c for c in codes)  # the gradient that arrived there
    fig = figures(at)[0]
    assert fig[mm]["line"] == SELECTED_LINE and [n for n, box in fig.items() if box["line"] == SELECTED_LINE] == [mm]


def test_bad_expression_shows_an_error_and_keeps_the_last_good_graph(at):
    at.text_input(key="graph_expr").set_value("(x * w).sum() + b").run()
    good = labels(figures(at)[0])
    assert "SumBackward0" in good
    at.text_input(key="graph_expr").set_value("__import__('os').system('true')").run()
    assert not at.exception
    assert len(at.error) == 1 and "calling 'system' is not allowed" in at.error[0].value
    assert labels(figures(at)[0]) == good
    at.text_input(key="graph_expr").set_value("x ** 10**9").run()
    assert "exponent" in at.error[0].value and labels(figures(at)[0]) == good


def test_saturated_and_nan_expressions_are_explained(at):
    at.text_input(key="graph_expr").set_value("torch.sigmoid(x @ w.T + b)").run()
    assert any("Saturated" in w.value and "x / 1000" in w.value for w in at.warning)
    at.text_input(key="graph_expr").set_value("log(x @ w.T + b)").run()
    assert any("log of a negative number" in e.value for e in at.error)
    show(at, "check")
    assert not at.success and any("Not checkable" in w.value and "NaN" in w.value for w in at.warning)


def test_classic_view_and_after_backward_explanation(at):
    at.toggle(key="graph_classic").set_value(True).run()
    dots = [g.proto.spec for g in at.get("graphviz_chart")]
    assert len(dots) == 1 and "AccumulateGrad" in dots[0] and "bgcolor=white" in dots[0]  # torchviz, below ours
    assert "  " not in dots[0] and "\u00a0\u00a0" in dots[0]  # its aligned columns (plain runs: drawn blank)
    show(at, "bwd")
    at.toggle(key="graph_classic_after").set_value(True).run()
    assert any("freed" in w.value for w in at.warning) and not at.exception


def test_gradcheck_and_large_graph(at, frame):
    show(at, "check")
    assert any("gradcheck on the same function: PASS" in s.value for s in at.success) and not at.error
    lesson = run_lesson(frame, 100, 0)
    report = check_gradients(lesson.expression, lesson.x, lesson.w, lesson.b)
    table = light_table(at, "graph-gradcheck")  # one row per leaf, as the library checked it
    assert table["leaf"].tolist() == [leaf.name for leaf in report.leaves] and len(table) >= 2
    assert table["result"].tolist() == ["PASS"] * len(report.leaves)
    assert table["max |diff|"].tolist() == [float(f"{leaf.max_abs_diff:.3e}") for leaf in report.leaves]
    assert table["autograd"].tolist() == [preview(leaf.analytic, 6) for leaf in report.leaves]
    assert table["finite differences"].tolist() == [preview(leaf.numeric, 6) for leaf in report.leaves]
    show(at, "mlp")
    mlp = at.get("graphviz_chart")[-1].proto.spec
    assert "0: Linear" in mlp and "MseLossBackward0" in mlp
    at.toggle(key="graph_mlp_collapse").set_value(False).run()
    at.slider(key="graph_mlp_layers").set_value(40).run()
    at.slider(key="graph_mlp_cap").set_value(60).run()
    assert not at.exception
    assert any("nearest the output" in w.value for w in at.warning)
    mlp = at.get("graphviz_chart")[-1].proto.spec
    assert mlp.count("label=") <= 60 + mlp.count("->")


def test_options_survive_while_their_view_is_hidden(at):
    show(at, "mlp")
    at.slider(key="graph_mlp_layers").set_value(5).run()
    show(at, "fwd")
    at.toggle(key="graph_classic").set_value(True).run()
    show(at, "bwd")
    assert at.query_params["graph_mlp_layers"] == "5" and at.query_params["graph_classic"] == "1"
    show(at, "mlp")
    assert at.slider(key="graph_mlp_layers").value == 5
    show(at, "fwd")
    assert at.toggle(key="graph_classic").value is True and len(at.get("graphviz_chart")) == 1
