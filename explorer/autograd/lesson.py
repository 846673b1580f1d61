"""Seed Part B as one call: x, w, b from a candle row, the learner's expression, journal, graph, backward."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from functools import cached_property

import pandas as pd
import torch

from explorer.autograd.backward import BackwardTrace, trace_backward
from explorer.autograd.explain import Chain, explain, gradient_chain, stoppers
from explorer.autograd.expr import Expression, ExpressionError, parse_expression
from explorer.autograd.graph import build_graph
from explorer.autograd.graph_model import GraphModel
from explorer.autograd.journal import OpJournal
from explorer.autograd.nonfinite import kind, report as nonfinite_report
from explorer.tensors import candle_row, seeded_leaves

DEFAULT_EXPRESSION = "x @ w.T + b"
EXAMPLES = ("x @ w.T + b", "torch.sigmoid(x / 1000 @ w.T + b)", "((x @ w.T + b) ** 2).mean()", "(x * w).sum() + b",
            "relu(x / 1000 @ w.T + b)", "softmax(x / 1000 * w).sum() * b", "torch.sigmoid(x @ w.T + b)",
            "log(x @ w.T + b)")


def make_leaves(frame: pd.DataFrame, row: int, seed: int,
                device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x is candle `row` as a (1, 5) float32 tensor; w and b are random leaves that require grad."""
    x = candle_row(frame, row, device)
    return (x, *seeded_leaves(x, seed))


def forward_with_journal(expression: Expression, x: torch.Tensor, w: torch.Tensor,
                         b: torch.Tensor) -> tuple[torch.Tensor, OpJournal]:
    """Run the forward pass with every tensor op recorded as it runs."""
    with OpJournal({"x": x, "w": w, "b": b}) as journal:
        y = expression(x, w, b, sources=journal.sources)
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
    chains: list[Chain] = field(default_factory=list)  # each leaf's chain rule, taken before backward()

    @cached_property
    def classic_before(self) -> str | None:
        """torchviz's picture of a fresh copy of the graph (drawn on demand: it is slow and rarely opened)."""
        y, params = self._fresh()
        return classic_dot(y, params)[0]

    @cached_property
    def classic_after_error(self) -> str | None:
        """What torchviz says when asked for the picture after backward() (it reads freed saved tensors)."""
        y, params = self._fresh()
        y.backward()
        return classic_dot(y, params)[1]

    def _fresh(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        w, b = (t.detach().clone().requires_grad_() for t in (self.w, self.b))
        return self.expression(self.x, w, b), {"x": self.x, "w": w, "b": b}


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
    outputs = {id(e.grad_fn): e.output for e in journal.entries if e.grad_fn is not None}
    chains = [gradient_chain(y, name, leaf, outputs, journal.sources) for name, leaf in (("w", w), ("b", b))]
    trace = trace_backward(y, params)
    after = build_graph(y, params, journal=journal, trace=trace)
    return GraphLesson(expression, x, w, b, y, journal, before, after, trace, chains)


def forward_view(lesson: GraphLesson, upto: int) -> tuple[GraphModel, str | None]:
    """The graph as built after journal op `upto` (0: only the leaves), and the node that op created."""
    entry = lesson.journal.entries[upto - 1] if upto else None
    return lesson.before.until(upto), lesson.before.node_for(entry.grad_fn) if entry else None


def backward_view(lesson: GraphLesson, upto: int) -> tuple[GraphModel, str | None]:
    """The graph after `upto` backward steps: grads so far; saved tensors freed on the nodes that already ran."""
    ran = {lesson.after.node_for(s.fn) for s in lesson.trace.steps[:upto]}
    nodes = {nid: replace(node, grad=None, grad_brief="",
                          saved=(node if nid in ran else lesson.before.nodes.get(nid, node)).saved)
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


def named_tensors(lesson: GraphLesson) -> dict[str, torch.Tensor]:
    """x, w, b and every journal output under its journal name (t1, t2, …, y)."""
    return {"x": lesson.x, "w": lesson.w, "b": lesson.b, **{e.output_name: e.output for e in lesson.journal.entries}}


def explanations(lesson: GraphLesson) -> list[str]:
    """Each leaf's gradient as the chain rule with the numbers that ran, and why it is zero when it is."""
    known = {"x": lesson.x, **{lesson.journal.sources.get(id(e.output), e.output_name): e.output
                               for e in lesson.journal.entries if not e.output.requires_grad}}
    return explain(lesson.chains, {"w": lesson.w.grad, "b": lesson.b.grad}, known)


def gradient_stoppers(lesson: GraphLesson) -> list[str]:
    """Where the gradient was stopped on its way to w and b (saturation, a relu that is off), with a fix to try."""
    return stoppers(lesson.expression.text, lesson.chains)


def problems(lesson: GraphLesson) -> list[str]:
    """Every NaN and inf in the lesson, named, with the op it came from."""
    return nonfinite_report(lesson.journal, lesson.trace, named_tensors(lesson), lesson.y,
                            {"w": lesson.w.grad, "b": lesson.b.grad})


def example_notes(frame: pd.DataFrame, row: int, seed: int, examples: tuple[str, ...] = EXAMPLES) -> dict[str, str]:
    """What each suggested expression does on this row: '' when its gradients teach something, else why not."""
    x, w, b = make_leaves(frame, row, seed)
    notes = {}
    for text in examples:
        y = parse_expression(text)(x, w, b)
        grads = [g for g in torch.autograd.grad(y, (w, b), allow_unused=True) if g is not None]
        largest = max((float(g.abs().max()) for g in grads), default=0.0)
        if kind(y):
            notes[text] = f"y is {kind(y)} on this row"
        elif largest == 0:
            notes[text] = "saturated on this row: every gradient is 0"
        elif largest < 1e-6:
            notes[text] = f"vanishing on this row: gradients below {largest:.0e}"
        else:
            notes[text] = ""
    return notes
