"""Gradient accumulation lab (seed Part C): x, w, b and one autograd call per click, with a history of .grad.

The lessons (forward_backward, zero_grad, grad_zero_) are the seed's lines in plain torch: the page shows them and
the take-home script is made of them. The lab around them (clicks, records, replay of a link) is the instrument.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from enum import Enum
from typing import Any, MutableMapping

import pandas as pd
import torch

from explorer import svgplot
from explorer.labs import LabButton
from explorer.tensors import candle_row, seeded_leaves


def forward_backward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """One pass of the seed's loop: a fresh graph y = x @ w.T + b, then backward into .grad."""
    y = x @ w.T + b
    y.backward()  # adds dy/dw = x and dy/db = 1 to whatever .grad already holds
    return y


def zero_grad(params: tuple[torch.Tensor, ...], set_to_none: bool) -> None:
    """What optimizer.zero_grad(set_to_none=...) does to each parameter (torch skips grads that are None)."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None  # frees the memory; the next backward assigns instead of adding
        else:
            p.grad.zero_()  # keeps the tensor, fills it with zeros; the next backward adds to 0


def grad_zero_(w: torch.Tensor, b: torch.Tensor) -> None:
    """The seed's cell 12: zero both grads in place (AttributeError while a .grad is None)."""
    w.grad.zero_()
    b.grad.zero_()


def grads_now(w: torch.Tensor, b: torch.Tensor) -> tuple[list[float] | None, float | None]:
    """What w.grad and b.grad hold right now, as numbers (None while a .grad is None)."""
    w_grad = None if w.grad is None else w.grad.flatten().tolist()
    b_grad = None if b.grad is None else b.grad.item()
    return w_grad, b_grad


# --- the instrument: each click runs one lesson function above, and the lab records .grad after it ---------------

class Click(Enum):
    """One thing a learner does in the lab; the value is its letter in a shared link."""
    RESET = "R"
    FORWARD_BACKWARD = "F"
    FORWARD_BACKWARD_ZEROED = "f"  # the same, then the seed's cell 12 zeroes both grads
    ZERO_GRAD_TO_NONE = "N"
    ZERO_GRAD_TO_ZEROS = "Z"
    GRAD_ZERO_ = "G"

    @property
    def label(self) -> str:
        """How the history names the click."""
        return {"R": "reset (new w, b)", "F": "forward + backward", "f": "forward + backward",
                "N": "zero_grad(set_to_none=True)", "Z": "zero_grad(set_to_none=False)", "G": ".grad.zero_()"}[self.value]


@dataclass
class GradRecord:
    """What w.grad and b.grad hold right after one click (None when the grad attribute is None)."""
    event: int
    click: Click
    y: float | None
    w_grad: list[float] | None
    b_grad: float | None
    error: str | None = None

    @property
    def action(self) -> str:
        return self.click.label

    @property
    def note(self) -> str:
        if self.error:
            return f"failed — {self.error}"
        return "printed, then w.grad.zero_(); b.grad.zero_()" if self.click is Click.FORWARD_BACKWARD_ZEROED else ""

    def line(self) -> str:
        """The record as one printed line (the take-home script prints the same)."""
        return f"#{self.event} {self.action}: y = {self.y!r}, w.grad = {self.w_grad!r}, b.grad = {self.b_grad!r}"


def record(event: int, click: Click, y: torch.Tensor | None, w: torch.Tensor, b: torch.Tensor,
           error: str | None = None) -> GradRecord:
    """What w.grad and b.grad hold after a click (copied out: later calls change .grad in place)."""
    return GradRecord(event, click, None if y is None else y.item(), *grads_now(w, b), error)


