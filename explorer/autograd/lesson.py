"""Seed Part B as one call: x, w, b from a candle row, the learner's expression, journal, graph, backward."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import pandas as pd
import torch

from explorer.autograd.backward import BackwardTrace, trace_backward
from explorer.autograd.expr import Expression, ExpressionError, parse_expression
from explorer.autograd.graph import build_graph
from explorer.autograd.graph_model import GraphModel
from explorer.autograd.journal import OpJournal
from explorer.tensors import candle_row, seeded_leaves

DEFAULT_EXPRESSION = "x @ w.T + b"
EXAMPLES = ("x @ w.T + b", "torch.sigmoid(x @ w.T + b)", "((x @ w.T + b) ** 2).mean()", "(x * w).sum() + b",
            "relu(x / 1000 @ w.T + b)", "softmax(x / 1000 * w).sum() * b")


def make_leaves(frame: pd.DataFrame, row: int, seed: int,
                device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x is candle `row` as a (1, 5) float32 tensor; w and b are random leaves that require grad."""
    x = candle_row(frame, row, device)
    return (x, *seeded_leaves(x, seed))


def forward_with_journal(expression: Expression, x: torch.Tensor, w: torch.Tensor,
                         b: torch.Tensor) -> tuple[torch.Tensor, OpJournal]:
    """Run the forward pass with every tensor op recorded as it runs."""
    with OpJournal({"x": x, "w": w, "b": b}) as journal:
        y = expression(x, w, b)
    journal.rename_last("y")
    return y, journal


def classic_dot(y: torch.Tensor, params: dict[str, torch.Tensor]) -> tuple[str | None, str | None]:
    """torchviz's make_dot picture as DOT, or (None, why) when torchviz cannot draw it (after backward)."""
    with warnings.catch_warnings():  # torchviz 0.0.3 compares versions with the deprecated distutils
        warnings.simplefilter("ignore", DeprecationWarning)
        from torchviz import make_dot

        try:
            return make_dot(y, params=params, show_attrs=True, show_saved=True).source, None
        except RuntimeError as err:
            return None, str(err).split(".")[0] + "."


@dataclass
class GraphLesson:
    """Everything the Graph page shows for one (row, seed, expression)."""
    expression: Expression
    x: torch.Tensor
    w: torch.Tensor
    b: torch.Tensor
    y: torch.Tensor
    journal: OpJournal
    before: GraphModel  # built right after the forward pass: values and saved tensors
    after: GraphModel  # the same graph after backward(): grads, saved tensors freed
    trace: BackwardTrace
    classic_before: str | None
    classic_after_error: str | None


def run_lesson(frame: pd.DataFrame, row: int, seed: int, text: str = DEFAULT_EXPRESSION,
               device: str = "cpu") -> GraphLesson:
    """Parse the expression, run it on candle `row` with the journal on, draw the graph, trace backward()."""
    if not 0 <= row < len(frame):
        raise ExpressionError(f"row {row} is outside the loaded data (0 … {len(frame) - 1})")
    expression = parse_expression(text)
    x, w, b = make_leaves(frame, row, seed, device)
    y, journal = forward_with_journal(expression, x, w, b)
    if y.grad_fn is None:
        raise ExpressionError("the result has no grad_fn (it is a leaf itself, or does not use w or b): "
                              "apply at least one operation to w or b")
    if y.numel() != 1:
        raise ExpressionError(f"the result has shape {tuple(y.shape)}; backward() needs a single number — "
                              "wrap it in .sum() or .mean()")
    params = {"x": x, "w": w, "b": b}
    before = build_graph(y, params, journal=journal)
    classic_before, _ = classic_dot(y, params)
    trace = trace_backward(y, params)
    after = build_graph(y, params, journal=journal, trace=trace)
    _, classic_after_error = classic_dot(y, params)  # torchviz reads freed saved tensors here and raises
    return GraphLesson(expression, x, w, b, y, journal, before, after, trace, classic_before, classic_after_error)


def forward_view(lesson: GraphLesson, upto: int) -> tuple[GraphModel, str | None]:
    """The graph as built after journal op `upto` (0: only the leaves), and the node that op created."""
    entry = lesson.journal.entries[upto - 1] if upto else None
    return lesson.before.until(upto), lesson.before.node_for(entry.grad_fn) if entry else None


def backward_view(lesson: GraphLesson, upto: int) -> tuple[GraphModel, str | None]:
    """The graph after `upto` backward steps: grads so far; saved tensors freed on the nodes that already ran."""
    ran = {lesson.after.node_for(s.fn) for s in lesson.trace.steps[:upto]}
    nodes = {nid: replace(node, grad=None, saved=(node if nid in ran else lesson.before.nodes.get(nid, node)).saved)
             for nid, node in lesson.after.nodes.items()}
    model = lesson.trace.annotate(replace(lesson.after, nodes=nodes), upto)
    active = lesson.trace.steps[upto - 1] if upto else None
    return model, model.node_for(active.fn) if active else None


def seed_printout(lesson: GraphLesson) -> str:
    """x, w, b, their shapes and y, printed the way the seed notebook's cells print them."""
    x, w, b, y = lesson.x, lesson.w, lesson.b, lesson.y
    return (f"x.shape, w.shape, b.shape\n({x.shape!r}, {w.shape!r}, {b.shape!r})\n\n"
            f"x, w, b\n({x!r},\n {w!r},\n {b!r})\n\ny\n{y!r}")


def gradient_printout(lesson: GraphLesson) -> str:
    """w.grad and b.grad after backward(), printed as the seed prints them."""
    return f"w.grad, b.grad\n({lesson.w.grad!r},\n {lesson.b.grad!r})"
