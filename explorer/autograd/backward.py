"""Backward, step by step: the order autograd runs each node, with the gradients flowing in and out."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from explorer.autograd.graph import saved_tensors
from explorer.autograd.graph_model import GraphModel
from explorer.autograd.graph_plot import brief
from explorer.autograd.journal import preview
from explorer.autograd.walk import walk_grad_fns

RULES = {  # the local derivative each node applies; g is the gradient arriving at the node's output
    "AddBackward0": "out = a + alpha·b  ⇒  ∂L/∂a = g,  ∂L/∂b = alpha·g  (summed over broadcast dims)",
    "SubBackward0": "out = a − alpha·b  ⇒  ∂L/∂a = g,  ∂L/∂b = −alpha·g",
    "MulBackward0": "out = self · other  ⇒  ∂L/∂self = g · other,  ∂L/∂other = g · self",
    "DivBackward0": "out = self / other  ⇒  ∂L/∂self = g / other,  ∂L/∂other = −g · self / other²",
    "MmBackward0": "out = self @ mat2  ⇒  ∂L/∂self = g @ mat2ᵀ,  ∂L/∂mat2 = selfᵀ @ g",
    "PermuteBackward0": "out = input.permute(dims)  ⇒  ∂L/∂input = g permuted back",
    "TBackward0": "out = input.T  ⇒  ∂L/∂input = gᵀ",
    "PowBackward0": "out = self ** exponent  ⇒  ∂L/∂self = g · exponent · self^(exponent−1)",
    "SigmoidBackward0": "out = σ(self)  ⇒  ∂L/∂self = g · out · (1 − out)",
    "TanhBackward0": "out = tanh(self)  ⇒  ∂L/∂self = g · (1 − out²)",
    "ReluBackward0": "out = relu(self)  ⇒  ∂L/∂self = g where out > 0, else 0",
    "ExpBackward0": "out = exp(self)  ⇒  ∂L/∂self = g · out",
    "LogBackward0": "out = log(self)  ⇒  ∂L/∂self = g / self",
    "AbsBackward0": "out = |self|  ⇒  ∂L/∂self = g · sign(self)",
    "NegBackward0": "out = −self  ⇒  ∂L/∂self = −g",
    "SumBackward0": "out = self.sum()  ⇒  ∂L/∂self = g copied to every element",
    "SumBackward1": "out = self.sum(dim)  ⇒  ∂L/∂self = g copied along dim",
    "MeanBackward0": "out = self.mean()  ⇒  ∂L/∂self = g / N for every element",
    "MeanBackward1": "out = self.mean(dim)  ⇒  ∂L/∂self = g / N along dim",
    "ClampBackward1": "out = clamp(self, min, max)  ⇒  ∂L/∂self = g inside the range, 0 where clamped",
    "ClampMinBackward0": "out = clamp(self, min)  ⇒  ∂L/∂self = g where self ≥ min, else 0",
    "SoftmaxBackward0": "out = softmax(self)  ⇒  ∂L/∂self = out · (g − Σ g·out)",
    "ExpandBackward0": "out = self broadcast  ⇒  ∂L/∂self = g summed over the broadcast dims",
    "ViewBackward0": "out = self.view(shape)  ⇒  ∂L/∂self = g reshaped back",
    "AddmmBackward0": "out = bias + mat1 @ mat2  ⇒  ∂L/∂bias = Σ g,  ∂L/∂mat1 = g @ mat2ᵀ,  "
                      "∂L/∂mat2 = mat1ᵀ @ g",
    "AccumulateGrad": "leaf.grad += g  (this is where .grad is written)",
}


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

    def chain_rule(self, precision: int = 4) -> str:
        """The chain-rule step with the real numbers: rule, g flowing in, saved values used, grads out."""
        g = ", ".join(preview(t, precision) if t is not None else "None" for t in self.grad_outputs)
        lines = [f"step {self.index}: {self.name}", RULES.get(self.name, "∂L/∂input = g · ∂out/∂input"),
                 f"g = ∂L/∂out = {g}"]
        lines += [f"saved {k} = {preview(v, precision)}" for k, v in self.saved.items()]
        if self.name == "AccumulateGrad":
            lines.append(f"{self.input_names[0] if self.input_names else 'leaf'}.grad is now "
                         f"{preview(self.leaf_grad, precision)}")
        for i, (target, grad) in enumerate(zip(self.input_names, self.grad_inputs)):
            where = f"input {i} → {target}"
            lines.append(f"{where}: None (needs no grad)" if grad is None else f"{where}: {preview(grad, precision)}")
        return "\n".join(line.replace("\n", "\n    ") for line in lines)


@dataclass
class BackwardTrace:
    """All steps of one backward() call, in the order autograd ran them."""
    steps: list[BackwardStep]

    def order(self) -> list[str]:
        """Node names in run order."""
        return [s.name for s in self.steps]

    def annotate(self, model: GraphModel, upto: int | None = None) -> GraphModel:
        """Write grads seen up to step `upto` (all when None) onto the model's nodes, in place; return it."""
        shown = self.steps[: upto if upto is not None else len(self.steps)]
        if shown and shown[0].grad_outputs and model.root in model.nodes:  # backward() starts from dL/dy = 1
            model.nodes[model.root].grad = preview(shown[0].grad_outputs[0])
            model.nodes[model.root].grad_brief = brief(shown[0].grad_outputs[0])
        for step in shown:
            nid = model.node_for(step.fn)
            if nid is None:
                continue
            grad = step.grad_outputs[0] if step.grad_outputs else None
            if step.name == "AccumulateGrad" and nid + "_leaf" in model.nodes:
                model.nodes[nid + "_leaf"].grad = preview(step.leaf_grad)
                model.nodes[nid + "_leaf"].grad_brief = brief(step.leaf_grad)
            elif grad is not None and nid in model.nodes:
                model.nodes[nid].grad = preview(grad)
                model.nodes[nid].grad_brief = brief(grad)
        return model


def _input_names(fn: object, names: dict[int, str]) -> list[str]:
    """What each input slot of `fn` leads to: another node, a named leaf, or nothing."""
    out = []
    for child, _ in fn.next_functions:
        if child is None:
            out.append("(no grad needed)")
        elif hasattr(child, "variable"):
            out.append(names.get(id(child.variable), "leaf") + " (AccumulateGrad)")
        else:
            out.append(child.name())
    if hasattr(fn, "variable"):
        out.append(names.get(id(fn.variable), "leaf"))
    return out


def trace_backward(root: torch.Tensor, params: dict[str, torch.Tensor] | None = None,
                   retain_graph: bool = False) -> BackwardTrace:
    """Run root.backward() with a pre-hook and hook on every node; return what ran, in order."""
    names = {id(t): n for n, t in (params or {}).items()}
    steps: list[BackwardStep] = []
    running: dict[int, BackwardStep] = {}
    handles = []

    def prehook(fn):
        def hook(grad_outputs):
            step = BackwardStep(len(steps) + 1, type(fn).__name__, [_copy(g) for g in grad_outputs],
                                saved={k: v.detach().clone() for k, v in saved_tensors(fn).items()},
                                input_names=_input_names(fn, names), fn=fn)
            steps.append(step)
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
        root.backward(torch.ones_like(root) if root.numel() == 1 else None, retain_graph=retain_graph)
    finally:
        for h in handles:
            h.remove()
    return BackwardTrace(steps)


def _copy(t: torch.Tensor | None) -> torch.Tensor | None:
    """A detached copy, so later in-place accumulation cannot change what a step showed."""
    return None if t is None else t.detach().clone()