def try_grad_zero_(w: torch.Tensor, b: torch.Tensor) -> str | None:
    """grad_zero_, with the AttributeError it raises while a .grad is None returned as text (a lesson, not a crash)."""
    try:
        grad_zero_(w, b)
    except AttributeError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def run_click(click: Click, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, event: int) -> GradRecord:
    """Do one click on x, w, b and return what .grad holds after it (a forward pass is recorded before cell 12)."""
    if click in (Click.FORWARD_BACKWARD, Click.FORWARD_BACKWARD_ZEROED):
        done = record(event, click, forward_backward(x, w, b), w, b)  # printed first, as the seed prints
        if click is Click.FORWARD_BACKWARD_ZEROED:
            grad_zero_(w, b)
        return done
    if click in (Click.ZERO_GRAD_TO_NONE, Click.ZERO_GRAD_TO_ZEROS):
        zero_grad((w, b), set_to_none=click is Click.ZERO_GRAD_TO_NONE)
        return record(event, click, None, w, b)
    if click is Click.GRAD_ZERO_:
        return record(event, click, None, w, b, try_grad_zero_(w, b))
    raise ValueError(f"{click} is not a click on the leaves")


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
        self.history: list[GradRecord] = [record(0, Click.RESET, None, self.w, self.b)]
        self.error: str | None = None

    def click(self, click: Click) -> GradRecord:
        """One click, recorded in the history; `error` says what failed (None when it worked)."""
        record = run_click(click, self.x, self.w, self.b, len(self.history))
        self.history.append(record)
        self.error = record.error
        return record

    def forward_backward(self) -> float:
        """One pass of the seed's loop, optionally zeroing both grads after it (cell 12)."""
        zeroed = self.zero_after_step
        return self.click(Click.FORWARD_BACKWARD_ZEROED if zeroed else Click.FORWARD_BACKWARD).y

    def run_steps(self, n: int) -> None:
        """The seed's `for i in range(n)` loop, one forward + backward per iteration."""
        if n < 1:
            raise ValueError(f"the number of steps must be at least 1, got {n}")
        for _ in range(n):
            self.forward_backward()

    def zero_grad(self, set_to_none: bool) -> None:
        """optimizer.zero_grad(set_to_none=...) on w and b."""
        self.click(Click.ZERO_GRAD_TO_NONE if set_to_none else Click.ZERO_GRAD_TO_ZEROS)

    def grad_zero_(self) -> None:
        """The seed's cell-12 call w.grad.zero_(); b.grad.zero_(): fails if a grad is None."""
        self.click(Click.GRAD_ZERO_)

    def printout(self, hidden: tuple[str, ...] = ()) -> str:
        """x, w, b and both grads as torch prints them; a grad an open question asks for (in `hidden`) as '?'."""
        grads = {name: "?" if name in hidden else grad for name, grad in (("w.grad", self.w.grad),
                                                                           ("b.grad", self.b.grad))}
        return (f"x      = {self.x}\nw      = {self.w.data}\nb      = {self.b.data}\n"
                f"w.grad = {grads['w.grad']}\nb.grad = {grads['b.grad']}")

    def error_note(self) -> str | None:
        """Why the last click failed, in words (None when it worked)."""
        if not self.error:
            return None
        return (f"`w.grad.zero_()` failed: **{self.error}**. After `set_to_none=True` (or before the first backward) "
                "`.grad` is `None`, and `None` has no `.zero_()`: that is why `optimizer.zero_grad()` checks for "
                "`None` first.")


