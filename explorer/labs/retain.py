"""retain_graph lab (seed Part E): backward once, backward again, retain_graph, autograd.grad, saved tensors."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
import torch


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


LOSSES: dict[str, Callable] = {
    "seed: custom_trading_loss": custom_trading_loss,
    "fixed: else branch": fixed_trading_loss,
    "vectorised: torch.where": vectorised_trading_loss,
}


def _describe_saved(value: object) -> tuple[str, str]:
    """(shape, value) of one saved attribute, for display."""
    if isinstance(value, torch.Tensor):
        return str(tuple(value.shape)), str(value.detach().flatten().tolist() if value.dim() else value.item())
    if value is None:
        return "", "None (not saved: not needed for this gradient)"
    return "", repr(value)


def saved_tensors(loss: torch.Tensor | None) -> pd.DataFrame:
    """Every `_saved_*` attribute of every node in the loss's graph, read now: a value, or 'freed'."""
    rows, seen, stack = [], set(), [loss.grad_fn] if loss is not None and loss.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        for attr in sorted(a for a in dir(node) if a.startswith("_saved_")):
            if attr.endswith(("_sym_sizes", "_sym_strides")):
                continue  # shape bookkeeping, not data
            try:
                shape, value = _describe_saved(getattr(node, attr))
            except RuntimeError:  # torch raises when the buffer was released by backward()
                shape, value = "", "freed"
            rows.append({"node": type(node).__name__, "saved": attr, "shape": shape, "value": value})
        stack.extend(fn for fn, _ in node.next_functions)
    return pd.DataFrame(rows, columns=["node", "saved", "shape", "value"])


@dataclass
class RetainEvent:
    """One call the learner made and what came of it."""
    call: str
    pnl_grad: float | None
    result: str
    ok: bool


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
        if self.loss_name not in LOSSES:
            raise ValueError(f"unknown loss {self.loss_name!r}; choose one of {list(LOSSES)}")
        self.forward()

    def forward(self) -> None:
        """A fresh pnl leaf and a fresh graph: loss = loss_fn(pnl)."""
        self.pnl = torch.tensor([float(self.pnl_value)], requires_grad=True, device=self.device)
        self.loss, self.error, self.events = None, None, []
        try:
            self.loss = LOSSES[self.loss_name](self.pnl)
        except UnboundLocalError as exc:  # the seed's loss at pnl == 0: no branch assigned `loss`
            self.error = f"{type(exc).__name__}: {exc}"
        self.forward_error = self.error
        self.saved_after_forward = saved_tensors(self.loss)
        self._log(f"loss = {LOSSES[self.loss_name].__name__}(pnl)", self.loss is not None,
                  self.error or f"loss = {self.loss.item():g}")

    def backward(self, retain_graph: bool = False) -> None:
        """loss.backward(retain_graph=...): adds into pnl.grad, frees saved tensors unless retain_graph."""
        self._call(f"loss.backward(retain_graph={retain_graph})",
                   lambda: self.loss.backward(retain_graph=retain_graph))

    def autograd_grad(self, retain_graph: bool = False) -> None:
        """torch.autograd.grad(loss, pnl, ...): returns the gradient, leaves pnl.grad untouched."""
        def call() -> str:
            """The autograd.grad call; its result is the returned gradient, pnl.grad is not touched."""
            (grad,) = torch.autograd.grad(self.loss, self.pnl, retain_graph=retain_graph)
            return f"returned {grad.tolist()}"
        self._call(f"torch.autograd.grad(loss, pnl, retain_graph={retain_graph})", call)

    def _call(self, label: str, fn: Callable) -> None:
        """Run one autograd call; torch's RuntimeError becomes the lab's error and a history row, not a crash."""
        if self.loss is None:
            self.error = "there is no loss to differentiate: the forward pass failed (see above)"
            self._log(label, False, self.error)
            return
        try:
            result = fn()
        except RuntimeError as exc:  # torch's own message, e.g. the second backward without retain_graph
            self.error = str(exc)
            self._log(label, False, f"RuntimeError: {exc}")
            return
        self.error = None
        self._log(label, True, result if isinstance(result, str) else "ok")

    def _log(self, call: str, ok: bool, result: str) -> None:
        """Append one call with what pnl.grad holds afterwards."""
        grad = None if self.pnl.grad is None else self.pnl.grad.item()
        self.events.append(RetainEvent(call, grad, result, ok))

    def events_frame(self) -> pd.DataFrame:
        """The calls so far with pnl.grad after each."""
        return pd.DataFrame([{"call": e.call, "pnl.grad after": e.pnl_grad, "result": e.result}
                             for e in self.events])


CALL_CODES = {"loss.backward(retain_graph=True)": "B", "loss.backward(retain_graph=False)": "b",
              "torch.autograd.grad(loss, pnl, retain_graph=True)": "A",
              "torch.autograd.grad(loss, pnl, retain_graph=False)": "a"}
MAX_REPLAY = 50  # calls a shared link may replay


def calls_code(lab: RetainLab) -> str:
    """The calls since the last forward as letters (B/b backward, A/a autograd.grad; capital = retain_graph=True)."""
    return "".join(CALL_CODES[e.call] for e in lab.events if e.call in CALL_CODES)


def replay_calls(lab: RetainLab, code: str) -> None:
    """Redo the calls a code records; ValueError for anything that is not a call letter."""
    if len(code) > MAX_REPLAY or set(code) - set("BbAa"):
        raise ValueError(f"the calls are at most {MAX_REPLAY} of the letters B b A a")
    for letter in code:
        (lab.backward if letter in "Bb" else lab.autograd_grad)(retain_graph=letter.isupper())
