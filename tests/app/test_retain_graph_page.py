"""AppTest of the retain_graph page: backward twice, retain_graph, autograd.grad, pnl == 0, saved tensors."""
from __future__ import annotations

import html
import re

import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest
from tests.app.apptest import click, component_html, light_tables, open_app_page


def torch_second_backward_error() -> str:
    """What torch raises on a second backward through a freed graph, read from torch now."""
    p = torch.tensor([-3.0], requires_grad=True)
    y = p ** 2
    y.backward()
    try:
        y.backward()
    except RuntimeError as exc:
        return str(exc)
    raise AssertionError("torch did not raise")


@pytest.fixture
def at() -> AppTest:
    return open_app_page("pages/retain_graph.py")


def state(at: AppTest) -> str:
    return at.code[0].value


def table_with(at: AppTest, column: str, nth: int = 0) -> pd.DataFrame:
    """The nth table on screen with `column` (light HTML tables, drawn by components: their data is the HTML)."""
    return [t for t in light_tables(at) if column in t.columns][nth]


def dot(at: AppTest) -> str:
    """The loss's graph as drawn: its SVG, HTML-escaped."""
    return html.unescape(re.search(r"<svg.*</svg>", component_html(at, 'class="graph-svg"'), re.S).group(0))


def test_backward_twice_shows_torchs_error(at):
    assert "pnl.grad = None" in state(at)
    assert "saved self (1) = [-3.]" in dot(at)
    click(at, "retain_backward")
    assert "pnl.grad = tensor([-6.])" in state(at)
    assert "freed" in dot(at)
    now = table_with(at, "saved", nth=1)
    assert now.set_index("saved").loc["_saved_self", "value"] == "freed"
    before = table_with(at, "saved", nth=0)
    assert before.set_index("saved").loc["_saved_self", "value"] == "[-3.0]"
    click(at, "retain_backward")
    message = torch_second_backward_error()
    assert any(message in w.value for w in at.warning)
    assert "pnl.grad = tensor([-6.])" in state(at)  # the failed call changed nothing
    assert table_with(at, "call")["result"].iloc[-1] == "RuntimeError: " + message


def test_retain_graph_accumulates_to_minus_12(at):
    at.toggle(key="retain_retain").set_value(True).run()
    click(at, "retain_backward")
    assert "pnl.grad = tensor([-6.])" in state(at)
    assert table_with(at, "saved", nth=1).set_index("saved").loc["_saved_self", "value"] == "[-3.0]"
    click(at, "retain_backward")
    assert "pnl.grad = tensor([-12.])" in state(at) and not at.warning
    assert table_with(at, "call")["pnl.grad after"].tolist()[1:] == [-6.0, -12.0]
    click(at, "retain_reset")
    assert "pnl.grad = None" in state(at)


def test_autograd_grad_returns_without_accumulating(at):
    at.toggle(key="retain_retain").set_value(True).run()
    click(at, "retain_grad")
    click(at, "retain_grad")
    events = table_with(at, "call")
    assert events["result"].tolist()[1:] == ["returned [-6.0]", "returned [-6.0]"]
    assert "pnl.grad = None" in state(at)


def test_gain_branch_also_fails_a_second_backward(at):
    at.slider(key="retain_pnl").set_value(4.0).run()
    assert "saved other () = 0.05" in dot(at)
    click(at, "retain_backward")
    assert "pnl.grad = tensor([0.0500])" in state(at)
    assert table_with(at, "saved", nth=1).set_index("saved").loc["_saved_other", "value"] == "freed"
    click(at, "retain_backward")
    assert any(torch_second_backward_error() in w.value for w in at.warning)


def test_pnl_zero_seed_loss_fails_and_fixed_loss_works(at):
    at.slider(key="retain_pnl").set_value(0.0).run()
    assert not at.exception
    assert any("UnboundLocalError" in e.value for e in at.error)
    click(at, "retain_backward")  # nothing to differentiate: still a message, never an exception
    assert any("UnboundLocalError" in e.value for e in at.error)
    at.radio(key="retain_loss").set_value("fixed: else branch").run()
    assert not at.exception and not at.error
    click(at, "retain_backward")
    assert "pnl.grad = tensor([0.])" in state(at)
    at.radio(key="retain_loss").set_value("vectorised: torch.where").run()
    assert "WhereBackward0" in dot(at)


def test_code_shown_is_the_code_run(at):
    sources = " ".join(c.value for c in at.code)
    for name in ("def custom_trading_loss", "def backward", "def autograd_grad"):
        assert name in sources
    at.slider(key="retain_pnl").set_value(0.0).run()
    assert "def fixed_trading_loss" in " ".join(c.value for c in at.code)