def lab_buttons(steps: int) -> tuple[LabButton, ...]:
    """The lab's six buttons, in two rows of three: each calls one lab method."""
    return (
        LabButton("acc_step", "forward + backward", "F", "y = x @ w.T + b, then y.backward(): adds x to w.grad and 1 "
                  "to b.grad (keyboard: F).", AccumulationLab.forward_backward),
        LabButton("acc_run", f"run {steps} steps", "N", f"The seed's loop: {steps} forward + backward passes "
                  "(keyboard: N).", lambda lab: lab.run_steps(steps)),
        LabButton("acc_reset", "reset", None, "New w and b from the seed, no grads, no history.",
                  AccumulationLab.reset),
        LabButton("acc_zero_none", "zero_grad(set_to_none=True)", "Z", "optimizer.zero_grad()'s default: .grad "
                  "becomes None (keyboard: Z).", lambda lab: lab.zero_grad(set_to_none=True)),
        LabButton("acc_zero_false", "zero_grad(set_to_none=False)", "Shift+Z", "Keep the .grad tensors, fill them "
                  "with zeros (keyboard: Shift+Z).", lambda lab: lab.zero_grad(set_to_none=False)),
        LabButton("acc_grad_zero", ".grad.zero_()", "G", "The seed's w.grad.zero_(); b.grad.zero_(): fails while "
                  ".grad is None (keyboard: G).", AccumulationLab.grad_zero_))


def history_frame(history: list[GradRecord], feature_names: list[str], hidden: tuple[str, ...] = ()) -> pd.DataFrame:
    """The history as a table: one row per action, one column per w.grad component, None shown as None; the last
    row's grads an open question asks for (in `hidden`) as '?'."""
    rows = []
    for r in history:
        row = {"#": r.event, "action": r.action, "y": r.y}
        hide = r is history[-1] and hidden
        for i, name in enumerate(feature_names):
            row[f"w.grad[{name}]"] = "?" if hide and "w.grad" in hidden else None if r.w_grad is None else r.w_grad[i]
        row["b.grad"] = "?" if hide and "b.grad" in hidden else r.b_grad
        row["note"] = r.note
        rows.append(row)
    return pd.DataFrame(rows).set_index("#")


def history_table(history: list[GradRecord], feature_names: list[str], hidden: tuple[str, ...] = ()) -> str:
    """history_frame as a light HTML table that scrolls inside its box (None where a .grad is None)."""
    frame = history_frame(history, feature_names, hidden).reset_index()
    if hidden:  # a column holding '?' is text: its numbers written as svgplot.table writes them
        for column in [c for c in frame.columns if str(c).startswith(("w.grad", "b.grad"))]:
            frame[column] = [f"{v:,.4f}" if isinstance(v, float) and v == v else "None" if v is None or v != v
                             else v for v in frame[column]]
    return svgplot.table(frame, "acc-history")


NO_GRADS_NOTE = ("No gradients yet: a chart per gradient appears with the first backward() (press "
                 "<b>forward + backward</b> or <b>run N steps</b>).")


def grad_panels(history: list[GradRecord], feature_names: list[str], x: list[float] | None = None) -> str:
    """One small chart per gradient (each w.grad component, then b.grad) after each action; gaps where None.

    The prices of one candle are nearly equal, so their w.grad lines would lie on top of each other in one chart:
    each gets its own panel and y axis, titled with the x it grows by. Light HTML + SVG (explorer.svgplot), since it
    redraws on every click: as six plotly panels it was 13,000 DOM nodes and 170 ms of each click in Chromium.
    """
    names = [f"w.grad[{name}]" for name in feature_names] + ["b.grad"]
    steps = [f"+{v:.6g} per backward" for v in x] + ["+1 per backward"] if x is not None else [""] * len(names)
    events = [r.event for r in history]
    series = [[None if r.w_grad is None else r.w_grad[i] for r in history] for i in range(len(feature_names))]
    series.append([r.b_grad for r in history])
    if all(v is None for values in series for v in values):  # nothing to draw yet: say so, not six empty 0-1 charts
        return f'<p class="light-note">{NO_GRADS_NOTE}</p>'
    first, last = (min(events), max(events)) if events else (0, 1)
    last = max(last, first + 1)
    panels = []
    for name, step, values in zip(names, steps, series):
        low, high = svgplot.value_range(values)
        body = svgplot.curve(events, values, (first, last), (low, high), "#1f77b4", markers=True)
        panels.append(f'<div style="display:flex;flex-direction:column;height:220px"><div><b>{html.escape(name)}</b>'
                      f'</div><div style="{svgplot.SMALL}">{html.escape(step)}&nbsp;</div>'
                      + svgplot.box(body, [f"{high:.6g}", f"{low:.6g}"], [str(first), "action #", str(last)])
                      + "</div>")
    return (f'<div class="acc-grads" style="display:grid;grid-template-columns:repeat(auto-fit,minmax(15em,1fr));'
            f'gap:1.2em 1.6em">{"".join(panels)}</div>')


