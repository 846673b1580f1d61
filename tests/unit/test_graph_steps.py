"""Op journal and backward trace: the ops in the order they ran, and the nodes in the order autograd ran them."""
from __future__ import annotations

from collections import deque

import pytest
import torch

from explorer.autograd.backward import trace_backward
from explorer.autograd.expr import parse_expression
from explorer.autograd.journal import OpJournal, preview

JOURNALS = {  # expression -> (op, grad_fn) in the order they run
    "x @ w.T + b": [("Tensor.T", "PermuteBackward0"), ("Tensor.matmul", "MmBackward0"),
                    ("Tensor.add", "AddBackward0")],
    "torch.sigmoid(x @ w.T + b)": [("Tensor.T", "PermuteBackward0"), ("Tensor.matmul", "MmBackward0"),
                                   ("Tensor.add", "AddBackward0"), ("torch.sigmoid", "SigmoidBackward0")],
    "((x @ w.T + b) ** 2).mean()": [("Tensor.T", "PermuteBackward0"), ("Tensor.matmul", "MmBackward0"),
                                    ("Tensor.add", "AddBackward0"), ("Tensor.pow", "PowBackward0"),
                                    ("Tensor.mean", "MeanBackward0")],
    "(x * w).sum() + b": [("Tensor.mul", "MulBackward0"), ("Tensor.sum", "SumBackward0"),
                          ("Tensor.add", "AddBackward0")],
    "(x / 1000 * w).sum() + b": [("Tensor.div", None), ("Tensor.mul", "MulBackward0"),
                                 ("Tensor.sum", "SumBackward0"), ("Tensor.add", "AddBackward0")],
}


def leaves(seed: int = 0):
    x = torch.tensor([[4291.3701, 4291.3701, 4291.3701, 4291.3701, 0.0]])
    gen = torch.Generator().manual_seed(seed)
    return x, torch.randn(1, 5, generator=gen, requires_grad=True), torch.randn(1, generator=gen, requires_grad=True)


def run(text: str):
    x, w, b = leaves()
    with OpJournal({"x": x, "w": w, "b": b}) as journal:
        y = parse_expression(text)(x, w, b)
    return x, w, b, y, journal


@pytest.mark.parametrize("text", list(JOURNALS))
def test_journal_lists_the_ops_in_order(text):
    x, w, b, y, journal = run(text)
    assert [(e.op, e.grad_fn_name) for e in journal.entries] == JOURNALS[text]
    assert journal.entries[-1].grad_fn is y.grad_fn
    assert journal.entries[-1].output_value == preview(y)
    assert [e.index for e in journal.entries] == list(range(1, len(JOURNALS[text]) + 1))


def test_journal_records_inputs_by_name_with_values():
    x, w, b, y, journal = run("x @ w.T + b")
    transpose, matmul, add = journal.entries
    assert [(o.name, o.shape, o.value) for o in transpose.inputs] == [("w", (1, 5), preview(w))]
    assert [(o.name, o.shape) for o in matmul.inputs] == [("x", (1, 5)), ("t1", (5, 1))]
    assert matmul.output_value == preview(x @ w.T)
    assert [o.name for o in add.inputs] == ["t2", "b"]
    assert "t2 = Tensor.matmul(x, t1)" in matmul.describe()


def _hooked_order(y: torch.Tensor) -> list[object]:
    """Reference: the nodes' pre-hooks, registered independently of trace_backward."""
    seen, queue, order, handles = {id(y.grad_fn)}, deque([y.grad_fn]), [], []
    while queue:
        fn = queue.popleft()
        handles.append(fn.register_prehook(lambda g, fn=fn: order.append(fn)))
        for child, _ in fn.next_functions:
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                queue.append(child)
    return order


@pytest.mark.parametrize("text", list(JOURNALS))
def test_recorded_backward_order_equals_what_hooks_saw(text):
    x, w, b, y, _ = run(text)
    reference = _hooked_order(y)
    trace = trace_backward(y, {"w": w, "b": b})
    assert [s.fn for s in trace.steps] == reference
    assert [s.index for s in trace.steps] == list(range(1, len(reference) + 1))
    assert trace.steps[0].grad_outputs[0].item() == 1.0  # backward starts with dy/dy = 1


def test_seed_backward_leaves_w_grad_equal_x_and_b_grad_one():
    x, w, b, y, _ = run("x @ w.T + b")
    trace = trace_backward(y, {"w": w, "b": b})
    assert trace.order() == ["AddBackward0", "AccumulateGrad", "MmBackward0", "PermuteBackward0", "AccumulateGrad"]
    assert torch.equal(w.grad, x) and torch.equal(b.grad, torch.ones(1))
    mm = trace.steps[2]
    assert torch.equal(mm.saved["self"], x)  # captured before the node ran and freed it
    assert mm.grad_inputs[0] is None and torch.equal(mm.grad_inputs[1], x.T)
    assert torch.equal(trace.steps[4].leaf_grad, x)
    text = mm.chain_rule()
    assert "∂L/∂mat2 = selfᵀ @ g" in text and preview(x) in text and "(needs no grad)" in text


def test_grads_flowing_match_autograd_grad_of_intermediates():
    x, w, b, y, journal = run("((x @ w.T + b) ** 2).mean()")
    t3 = journal.entries[2].output  # x @ w.T + b
    expected = torch.autograd.grad(y, t3, retain_graph=True)[0]
    trace = trace_backward(y, {"w": w, "b": b})
    pow_step = next(s for s in trace.steps if s.name == "PowBackward0")
    torch.testing.assert_close(pow_step.grad_inputs[0], expected, rtol=0, atol=0)
    assert torch.equal(pow_step.saved["self"], t3.detach())


def test_hooks_are_removed_after_tracing():
    x, w, b, y, _ = run("x @ w.T + b")
    trace_backward(y, {"w": w, "b": b}, retain_graph=True)
    first = w.grad.clone()
    y.backward()  # a second plain backward must not append to the old trace or fail
    assert torch.equal(w.grad, 2 * first)
