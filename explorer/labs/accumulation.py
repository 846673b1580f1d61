"""Gradient accumulation lab (seed Part C): x, w, b and one autograd call per click, with a history of .grad."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from explorer.tensors import seeded_leaves


@dataclass
class GradRecord:
    """What w.grad and b.grad hold right after one action (None when the grad attribute is None)."""
    event: int
    action: str
    y: float | None
    w_grad: list[float] | None
    b_grad: float | None
    note: str = ""


def _grad_values(t: torch.Tensor) -> list[float] | None:
    """The tensor's .grad as a flat list, or None when autograd has not written one."""
    return None if t.grad is None else t.grad.flatten().tolist()


class AccumulationLab:
    """The seed's x, w, b; every method is one thing a learner does, and history records .grad afterwards."""

    def __init__(self, x: torch.Tensor, seed: int, feature_names: list[str] | None = None) -> None:
        self.x = x
        self.seed = seed
        self.feature_names = feature_names or [str(i) for i in range(x.shape[-1])]
        self.zero_after_step = False
        self.reset()

    def reset(self) -> None:
        """Fresh leaves from the seed: no graph, no gradients, empty history."""
        self.w, self.b = seeded_leaves(self.x, self.seed)
        self.history: list[GradRecord] = []
        self.error: str | None = None
        self._record("reset (new w, b)", None)

    def forward_backward(self) -> float:
        """One pass of the seed's loop: build a fresh graph, backward into .grad, optionally zero (cell 12)."""
        self.error = None
        y = self.x @ self.w.T + self.b
        y.backward()  # adds dy/dw = x and dy/db = 1 to whatever .grad already holds
        if self.zero_after_step:
            self._record("forward + backward", y, note="printed, then w.grad.zero_(); b.grad.zero_()")
            self.w.grad.zero_()
            self.b.grad.zero_()
        else:
            self._record("forward + backward", y)
        return y.item()

    def run_steps(self, n: int) -> None:
        """The seed's `for i in range(n)` loop, one forward + backward per iteration."""
        if n < 1:
            raise ValueError(f"the number of steps must be at least 1, got {n}")
        for _ in range(n):
            self.forward_backward()

    def zero_grad(self, set_to_none: bool) -> None:
        """What optimizer.zero_grad(set_to_none=...) does to each parameter (torch skips grads that are None)."""
        self.error = None
        for p in (self.w, self.b):
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None  # frees the memory; the next backward assigns instead of adding
            else:
                p.grad.zero_()  # keeps the tensor, fills it with zeros; the next backward adds to 0
        self._record(f"zero_grad(set_to_none={set_to_none})", None)

    def grad_zero_(self) -> None:
        """The seed's cell-12 call w.grad.zero_(); b.grad.zero_(): fails if a grad is None."""
        self.error = None
        try:
            self.w.grad.zero_()
            self.b.grad.zero_()
        except AttributeError as exc:  # .grad is None before the first backward or after set_to_none=True
            self.error = f"{type(exc).__name__}: {exc}"
            self._record(".grad.zero_()", None, note=f"failed — {self.error}")
            return
        self._record(".grad.zero_()", None)

    def _record(self, action: str, y: torch.Tensor | None, note: str = "") -> None:
        """Append what w.grad and b.grad hold right now (copied: later calls change .grad in place)."""
        self.history.append(GradRecord(len(self.history), action, None if y is None else y.item(),
                                       _grad_values(self.w), None if self.b.grad is None else self.b.grad.item(),
                                       note))


def history_frame(history: list[GradRecord], feature_names: list[str]) -> pd.DataFrame:
    """The history as a table: one row per action, one column per w.grad component, None shown as None."""
    rows = []
    for r in history:
        row = {"#": r.event, "action": r.action, "y": r.y}
        for i, name in enumerate(feature_names):
            row[f"w.grad[{name}]"] = None if r.w_grad is None else r.w_grad[i]
        row["b.grad"] = r.b_grad
        row["note"] = r.note
        rows.append(row)
    return pd.DataFrame(rows).set_index("#")


@lru_cache(maxsize=16)
def _panels(titles: tuple[str, ...], cols: int) -> dict:
    """The small multiples' layout (axes, panel titles), made once per set of titles: building it costs ~0.2 s."""
    rows = -(-len(titles) // cols)
    fig = make_subplots(rows=rows, cols=cols, shared_xaxes="all", vertical_spacing=0.2, horizontal_spacing=0.09,
                        subplot_titles=titles)
    fig.update_xaxes(dtick=1)
    fig.update_xaxes(title_text="action #", row=rows)
    fig.update_annotations(font_size=13)
    fig.update_layout(height=260 * rows, margin=dict(l=10, r=10, t=60, b=10))
    return fig.to_plotly_json()["layout"]


def grad_chart(history: list[GradRecord], feature_names: list[str], x: list[float] | None = None) -> go.Figure:
    """One small chart per gradient (each w.grad component, then b.grad) after each action; gaps where None.

    The prices of one candle are nearly equal, so their w.grad lines would lie on top of each other in one chart:
    each gets its own panel and y axis, titled with the x it grows by.
    """
    names = [f"w.grad[{name}]" for name in feature_names] + ["b.grad"]
    steps = [f"+{v:.6g} per backward" for v in x] + ["+1 per backward"] if x is not None else [""] * len(names)
    titles = tuple(f"<b>{n}</b><br>{s}" if s else f"<b>{n}</b>" for n, s in zip(names, steps))
    events = [r.event for r in history]
    series = [[None if r.w_grad is None else r.w_grad[i] for r in history] for i in range(len(feature_names))]
    series.append([r.b_grad for r in history])
    traces = [dict(type="scatter", x=events, y=values, mode="lines+markers", name=name, showlegend=False,
                   xaxis=f"x{k + 1 if k else ''}", yaxis=f"y{k + 1 if k else ''}",  # panel k's axes
                   hovertemplate=f"{name} after action %{{x}}: %{{y:.6g}}<extra></extra>")
              for k, (name, values) in enumerate(zip(names, series))]
    # plain values into a layout plotly has already checked: checking them again would cost ~0.2 s a click
    fig = go.Figure({"data": traces, "layout": copy.deepcopy(_panels(titles, 3))}, _validate=False)
    return fig


ACTION_CODES = {"forward + backward": "F", "zero_grad(set_to_none=True)": "N", "zero_grad(set_to_none=False)": "Z",
                ".grad.zero_()": "G"}
MAX_REPLAY = 200  # clicks a shared link may replay


def history_code(history: list[GradRecord]) -> str:
    """The clicks since the last reset as letters (F forward + backward, f the same with zero after it, N, Z, G)."""
    letters = []
    for r in history:
        if r.action in ACTION_CODES:
            zeroed = r.action == "forward + backward" and r.note.startswith("printed, then")
            letters.append("f" if zeroed else ACTION_CODES[r.action])
    return "".join(letters)


def replay(lab: AccumulationLab, code: str) -> None:
    """Redo the clicks a history code records on `lab`; ValueError for anything that is not a click letter."""
    if len(code) > MAX_REPLAY or set(code) - set("FfNZG"):
        raise ValueError(f"a history is at most {MAX_REPLAY} of the letters F f N Z G")
    keep = lab.zero_after_step
    for letter in code:
        if letter in "Ff":
            lab.zero_after_step = letter == "f"
            lab.forward_backward()
        elif letter in "NZ":
            lab.zero_grad(set_to_none=letter == "N")
        else:
            lab.grad_zero_()
    lab.zero_after_step = keep
