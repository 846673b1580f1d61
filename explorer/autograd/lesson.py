"""The Graph lesson (seed Part B): the plain PyTorch a learner reads, and the app's instruments that watch it run."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd
import torch

from explorer.autograd.backward import BackwardTrace, tracing
from explorer.autograd.explain import Chain, gradient_chain
from explorer.autograd.expr import Expression, ExpressionError, noting_sources, parse_expression
from explorer.autograd.graph import build_graph
from explorer.autograd.graph_model import GraphModel
from explorer.autograd.journal import OpJournal
from explorer.tensors import candle_row, seeded_leaves

DEFAULT_EXPRESSION = "x @ w.T + b"
EXAMPLES = ("x @ w.T + b", "torch.sigmoid(x / 1000 @ w.T + b)", "((x @ w.T + b) ** 2).mean()", "(x * w).sum() + b",
            "relu(x / 1000 @ w.T + b)", "softmax(x / 1000 * w).sum() * b", "torch.sigmoid(x @ w.T + b)",
            "log(x @ w.T + b)")


# The lesson: what the page shows and the take-home script is made of. Plain PyTorch, as the seed wrote it.

def make_leaves(frame, row, seed, device="cpu"):
    """Seed Part B, cell 6: x is candle `row` as a (1, 5) float32 tensor; w and b are random leaves that
    require grad."""
    x = candle_row(frame, row, device)
    w, b = seeded_leaves(x, seed)
    return x, w, b


def seed_forward(x, w, b):
    """The seed's forward pass (cell 8). The expression you type takes its place."""
    return x @ w.T + b


def graph_lesson(x, w, b, forward=seed_forward):
    """Seed Part B, cells 8-9: y from x, w and b, then backward() writes dy/dw into w.grad and dy/db into b.grad."""
    y = forward(x, w, b)
    y.backward()
    return y


def seed_printout(x, w, b, y):
    """x, w, b, their shapes and y, printed the way the seed notebook's cells print them."""
    return (f"x.shape, w.shape, b.shape\n({x.shape!r}, {w.shape!r}, {b.shape!r})\n\n"
            f"x, w, b\n({x!r},\n {w!r},\n {b!r})\n\ny\n{y!r}")


def gradient_printout(w, b):
    """w.grad and b.grad after backward(), printed as the seed prints them."""
    return f"w.grad, b.grad\n({w.grad!r},\n {b.grad!r})"


def gradcheck_lesson(forward, x, w, b, eps=1e-6, atol=1e-5, rtol=1e-3):
    """torch.autograd.gradcheck: autograd's gradients against finite differences, in float64 (True: they agree)."""
    x, w, b = (t.detach().double().requires_grad_(t.requires_grad) for t in (x, w, b))
    return torch.autograd.gradcheck(forward, (x, w, b), eps=eps, atol=atol, rtol=rtol, raise_exception=False)


# The instruments: the app runs the lesson and watches it from outside.

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
        """What torchviz says when asked for the picture after the lesson's backward() (it reads freed tensors)."""
        w, b = (t.detach().clone().requires_grad_() for t in (self.w, self.b))
        y = graph_lesson(self.x, w, b, self.expression)
        return classic_dot(y, {"x": self.x, "w": w, "b": b})[1]

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """x, w, b and y, as graph_lesson left them."""
        return self.x, self.w, self.b, self.y

    def _fresh(self) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        w, b = (t.detach().clone().requires_grad_() for t in (self.w, self.b))
        return self.expression(self.x, w, b), {"x": self.x, "w": w, "b": b}


def check_backward(y: torch.Tensor) -> None:
    """Refuse, in words, a y that backward() cannot start from."""
    if y.grad_fn is None:
        raise ExpressionError("the result has no grad_fn (it is a leaf itself, or does not use w or b): "
                              "apply at least one operation to w or b")
    if y.numel() != 1:
        raise ExpressionError(f"the result has shape {tuple(y.shape)}; backward() needs a single number — "
                              "wrap it in .sum() or .mean()")


def run_lesson(frame: pd.DataFrame, row: int, seed: int, text: str = DEFAULT_EXPRESSION,
               device: str = "cpu") -> GraphLesson:
    """graph_lesson on candle `row` with the learner's expression as its forward pass, watched from outside: the
    journal records each op; when the lesson calls backward(), the graph is read first, then each step traced."""
    if not 0 <= row < len(frame):
        raise ExpressionError(f"row {row} is outside the loaded data (0 … {len(frame) - 1})")
    expression = parse_expression(text)
    x, w, b = make_leaves(frame, row, seed, device)
    params, seen = {"x": x, "w": w, "b": b}, {}

    def at_backward(y: torch.Tensor, run_backward) -> None:
        check_backward(y)
        journal.rename_last("y")
        seen["before"] = build_graph(y, params, journal=journal)
        outputs = {id(e.grad_fn): e.output for e in journal.entries if e.grad_fn is not None}
        seen["chains"] = [gradient_chain(y, name, leaf, outputs, journal.sources) for name, leaf in (("w", w), ("b", b))]
        with tracing(y, params) as seen["trace"]:
            run_backward()

    with OpJournal(params, on_backward=at_backward) as journal, noting_sources(journal.sources):
        y = graph_lesson(x, w, b, expression)
    after = build_graph(y, params, journal=journal, trace=seen["trace"])
    return GraphLesson(expression, x, w, b, y, journal, seen["before"], after, seen["trace"], seen["chains"])
