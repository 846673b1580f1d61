"""retain_graph lab (seed Part E): backward once, backward again, retain_graph, autograd.grad, saved tensors.

The lessons (the trading losses, backward, autograd_grad) are plain torch: the page shows them and the take-home
script is made of them. The lab around them (calls, PyTorch's refusals as text, replay of a link) is the instrument.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, MutableMapping

import pandas as pd
import torch

from explorer import svgplot
from explorer.autograd.graph import GraphError, build_graph
from explorer.autograd.graph_plot import graph_svg
from explorer.autograd.node import Saved, read_saved
from explorer.autograd.walk import walk_grad_fns
from explorer.labs import LabButton


# The seed's loss, verbatim (cell 14), mistake included: at pnl == 0 neither branch runs, so `return loss`
# raises UnboundLocalError. The lesson: Python control flow inside a loss decides which graph gets built.
def custom_trading_loss(pnl):
    if pnl > 0:
        loss = pnl * 0.05
    elif pnl < 0:
        loss = pnl ** 2
    return loss


def fixed_trading_loss(pnl: torch.Tensor) -> torch.Tensor:
    """The seed's loss with every pnl taking a branch: 0.05·pnl for gains, pnl² otherwise (0 at pnl == 0)."""
    if pnl > 0:
        loss = pnl * 0.05
    else:
        loss = pnl ** 2
    return loss


def vectorised_trading_loss(pnl: torch.Tensor) -> torch.Tensor:
    """Both branches computed, torch.where picks per element: works for a whole batch of pnl values."""
    return torch.where(pnl > 0, pnl * 0.05, pnl ** 2)


TRADING_LOSSES: dict[str, Callable] = {
    "seed: custom_trading_loss": custom_trading_loss,
    "fixed: else branch": fixed_trading_loss,
    "vectorised: torch.where": vectorised_trading_loss,
}


def _describe_saved(saved: Saved) -> tuple[str, str]:
    """(shape, value) of one saved attribute, for display."""
    value = saved.value
    if saved.freed:  # torch raised when it was read: backward() released the buffer
        return "", "freed"
    if isinstance(value, torch.Tensor):
        return str(tuple(value.shape)), str(value.detach().flatten().tolist() if value.dim() else value.item())
    if value is None:
        return "", "None (not saved: not needed for this gradient)"
    return "", repr(value)


def saved_tensor_table(loss: torch.Tensor | None) -> pd.DataFrame:
    """Every saved attribute of every node in the loss's graph, read now: a value, or 'freed'."""
    rows = []
    for node in walk_grad_fns(loss):
        for saved in read_saved(node):
            shape, value = _describe_saved(saved)
            rows.append({"node": type(node).__name__, "saved": saved.attr, "shape": shape, "value": value})
    return pd.DataFrame(rows, columns=["node", "saved", "shape", "value"])


def backward(loss: torch.Tensor, retain_graph: bool) -> None:
    """loss.backward(retain_graph=...): adds d loss/d pnl into pnl.grad; frees the saved tensors unless retain_graph."""
    loss.backward(retain_graph=retain_graph)


def autograd_grad(loss: torch.Tensor, pnl: torch.Tensor, retain_graph: bool) -> torch.Tensor:
    """torch.autograd.grad(loss, pnl, ...): returns the gradient and leaves pnl.grad untouched."""
    (grad,) = torch.autograd.grad(loss, pnl, retain_graph=retain_graph)
    return grad


# --- the instrument: each call runs one lesson function above, PyTorch's refusals captured as text ---------------

class Call(Enum):
    """One autograd call a learner makes; the value is its letter in a shared link (capital: retain_graph=True)."""
    BACKWARD_RETAIN = "B"
    BACKWARD = "b"
    GRAD_RETAIN = "A"
    GRAD = "a"

    @property
    def retain_graph(self) -> bool:
        return self.value.isupper()

    @property
    def label(self) -> str:
        args = "" if self.value in "Bb" else "loss, pnl, "
        name = "loss.backward" if self.value in "Bb" else "torch.autograd.grad"
        return f"{name}({args}retain_graph={self.retain_graph})"


NO_LOSS = "there is no loss to differentiate: the forward pass failed (see above)"


def build_loss(loss_fn: Callable, pnl: torch.Tensor) -> tuple[torch.Tensor | None, str | None]:
    """loss = loss_fn(pnl), or (None, the error) when the loss has no branch for this pnl."""
    try:
        return loss_fn(pnl), None
    except UnboundLocalError as exc:  # the seed's loss at pnl == 0: no branch assigned `loss`
        return None, f"{type(exc).__name__}: {exc}"


