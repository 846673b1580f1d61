"""Graph page under AppTest: numbers follow row and seed, steppers move one op at a time, bad input is contained."""
from __future__ import annotations

import re

import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer.data.config import load_config
from explorer.autograd.lesson import run_lesson
from pages._common import load_from_config
from tests.app.apptest import open_app_page


@pytest.fixture(scope="module")
def frame():
    return load_from_config(load_config()).frame


@pytest.fixture
def at() -> AppTest:
    return open_app_page("pages/graph.py")


def highlighted(dot: str) -> str:
    """The id of the gold node in a DOT text."""
    found = re.findall(r"^\t(\S+) \[.*fillcolor=gold", dot, re.M)
    assert len(found) == 1, dot
    return found[0]


def graphs(at: AppTest) -> list[str]:
    return [chart.proto.spec for chart in at.get("graphviz_chart")]


def test_row_and_seed_change_the_numbers(at, frame):
    first = at.code[0].value
    expected = run_lesson(frame, 100, 0)
    assert repr(expected.y) in first and repr(expected.x) in first
    at.number_input(key="graph_row").set_value(7).run()
    assert not at.exception
    moved = run_lesson(frame, 7, 0)
    assert repr(moved.x) in at.code[0].value and repr(moved.y) in at.code[0].value
    at.number_input(key="graph_seed").set_value(5).run()
    reseeded = run_lesson(frame, 7, 5)
    assert repr(reseeded.w) in at.code[0].value and repr(moved.w) not in at.code[0].value
    gen = torch.Generator().manual_seed(5)
    assert torch.equal(reseeded.w, torch.randn(1, 5, generator=gen))


def test_journal_stepping_moves_one_op_at_a_time(at):
    assert at.session_state["graph_fwd_pos"] == 3  # opens on the finished forward pass
    seen = [highlighted(graphs(at)[0])]
    for expected in (2, 1):
        at.button(key="graph_fwd_prev").click().run()
        assert at.session_state["graph_fwd_pos"] == expected and not at.exception
        seen.append(highlighted(graphs(at)[0]))
    assert len(set(seen)) == 3
    assert "PermuteBackward0" in graphs(at)[0] and "AddBackward0" not in graphs(at)[0]  # only what is built
    at.button(key="graph_fwd_next").click().run()
    assert at.session_state["graph_fwd_pos"] == 2 and "MmBackward0" in graphs(at)[0]


def test_backward_stepping_and_play_to_the_end(at):
    assert at.session_state["graph_bwd_pos"] == 0
    seen = []
    for expected in (1, 2, 3):
        at.button(key="graph_bwd_next").click().run()
        assert at.session_state["graph_bwd_pos"] == expected
        seen.append(highlighted(graphs(at)[1]))
    assert len(set(seen)) == 3
    assert any("step 3: MmBackward0" in c.value for c in at.code)
    at.button(key="graph_bwd_play").click().run()  # plays the remaining steps, then stops
    assert at.session_state["graph_bwd_pos"] == 5 and at.session_state["graph_bwd_playing"] is False
    assert any("w.grad == x is True and b.grad == 1 is True" in s.value for s in at.success)
    assert not at.exception


def test_bad_expression_shows_an_error_and_keeps_the_last_good_graph(at):
    at.text_input(key="graph_expr").set_value("(x * w).sum() + b").run()
    good = graphs(at)[0]
    assert "SumBackward0" in good
    at.text_input(key="graph_expr").set_value("__import__('os').system('true')").run()
    assert not at.exception
    assert len(at.error) == 1 and "calling 'system' is not allowed" in at.error[0].value
    assert graphs(at)[0] == good  # the last good graph stays
    at.text_input(key="graph_expr").set_value("x ** 10**9").run()
    assert "exponent" in at.error[0].value and graphs(at)[0] == good


def test_classic_view_and_after_backward_explanation(at):
    at.toggle(key="graph_classic").set_value(True).run()
    assert len(graphs(at)) == 4 and "AccumulateGrad" in graphs(at)[1]  # ours, torchviz, backward, MLP
    at.toggle(key="graph_classic_after").set_value(True).run()
    assert any("freed" in w.value for w in at.warning) and not at.exception


def test_gradcheck_and_large_graph(at):
    assert any("gradcheck on the same function: PASS" in s.value for s in at.success)
    mlp = graphs(at)[-1]
    assert "0: Linear" in mlp and "MseLossBackward0" in mlp
    at.toggle(key="graph_mlp_collapse").set_value(False).run()
    at.slider(key="graph_mlp_layers").set_value(40).run()
    at.slider(key="graph_mlp_cap").set_value(60).run()
    assert not at.exception
    assert any("nearest the output" in w.value for w in at.warning)
    assert graphs(at)[-1].count("label=") <= 60 + graphs(at)[-1].count("->")
