"""Gradcheck panel against torch.autograd.gradcheck; the lesson as a whole; the MLP graph at scale."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from explorer.autograd.expr import ExpressionError, parse_expression
from explorer.autograd.gradcheck import check_gradients
from explorer.autograd.graph import build_graph
from explorer.autograd.graph_dot import graph_to_dot
from explorer.autograd.lesson import make_leaves, run_lesson, seed_printout
from explorer.autograd.views import backward_view, forward_view
from explorer.autograd.large_graph import tagged_mlp_loss

EXPRESSIONS = ["x @ w.T + b", "torch.sigmoid(x / 4000 @ w.T + b)", "((x @ w.T + b) ** 2).mean()",
               "(x * w).sum() + b", "softmax(x / 1000 * w).sum() * b", "tanh(w).sum() * exp(b)"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    gen = torch.Generator().manual_seed(7)
    close = 4000 + torch.cumsum(torch.randn(200, generator=gen, dtype=torch.float64), 0)
    return pd.DataFrame({"open": close - 0.5, "high": close + 1.0, "low": close - 1.0, "close": close,
                         "volume": torch.rand(200, generator=gen, dtype=torch.float64)},
                        index=pd.date_range("2017-08-17 04:00", periods=200, freq="1min", name="timestamp"))


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_gradcheck_agrees_with_torch_autograd_gradcheck(text, frame):
    x, w, b = make_leaves(frame, 100, 0)
    expression = parse_expression(text)
    report = check_gradients(expression, x, w, b)
    assert report.passed is report.torch_gradcheck is True
    assert [leaf.name for leaf in report.leaves] == ["w", "b"]
    x64, w64, b64 = (t.detach().double().requires_grad_(t.requires_grad) for t in (x, w, b))
    jac_w, jac_b = torch.autograd.functional.jacobian(lambda w_, b_: expression(x64, w_, b_), (w64, b64))
    torch.testing.assert_close(report.leaves[0].analytic, jac_w.reshape(1, -1))
    torch.testing.assert_close(report.leaves[1].analytic, jac_b.reshape(1, -1))
    for leaf in report.leaves:
        assert leaf.max_abs_diff == pytest.approx(float((leaf.analytic - leaf.numeric).abs().max()))


class WrongGrad(torch.autograd.Function):
    """x ** 2 with a deliberately wrong backward (3x instead of 2x)."""

    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        return t ** 2

    @staticmethod
    def backward(ctx, g):
        (t,) = ctx.saved_tensors
        return g * 3 * t


def test_a_wrong_gradient_fails_in_both(frame):
    x, w, b = make_leaves(frame, 100, 0)
    report = check_gradients(lambda x_, w_, b_: WrongGrad.apply(w_).sum() + b_, x, w, b)
    by_leaf = {leaf.name: leaf for leaf in report.leaves}
    assert not by_leaf["w"].passed and by_leaf["b"].passed
    assert report.torch_gradcheck is False and report.passed is False
    torch.testing.assert_close(by_leaf["w"].max_abs_diff, float((w.detach().double()).abs().max()), rtol=1e-5,
                               atol=1e-6)  # 3w − 2w = w


def test_lesson_matches_the_seed_cells(frame):
    lesson = run_lesson(frame, 100, 0)
    x = torch.tensor(frame.values[100], dtype=torch.float32).reshape(1, -1)
    torch.manual_seed(0)
    w = torch.randn_like(x, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    assert torch.equal(lesson.x, x) and torch.equal(lesson.w, w) and torch.equal(lesson.b, b)
    assert torch.equal(lesson.y, x @ w.T + b)
    printed = seed_printout(*lesson.tensors())
    assert repr(x @ w.T + b) in printed and "torch.Size([1, 5])" in printed
    assert torch.equal(lesson.w.grad, x) and torch.equal(lesson.b.grad, torch.ones(1))
    assert lesson.classic_before.startswith("digraph") and "freed" in lesson.classic_after_error


def test_lesson_views_step_one_node_at_a_time(frame):
    lesson = run_lesson(frame, 100, 0, "((x @ w.T + b) ** 2).mean()")
    forward_highlights = [forward_view(lesson, k)[1] for k in range(1, len(lesson.journal.entries) + 1)]
    assert len(set(forward_highlights)) == len(forward_highlights) == 5
    sizes = [len(forward_view(lesson, k)[0].nodes) for k in range(6)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    backward_highlights = [backward_view(lesson, k)[1] for k in range(1, len(lesson.trace.steps) + 1)]
    assert len(set(backward_highlights)) == len(backward_highlights)
    start, _ = backward_view(lesson, 0)
    assert all(n.grad is None for n in start.nodes.values()) and not any(n.saved_freed for n in start.nodes.values())
    end, _ = backward_view(lesson, len(lesson.trace.steps))
    assert all(n.saved_freed for n in end.nodes.values() if any(s.is_tensor for s in n.saved))


def test_lesson_refuses_bad_input(frame):
    with pytest.raises(ExpressionError, match="backward"):
        run_lesson(frame, 100, 0, "x * w")  # not a single number
    with pytest.raises(ExpressionError, match="outside"):
        run_lesson(frame, 10_000, 0)


def test_mlp_graph_collapses_hides_and_caps(frame):
    loss, params, model = tagged_mlp_loss(frame, hidden=8, layers=2, rows=16)
    full = build_graph(loss, params, output_name="loss")
    assert full.kinds()["parameter"] == len(params) == 6
    collapsed = build_graph(loss, params, collapse=True)
    modules = sorted(n.name for n in collapsed.nodes.values() if n.kind == "module")
    assert modules == ["0: Linear", "1: ReLU", "2: Linear", "3: ReLU", "4: Linear"]
    expanded = build_graph(loss, params, collapse=True, expand={"2"})
    assert "2: Linear" not in {n.name for n in expanded.nodes.values()}
    assert {"2.weight", "2.bias"} <= {n.name for n in expanded.nodes.values()}
    deep, deep_params, _ = tagged_mlp_loss(frame, hidden=4, layers=40, rows=8)
    capped = build_graph(deep, deep_params, max_nodes=50)
    assert len(capped.nodes) == 50 and capped.total_nodes > 200
    assert any("only the 50 nearest the output" in note for note in capped.notes)
    loss.backward()
    after = build_graph(loss, params)  # after backward: grads on parameters, saved tensors freed
    weights = {n.name: n for n in after.nodes.values() if n.kind == "parameter"}
    assert weights["0.weight"].grad is not None and "freed by backward()" in graph_to_dot(after, show_values=True)