def run_call(call: Call, loss: torch.Tensor | None, pnl: torch.Tensor) -> tuple[str, str | None]:
    """Make one autograd call: (what came of it, the error or None). PyTorch's refusal is the lesson, not a crash."""
    if loss is None:
        return NO_LOSS, NO_LOSS
    try:
        if call in (Call.BACKWARD, Call.BACKWARD_RETAIN):
            backward(loss, retain_graph=call.retain_graph)
            return "ok", None
        return f"returned {autograd_grad(loss, pnl, retain_graph=call.retain_graph).tolist()}", None
    except RuntimeError as exc:  # e.g. a second backward after the first freed the saved tensors
        return f"RuntimeError: {exc}", str(exc)


@dataclass
class RetainEvent:
    """One call the learner made and what came of it (`code` is None for the forward pass)."""
    call: str
    pnl_grad: float | None
    result: str
    ok: bool
    code: Call | None = None

    def line(self) -> str:
        """The event as one printed line (the take-home script prints the same)."""
        return f"{self.call} -> pnl.grad = {self.pnl_grad!r} | {self.result}"


def event_after(label: str, pnl: torch.Tensor, result: str, error: str | None,
                code: Call | None = None) -> RetainEvent:
    """What pnl.grad holds right after a call."""
    return RetainEvent(label, None if pnl.grad is None else pnl.grad.item(), result, error is None, code)


@dataclass
class RetainLab:
    """A pnl leaf and the loss built from it; each method is one autograd call, errors captured from torch."""
    pnl_value: float
    loss_name: str = "seed: custom_trading_loss"
    device: str = "cpu"
    pnl: torch.Tensor = field(init=False)
    loss: torch.Tensor | None = field(init=False, default=None)
    error: str | None = field(init=False, default=None)
    forward_error: str | None = field(init=False, default=None)
    events: list[RetainEvent] = field(init=False, default_factory=list)
    saved_after_forward: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        if self.loss_name not in TRADING_LOSSES:
            raise ValueError(f"unknown loss {self.loss_name!r}; choose one of {list(TRADING_LOSSES)}")
        self.forward()

    def forward(self) -> None:
        """A fresh pnl leaf and a fresh graph: loss = loss_fn(pnl)."""
        loss_fn = TRADING_LOSSES[self.loss_name]
        self.pnl = torch.tensor([float(self.pnl_value)], requires_grad=True, device=self.device)
        self.loss, self.error = build_loss(loss_fn, self.pnl)
        self.forward_error = self.error
        self.saved_after_forward = saved_tensor_table(self.loss)
        self.events = [event_after(f"loss = {loss_fn.__name__}(pnl)", self.pnl,
                                   self.error or f"loss = {self.loss.item():g}", self.error)]

    def call(self, call: Call) -> None:
        """One autograd call; torch's RuntimeError becomes the lab's error and a history row."""
        result, self.error = run_call(call, self.loss, self.pnl)
        self.events.append(event_after(call.label, self.pnl, result, self.error, call))

    def backward(self, retain_graph: bool = False) -> None:
        """loss.backward(retain_graph=...)."""
        self.call(Call.BACKWARD_RETAIN if retain_graph else Call.BACKWARD)

    def autograd_grad(self, retain_graph: bool = False) -> None:
        """torch.autograd.grad(loss, pnl, retain_graph=...)."""
        self.call(Call.GRAD_RETAIN if retain_graph else Call.GRAD)

    def printout(self) -> str:
        """pnl, the loss and pnl.grad as torch prints them."""
        return f"pnl      = {self.pnl}\nloss     = {self.loss}\npnl.grad = {self.pnl.grad}"

    def problem(self) -> str | None:
        """What went wrong, in words: the forward pass that had no branch, or PyTorch's refusal (None: nothing)."""
        if self.loss is None:
            return (f"The forward pass failed: **{self.forward_error}**. At pnl = {self.pnl_value:g} neither "
                    "`if pnl > 0` nor `elif pnl < 0` runs, so `loss` is never assigned. A loss with Python branches "
                    "must give every input a branch: pick the *fixed* or *vectorised* version, or move the slider.")
        if self.error:
            return (f"PyTorch refused: **RuntimeError: {self.error}**\n\nThe first call without `retain_graph=True` "
                    "freed the saved tensors below (see *now*). Build a fresh graph (forward again), or turn on "
                    "`retain_graph` for every call but the last one.")
        return None

    def events_frame(self) -> pd.DataFrame:
        """The calls so far with pnl.grad after each."""
        return pd.DataFrame([{"call": e.call, "pnl.grad after": e.pnl_grad, "result": e.result}
                             for e in self.events])

    def events_html(self) -> str:
        """events_frame as a light HTML table."""
        return svgplot.table(self.events_frame(), "retain-events")


