"""Explanations, NaN/inf naming, gradcheck verdicts and the node inspector, with plain PyTorch as the reference."""
from __future__ import annotations

import html

import pandas as pd
import pytest
import torch

from explorer.autograd.explain import chain_value
from explorer.autograd.gradcheck import check_gradients
from explorer.autograd.journal import brief
from explorer.autograd.inspector import FREED, details_html, full, inspect_node
from explorer.autograd.lesson import make_leaves, run_lesson
from explorer.autograd.views import example_notes, explanations, gradient_stoppers, problems
from tests.unit.test_graph_gradcheck import frame  # noqa: F401  (candles priced around 4,000, like the sample)

ROW, SEED = 100, 0


def reference(frame: pd.DataFrame, seed: int, f) -> tuple[torch.Tensor, ...]:
    """Plain PyTorch: x from the row, w and b as torch.manual_seed(seed) draws them, y = f(...), backward()."""
    x = torch.tensor(frame.to_numpy()[ROW], dtype=torch.float32).reshape(1, -1)
    torch.manual_seed(seed)
    w = torch.randn_like(x, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    z = x @ w.T + b
    y = f(x, w, b)
    y.backward()
    return x, w, b, z.detach(), y.detach()


def factors(lesson, leaf: str) -> dict[str, float]:
    chain = next(c for c in lesson.chains if c.leaf == leaf)
    return {f.op: float(f.value) for f in chain.factors}


def check_grads_named(lesson, w: torch.Tensor, b: torch.Tensor) -> str:
    """The chain's product is autograd's gradient, and the text prints that gradient's numbers."""
    for chain, ref in zip(lesson.chains, (w.grad, b.grad)):
        torch.testing.assert_close(chain_value(chain), ref, equal_nan=True)
    text = "\n".join(explanations(lesson))
    assert f"**{brief(w.grad, 60)}**" in text and f"**{brief(b.grad, 60)}**" in text
    return text


def test_default_expression_w_grad_is_x(frame):
    x, w, b, z, _ = reference(frame, SEED, lambda x, w, b: x @ w.T + b)
    lesson = run_lesson(frame, ROW, SEED)
    text = check_grads_named(lesson, w, b)
    assert torch.equal(w.grad, x) and f"∂(x @ w.T)/∂w = x = {brief(x, 40)}" in text
    assert factors(lesson, "w") == {"AddBackward0": 1.0} and not gradient_stoppers(lesson)


def test_sigmoid_saturates_and_says_how_to_fix_it(frame):
    x, w, b, z, y = reference(frame, SEED, lambda x, w, b: torch.sigmoid(x @ w.T + b))
    lesson = run_lesson(frame, ROW, SEED, "torch.sigmoid(x @ w.T + b)")
    check_grads_named(lesson, w, b)
    s = torch.sigmoid(z)
    assert factors(lesson, "w")["SigmoidBackward0"] == pytest.approx(float(s * (1 - s)), abs=1e-12)
    assert abs(float(z)) > 100 and float(w.grad.abs().max()) == 0
    [note] = gradient_stoppers(lesson)
    assert "Saturated" in note and f"z = {float(z):,.6g}" in note and "torch.sigmoid((x / 1000) @ w.T + b)" in note
    scaled = run_lesson(frame, ROW, SEED, "torch.sigmoid((x / 1000) @ w.T + b)")  # the fix it suggests works
    assert not gradient_stoppers(scaled) and float(scaled.w.grad.abs().max()) > 1e-3


@pytest.mark.parametrize("seed", range(6))
def test_relu_gradient_is_the_step_function(frame, seed):
    x, w, b, _, _ = reference(frame, seed, lambda x, w, b: torch.relu(x / 1000 @ w.T + b))
    lesson = run_lesson(frame, ROW, seed, "relu(x / 1000 @ w.T + b)")
    check_grads_named(lesson, w, b)
    z = float(x / 1000 @ w.detach().T + b.detach())
    assert factors(lesson, "w")["ReluBackward0"] == (1.0 if z > 0 else 0.0)
    assert any("relu is off" in n for n in gradient_stoppers(lesson)) is (z <= 0)
    if z > 0:
        torch.testing.assert_close(w.grad, x / 1000)


def test_log_of_a_negative_number_is_named(frame):
    x, w, b, z, y = reference(frame, SEED, lambda x, w, b: torch.log(x @ w.T + b))
    assert float(z) < 0 and torch.isnan(y).all()
    lesson = run_lesson(frame, ROW, SEED, "log(x @ w.T + b)")
    check_grads_named(lesson, w, b)
    assert factors(lesson, "w")["LogBackward0"] == pytest.approx(float(1 / z))
    said = "\n".join(problems(lesson))
    assert "y is **NaN**" in said and f"log of a negative number (z = {float(z):,.6g})" in said
    assert "finite numbers all the same" in said  # log's backward g / z exists where log does not


def test_mean_of_square(frame):
    x, w, b, z, _ = reference(frame, SEED, lambda x, w, b: ((x @ w.T + b) ** 2).mean())
    lesson = run_lesson(frame, ROW, SEED, "((x @ w.T + b) ** 2).mean()")
    check_grads_named(lesson, w, b)
    assert factors(lesson, "w") == pytest.approx({"MeanBackward0": 1.0, "PowBackward0": float(2 * z),
                                                  "AddBackward0": 1.0})
    torch.testing.assert_close(w.grad, 2 * z * x)


@pytest.mark.parametrize("text, words", [
    ("exp(-(x @ w.T + b))", ["y is **inf**", "overflow", "w.grad contains **inf**", "backward step 1, `ExpBackward0`"]),
    ("x @ w.T / (b - b)", ["division by zero", "b.grad contains **NaN**"]),
    ("log(x @ w.T + b - (x @ w.T + b))", ["log of zero", "y is **inf**"]),
])
def test_nan_and_inf_are_detected_and_named(frame, text, words):
    said = "\n".join(problems(run_lesson(frame, ROW, SEED, text)))
    for word in words:
        assert word in said, said


def test_finite_lessons_report_no_problem(frame):
    assert problems(run_lesson(frame, ROW, SEED, "((x @ w.T + b) ** 2).mean()")) == []


def test_gradcheck_names_nan_instead_of_pass_or_fail(frame):
    x, w, b = make_leaves(frame, ROW, SEED)
    nan = check_gradients(run_lesson(frame, ROW, SEED, "log(x @ w.T + b)").expression, x, w, b)
    assert nan.verdict == "NaN" and nan.nonfinite == "NaN"
    fine = check_gradients(run_lesson(frame, ROW, SEED, "torch.sigmoid(x / 4000 @ w.T + b)").expression, x, w, b)
    assert fine.verdict == "PASS" and fine.nonfinite == ""


def test_example_notes_say_which_examples_saturate(frame):
    notes = example_notes(frame, ROW, SEED)
    assert notes["torch.sigmoid(x @ w.T + b)"].startswith("saturated")
    assert notes["log(x @ w.T + b)"] == "y is NaN on this row"
    assert notes["x @ w.T + b"] == "" and notes["torch.sigmoid(x / 1000 @ w.T + b)"] == ""


def test_inspector_values_are_the_real_graph_before_and_after_backward(frame):
    lesson = run_lesson(frame, ROW, SEED)
    x = torch.tensor(frame.to_numpy()[ROW], dtype=torch.float32).reshape(1, -1)
    torch.manual_seed(SEED)
    w = torch.randn_like(x, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    y = x @ w.T + b
    mm_fn = y.grad_fn.next_functions[0][0]
    ids = {n.name: nid for nid, n in lesson.before.nodes.items()}
    mm = inspect_node(lesson, ids["MmBackward0"], None)
    assert mm.grad_fn == type(mm_fn).__name__ == "MmBackward0"
    assert torch.equal(mm.saved["self"], mm_fn._saved_self) and torch.equal(mm.value, x @ w.T)
    assert mm.inputs == ["0: None (this input needs no gradient)", "1: PermuteBackward0 (its output 0)"]
    assert mm.grad is None
    y.backward()
    with pytest.raises(RuntimeError):
        mm_fn._saved_self  # the real graph freed it
    after = inspect_node(lesson, ids["MmBackward0"], len(lesson.trace.steps))
    assert after.saved["self"] == FREED and torch.equal(after.grad, torch.ones(1, 1)) and after.step_ran
    assert "step 3: MmBackward0" in after.step.chain_rule()
    w_node = inspect_node(lesson, ids["w"], len(lesson.trace.steps))
    assert torch.equal(w_node.grad, w.grad) and torch.equal(w_node.value, w.detach())
    permute = inspect_node(lesson, ids["PermuteBackward0"], len(lesson.trace.steps))
    assert torch.equal(permute.grad, x.T)  # the gradient MmBackward0 sent into it: xᵀ @ g
    assert inspect_node(lesson, ids["w"], 2).grad is None  # w's AccumulateGrad has not run by step 2
    shown = details_html(after)  # the inspector as drawn: every number of the real tensors, as text
    assert f"grad: {full(torch.ones(1, 1))}" in shown and "self: freed by backward()" in shown
    assert html.escape(after.step.chain_rule()) in shown and "(backward step 3)" in shown
    assert "saved tensors:\nself: " + full(x) in details_html(mm)