def history_html(lab: AccumulationLab, feature_names: list[str], hidden: tuple[str, ...] = ()) -> str:
    """The history table and one small chart per gradient, as one block of light HTML; while a question asks for the
    last click's grads (`hidden`: 'w.grad', 'b.grad'), the table shows them as '?' and the charts stop before it."""
    shown = lab.history[:-1] if hidden and len(lab.history) > 1 else lab.history
    return (history_table(lab.history, feature_names, hidden)
            + grad_panels(shown, feature_names, lab.x.flatten().tolist()))


INTRO = ("`backward()` does not *set* `.grad`, it **adds** to it. Run the seed's loop a few times and watch `w.grad` "
         "grow by `x` and `b.grad` by 1 per call, then clear it the ways PyTorch offers.")
FRESH_NOTE = "Changing the row or the seed starts fresh labs (new leaves, empty history)."
HISTORY_NOTE = ("Each step builds a fresh graph `y = x @ w.T + b` before `backward()`, as the seed's loop does "
                "(a second backward through the *same* y fails: see the retain_graph page). "
                "`set_to_none=True` drops the tensor (the chart shows a gap, the next backward *assigns*); "
                "`set_to_none=False` and `.grad.zero_()` keep it and fill it with zeros (the next backward adds to 0).")
MAX_CLICKS = 200  # clicks a shared link may replay
LINK_LETTERS = "".join(c.value for c in Click if c is not Click.RESET)  # FfNZG


def history_code(history: list[GradRecord]) -> str:
    """The clicks since the last reset as letters (F forward + backward, f the same zeroed after it, N, Z, G)."""
    return "".join(r.click.value for r in history if r.click is not Click.RESET)


def lab_for(lab: AccumulationLab | None, x: torch.Tensor, seed: int, names: list[str],
            clicks: str | None) -> tuple[AccumulationLab, str | None]:
    """`lab` while it was built from this x and seed, else a fresh lab that replays a link's clicks; and the message
    when the link's clicks were refused (the fresh lab then keeps its empty history)."""
    if lab is not None and lab.seed == seed and torch.equal(lab.x, x):
        return lab, None
    lab = AccumulationLab(x, seed, names)
    try:
        replay(lab, clicks or "")
    except ValueError as exc:
        return lab, f"Link parameter `acc_history` = {clicks[:40]!r} ignored: {exc}."
    return lab, None


def session_lab(state: MutableMapping[str, Any], x: torch.Tensor, seed: int, names: list[str],
                clicks: str | None) -> tuple[AccumulationLab, str | None]:
    """lab_for over the session's lab (live tensors: kept in the session, rebuilt when x or the seed changed)."""
    state["acc_lab"], refused = lab_for(state.get("acc_lab"), x, seed, names, clicks)
    return state["acc_lab"], refused


def replay(lab: AccumulationLab, code: str) -> None:
    """Redo the clicks a history code records on `lab`; ValueError for anything that is not a click letter."""
    if len(code) > MAX_CLICKS or set(code) - set(LINK_LETTERS):
        raise ValueError(f"a history is at most {MAX_CLICKS} of the letters {' '.join(LINK_LETTERS)}")
    for letter in code:
        lab.click(Click(letter))


def pick_x(frame: pd.DataFrame, row: int, device: str) -> tuple[torch.Tensor | None, str | None]:
    """Candle `row` as the labs' x, or why it cannot be (None and the message)."""
    try:
        return candle_row(frame, row, device), None
    except ValueError as exc:
        return None, f"Cannot pick x: {exc}"
