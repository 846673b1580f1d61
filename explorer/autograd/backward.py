"""Backward, step by step: the order autograd runs each node, with the gradients flowing in and out."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import torch

from explorer.autograd.graph_model import GraphModel
from explorer.autograd.journal import brief, preview
from explorer.autograd.node import leaf_name, node_inputs, rule, saved_tensors
from explorer.autograd.walk import walk_grad_fns


HIDDEN = "?"  # what is written in place of a value a question asks for, while it is open
Hide = Callable[[object], bool]  # whether a value is left out (shown as HIDDEN)


def never(_: object) -> bool:
    return False


def hiding(answers: Sequence[torch.Tensor | None]) -> Hide:
    """Leaves out every tensor whose numbers are one of `answers`' (in any shape: w.T's gradient is w.grad's)."""
    flat = [a.detach().reshape(-1).cpu() for a in answers if a is not None]
    if not flat:
        return never

    def hidden(t: object) -> bool:
        return isinstance(t, torch.Tensor) and any(t.numel() == a.numel() and torch.equal(
            t.detach().reshape(-1).cpu().to(a.dtype), a) for a in flat)
    return hidden


@dataclass
class BackwardStep:
    """One node run by autograd: the grad arriving at its output(s) and the grads it sends to its inputs."""
    index: int
    name: str
    grad_outputs: list[torch.Tensor | None]
    grad_inputs: list[torch.Tensor | None] = field(default_factory=list)
    saved: dict[str, torch.Tensor] = field(default_factory=dict)
    input_names: list[str] = field(default_factory=list)
    leaf_grad: torch.Tensor | None = None  # for AccumulateGrad: the leaf's .grad right after this step
    fn: object = field(default=None, repr=False, compare=False)

    def chain_rule(self, precision: int = 4, hide: Hide = never) -> str:
        """The chain-rule step with the real numbers: rule, g flowing in, saved values used, grads out (a gradient
        `hide` picks, as HIDDEN)."""
        def shown(t: torch.Tensor) -> str:
            return HIDDEN if hide(t) else preview(t, precision)
        g = ", ".join(shown(t) if t is not None else "None" for t in self.grad_outputs)
        lines = [f"step {self.index}: {self.name}", rule(self.name).full,
                 f"g = ∂L/∂out = {g}"]
        lines += [f"saved {k} = {preview(v, precision)}" for k, v in self.saved.items()]
        if self.name == "AccumulateGrad":
            lines.append(f"{self.input_names[0] if self.input_names else 'leaf'}.grad is now "
                         f"{shown(self.leaf_grad)}")
        for i, (target, grad) in enumerate(zip(self.input_names, self.grad_inputs)):
            where = f"input {i} → {target}"
            lines.append(f"{where}: None (needs no grad)" if grad is None else f"{where}: {shown(grad)}")
        return "\n".join(line.replace("\n", "\n    ") for line in lines)


@dataclass
class BackwardTrace:
    """All steps of one backward() call, in the order autograd ran them."""
    steps: list[BackwardStep]

    def order(self) -> list[str]:
        """Node names in run order."""
        return [s.name for s in self.steps]

    def annotate(self, model: GraphModel, upto: int | None = None, hide: Hide = never) -> GraphModel:
        """Write grads seen up to step `upto` (all when None) onto the model's nodes, in place (a grad `hide` picks
        as HIDDEN); return it."""
        def write(nid: str, t: torch.Tensor) -> None:
            model.nodes[nid].grad, model.nodes[nid].grad_brief = (HIDDEN, HIDDEN) if hide(t) else (preview(t),
                                                                                                   brief(t))

        shown = self.steps[: upto if upto is not None else len(self.steps)]
        if shown and shown[0].grad_outputs and model.root in model.nodes:  # backward() starts from dL/dy = 1
            write(model.root, shown[0].grad_outputs[0])
        for step in shown:
            nid = model.node_for(step.fn)
            if nid is None:
                continue
            grad = step.grad_outputs[0] if step.grad_outputs else None
            if step.name == "AccumulateGrad" and nid + "_leaf" in model.nodes:
                write(nid + "_leaf", step.leaf_grad)
            elif grad is not None and nid in model.nodes:
                write(nid, grad)
        return model


def _input_names(fn: object, names: dict[int, str]) -> list[str]:
    """What each input slot of `fn` leads to; an AccumulateGrad's own leaf last."""
    return [i.short() for i in node_inputs(fn, names)] + ([leaf_name(fn, names)] if hasattr(fn, "variable") else [])


@contextmanager
def tracing(root: torch.Tensor, params: dict[str, torch.Tensor] | None = None) -> Iterator[BackwardTrace]:
    """While active, a pre-hook and a hook on every node of root's graph record each step backward() runs."""
    names = {id(t): n for n, t in (params or {}).items()}
    trace = BackwardTrace([])
    running: dict[int, BackwardStep] = {}
    handles = []

    def prehook(fn):
        def hook(grad_outputs):
            step = BackwardStep(len(trace.steps) + 1, type(fn).__name__, [_copy(g) for g in grad_outputs],
                                saved={k: v.detach().clone() for k, v in saved_tensors(fn).items()},
                                input_names=_input_names(fn, names), fn=fn)
            trace.steps.append(step)
            running[id(fn)] = step
        return hook

    def posthook(fn):
        def hook(grad_inputs, grad_outputs):
            step = running[id(fn)]
            step.grad_inputs = [_copy(g) for g in grad_inputs]
            if hasattr(fn, "variable"):
                step.leaf_grad = _copy(fn.variable.grad)
        return hook

    for fn in walk_grad_fns(root):
        handles += [fn.register_prehook(prehook(fn)), fn.register_hook(posthook(fn))]
    try:
        yield trace
    finally:
        for h in handles:
            h.remove()


def trace_backward(root: torch.Tensor, params: dict[str, torch.Tensor] | None = None,
                   retain_graph: bool = False) -> BackwardTrace:
    """Run root.backward() with the steps recorded (see tracing); return what ran, in order."""
    with tracing(root, params) as trace:
        root.backward(torch.ones_like(root) if root.numel() == 1 else None, retain_graph=retain_graph)
    return trace


def _copy(t: torch.Tensor | None) -> torch.Tensor | None:
    """A detached copy, so later in-place accumulation cannot change what a step showed."""
    return None if t is None else t.detach().clone()