def call_buttons(flag: bool) -> tuple[LabButton, ...]:
    """The lab's three buttons; `flag` is the retain_graph toggle's value for the next call."""
    return (
        LabButton("retain_backward", f"loss.backward(retain_graph={flag})", "B", "Adds d loss/d pnl into pnl.grad; "
                  "without retain_graph it frees the saved tensors (keyboard: B).",
                  lambda lab: lab.backward(retain_graph=flag)),
        LabButton("retain_grad", f"torch.autograd.grad(loss, pnl, retain_graph={flag})", "A", "Returns the gradient "
                  "and leaves pnl.grad alone; frees the saved tensors unless retain_graph (keyboard: A).",
                  lambda lab: lab.autograd_grad(retain_graph=flag)),
        LabButton("retain_reset", "new pnl leaf, forward again", "Shift+F", "A fresh pnl leaf and a fresh graph: the "
                  "calls start over (keyboard: Shift+F).", RetainLab.forward))


def saved_tensors_html(lab: RetainLab, font_px: float) -> tuple[str, str | None]:
    """The saved tensors right after the forward pass and now, and the loss's graph drawn with them (one block of
    light HTML: it is redrawn at every call); and the error when the graph cannot be drawn."""
    drawn = (f'<div class="light-columns"><div><p><b>right after the forward pass</b></p>'
             f'{svgplot.table(lab.saved_after_forward, "retain-saved-before")}</div>'
             f'<div><p><b>now</b></p>{svgplot.table(saved_tensor_table(lab.loss), "retain-saved-now")}</div></div>')
    if lab.loss is None:
        return drawn, None
    try:
        model = build_graph(lab.loss, {"pnl": lab.pnl}, output_name="loss")
    except GraphError as exc:
        return drawn, f"Cannot draw the graph: {exc}"
    return drawn + ('<p class="light-note">The loss\'s graph now: saved values in each node, <i>freed</i> once '
                    "backward released them.</p>" + graph_svg(model, font_px, "full")), None


INTRO = ("The seed's `custom_trading_loss`: **0.05·pnl** for a gain, **pnl²** for a loss. Call `backward()` once, then "
         "again. PyTorch frees the tensors the backward pass needed (the *saved tensors*) as soon as it has used them, "
         "so the second call fails unless the first one said `retain_graph=True`.")
EVENTS_NOTE = ("`backward()` **adds** into `pnl.grad` (with retain_graph: −6, then −12 at pnl = −3); "
               "`torch.autograd.grad` **returns** the gradient and leaves `pnl.grad` alone.")
SAVED_NOTE = ("Each backward node keeps what its derivative needs: `PowBackward0` keeps the base `pnl` "
              "(`_saved_self`, d(pnl²)/dpnl = 2·pnl) and the exponent; `MulBackward0` keeps the constant 0.05 as "
              "a 0-dim tensor (`_saved_other`) and not `pnl` (nothing needs d/d0.05). Plain Python numbers such "
              "as the exponent stay readable; tensors are released by backward and reading them then raises — "
              "shown as *freed*.")
PNL_VALUES = tuple(i / 2 for i in range(-20, 21))  # the pnl slider's steps: -10.0 … 10.0 by 0.5
MAX_CALLS = 50  # calls a shared link may replay
CALL_LETTERS = "".join(c.value for c in Call)  # BbAa


def calls_code(lab: RetainLab) -> str:
    """The calls since the last forward as letters (B/b backward, A/a autograd.grad; capital = retain_graph=True)."""
    return "".join(e.code.value for e in lab.events if e.code is not None)


def lab_for(lab: RetainLab | None, pnl: float, loss_name: str, device: str,
            calls: str | None) -> tuple[RetainLab, str | None]:
    """`lab` while it was built from these inputs, else a fresh lab that replays a link's calls; and the message
    when the link's calls were refused (the fresh lab then starts over)."""
    if lab is not None and (lab.pnl_value, lab.loss_name, lab.device) == (pnl, loss_name, device):
        return lab, None
    lab = RetainLab(pnl, loss_name, device)
    try:
        replay_calls(lab, calls or "")
    except ValueError as exc:
        lab.forward()
        return lab, f"Link parameter `retain_calls` = {calls[:40]!r} ignored: {exc}."
    return lab, None


def replay_calls(lab: RetainLab, code: str) -> None:
    """Redo the calls a code records; ValueError for anything that is not a call letter."""
    if len(code) > MAX_CALLS or set(code) - set(CALL_LETTERS):
        raise ValueError(f"the calls are at most {MAX_CALLS} of the letters {' '.join(CALL_LETTERS)}")
    for letter in code:
        lab.call(Call(letter))


def session_lab(state: MutableMapping[str, Any], pnl: float, loss_name: str, device: str,
                calls: str | None) -> tuple[RetainLab, str | None]:
    """lab_for over the session's lab (live tensors: kept in the session, rebuilt when pnl, the loss or device changed)."""
    state["retain_lab"], refused = lab_for(state.get("retain_lab"), pnl, loss_name, device, calls)
    return state["retain_lab"], refused
