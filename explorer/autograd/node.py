"""One node of autograd's graph, described once: its name and inputs, the tensors it saved (and whether backward()
freed them), its derivative rule in words, its value and grad when known, and how it is labelled and coloured.

The drawings (SVG and DOT), the inspector, the explanations, the backward stepper and retain_graph's saved-tensor
table all read nodes through this module; it is the only one that reads a grad_fn's saved attributes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from explorer.autograd.journal import preview
from explorer.autograd.walk import inputs_of

SAVED_PREFIX = "_saved_"
SHAPE_BOOKKEEPING = ("_sym_sizes", "_sym_strides")  # sizes and strides autograd keeps beside a tensor: not data
FILL = {"input": "white", "parameter": "#add8e6", "operation": "#e3e3e3", "accumulate": "#f0f0f0",
        "output": "#caff70", "module": "#e6e6fa"}  # torchviz's colours where it has one: leaves blue, output green


@dataclass
class Saved:
    """One saved attribute of a grad_fn as read now: what it holds, or freed (backward() released it)."""
    attr: str  # the attribute's full name on the grad_fn
    name: str  # the same without the prefix: self, other, result, …
    value: object = None
    freed: bool = False
    version: int | None = None  # a saved tensor's _version now (read without unpacking it: works after an in-place op)
    stale: bool = False  # changed in place since it was saved: reading it raises, and so would backward()


def read_saved(fn: object) -> list[Saved]:
    """Every saved attribute of grad_fn `fn`, read now; a tensor backward() released reads as freed, not raised."""
    out = []
    for attr in dir(fn):
        if not attr.startswith(SAVED_PREFIX) or attr.endswith(SHAPE_BOOKKEEPING):
            continue
        name = attr[len(SAVED_PREFIX):]
        data = getattr(getattr(fn, "_raw" + attr, None), "data", None)  # None once backward() released it
        version = data._version if isinstance(data, torch.Tensor) else None
        try:
            out.append(Saved(attr, name, getattr(fn, attr), version=version))
        except RuntimeError:  # freed ("backward through the graph a second time") or changed in place since saved
            out.append(Saved(attr, name, data, freed=data is None, version=version, stale=data is not None))
    return out


def saved_tensors(fn: object) -> dict[str, torch.Tensor]:
    """Saved tensors still alive on `fn` (empty after backward)."""
    return {s.name: s.value for s in read_saved(fn) if isinstance(s.value, torch.Tensor)}


@dataclass
class SavedSlot:
    """A saved attribute as the graph shows it: a tensor (its value while it exists) or a plain attribute."""
    name: str
    is_tensor: bool
    shape: tuple[int, ...] | None = None
    value: str | None = None
    freed: bool = False


def saved_slots(fn: object, values: bool = True) -> list[SavedSlot]:
    """The saved attributes of a grad_fn as slots (a tuple of tensors as name[i]; unset attributes left out)."""
    show = preview if values else (lambda _: None)
    slots = []
    for s in read_saved(fn):
        if s.freed:
            slots.append(SavedSlot(s.name, is_tensor=True, freed=True))
        elif isinstance(s.value, torch.Tensor):
            slots.append(SavedSlot(s.name, True, tuple(s.value.shape), show(s.value)))
        elif isinstance(s.value, tuple) and any(isinstance(v, torch.Tensor) for v in s.value):
            slots += [SavedSlot(f"{s.name}[{i}]", True, tuple(v.shape), show(v))
                      for i, v in enumerate(s.value) if isinstance(v, torch.Tensor)]
        elif s.value is not None:
            slots.append(SavedSlot(s.name, False, value=str(s.value)))
    return slots


def leaf_name(fn: object, names: dict[int, str]) -> str:
    """The name of the leaf an AccumulateGrad writes into ('leaf' when it has none)."""
    return names.get(id(fn.variable), "leaf")


@dataclass(frozen=True)
class NodeInput:
    """One input slot of a node: the grad_fn its gradient goes to (None: needs none) and, for a leaf, its name."""
    slot: int
    op: str | None
    index: int = 0
    leaf: str | None = None

    def short(self) -> str:
        """As the backward steps' table says it."""
        return "(no grad needed)" if self.op is None else f"{self.leaf} (AccumulateGrad)" if self.leaf else self.op

    def long(self) -> str:
        """As the inspector says it."""
        if self.op is None:
            return f"{self.slot}: None (this input needs no gradient)"
        if self.leaf:
            return f"{self.slot}: AccumulateGrad → {self.leaf}.grad"
        return f"{self.slot}: {self.op} (its output {self.index})"


def node_inputs(fn: object, names: dict[int, str]) -> list[NodeInput]:
    """Where each input slot of grad_fn `fn` leads: another node, a named leaf, or nothing."""
    return [NodeInput(slot, None) if child is None else
            NodeInput(slot, type(child).__name__, index, leaf_name(child, names) if hasattr(child, "variable") else None)
            for slot, (child, index) in enumerate(inputs_of(fn))]


@dataclass(frozen=True)
class Rule:
    """An op's derivative in words: the full rule (g: the gradient arriving at its output), the derivative of a
    one-number op, and that derivative as a factor of the chain rule."""
    full: str
    local: str = ""
    term: str = ""


RULES = {
    "AddBackward0": Rule("out = a + alpha·b  ⇒  ∂L/∂a = g,  ∂L/∂b = alpha·g  (summed over broadcast dims)",
                         "(a + c)′ = 1", "1"),
    "SubBackward0": Rule("out = a − alpha·b  ⇒  ∂L/∂a = g,  ∂L/∂b = −alpha·g", "(a − c)′ = ±1", "±1"),
    "MulBackward0": Rule("out = self · other  ⇒  ∂L/∂self = g · other,  ∂L/∂other = g · self",
                         "(a·c)′ = the other factor", "c"),
    "DivBackward0": Rule("out = self / other  ⇒  ∂L/∂self = g / other,  ∂L/∂other = −g · self / other²",
                         "(a / c)′ = 1 / c  or  −a / c²", "1/c"),
    "MmBackward0": Rule("out = self @ mat2  ⇒  ∂L/∂self = g @ mat2ᵀ,  ∂L/∂mat2 = selfᵀ @ g"),
    "PermuteBackward0": Rule("out = input.permute(dims)  ⇒  ∂L/∂input = g permuted back"),
    "TBackward0": Rule("out = input.T  ⇒  ∂L/∂input = gᵀ"),
    "PowBackward0": Rule("out = self ** exponent  ⇒  ∂L/∂self = g · exponent · self^(exponent−1)",
                         "(zᵖ)′ = p·zᵖ⁻¹", "p·zᵖ⁻¹"),
    "SigmoidBackward0": Rule("out = σ(self)  ⇒  ∂L/∂self = g · out · (1 − out)", "σ′(z) = σ(z)·(1 − σ(z))", "σ′(z)"),
    "TanhBackward0": Rule("out = tanh(self)  ⇒  ∂L/∂self = g · (1 − out²)", "tanh′(z) = 1 − tanh(z)²", "tanh′(z)"),
    "ReluBackward0": Rule("out = relu(self)  ⇒  ∂L/∂self = g where out > 0, else 0", "relu′(z) = 1 if z > 0 else 0",
                          "relu′(z)"),
    "ExpBackward0": Rule("out = exp(self)  ⇒  ∂L/∂self = g · out", "exp′(z) = exp(z)", "exp(z)"),
    "LogBackward0": Rule("out = log(self)  ⇒  ∂L/∂self = g / self", "log′(z) = 1 / z", "1/z"),
    "AbsBackward0": Rule("out = |self|  ⇒  ∂L/∂self = g · sign(self)", "|z|′ = sign(z)", "sign(z)"),
    "NegBackward0": Rule("out = −self  ⇒  ∂L/∂self = −g", "(−z)′ = −1", "−1"),
    "SumBackward0": Rule("out = self.sum()  ⇒  ∂L/∂self = g copied to every element", "sum′ = 1", "1"),
    "SumBackward1": Rule("out = self.sum(dim)  ⇒  ∂L/∂self = g copied along dim"),
    "MeanBackward0": Rule("out = self.mean()  ⇒  ∂L/∂self = g / N for every element", "mean′ = 1 / N", "1/N"),
    "MeanBackward1": Rule("out = self.mean(dim)  ⇒  ∂L/∂self = g / N along dim"),
    "ClampBackward1": Rule("out = clamp(self, min, max)  ⇒  ∂L/∂self = g inside the range, 0 where clamped",
                           "1 inside [min, max], 0 where clamped"),
    "ClampMinBackward0": Rule("out = clamp(self, min)  ⇒  ∂L/∂self = g where self ≥ min, else 0",
                              "1 where z ≥ min, else 0"),
    "SoftmaxBackward0": Rule("out = softmax(self)  ⇒  ∂L/∂self = out · (g − Σ g·out)"),
    "ExpandBackward0": Rule("out = self broadcast  ⇒  ∂L/∂self = g summed over the broadcast dims"),
    "ViewBackward0": Rule("out = self.view(shape)  ⇒  ∂L/∂self = g reshaped back"),
    "AddmmBackward0": Rule("out = bias + mat1 @ mat2  ⇒  ∂L/∂bias = Σ g,  ∂L/∂mat1 = g @ mat2ᵀ,  "
                           "∂L/∂mat2 = mat1ᵀ @ g"),
    "AccumulateGrad": Rule("leaf.grad += g  (this is where .grad is written)"),
}
UNKNOWN_RULE = Rule("∂L/∂input = g · ∂out/∂input")


def rule(name: str) -> Rule:
    """The derivative rule of node `name` (a general one for ops not listed)."""
    return RULES.get(name, UNKNOWN_RULE)


@dataclass
class GraphNode:
    """One node: a tensor (input, parameter, output), a backward function, or a collapsed module."""
    id: str
    kind: str
    name: str
    shape: tuple[int, ...] | None = None
    value: str | None = None
    grad: str | None = None
    saved: list[SavedSlot] = field(default_factory=list)
    module: str | None = None
    module_type: str = ""
    step: int | None = None  # journal index of the op that built it (None: unknown, always shown)
    note: str = ""
    brief: str = ""  # the value in a few characters, for the drawing (journal.brief)
    grad_brief: str = ""
    marks: list[str] = field(default_factory=list)  # what a lesson points out on the node (is_leaf, _version, …)

    @property
    def saved_freed(self) -> bool:
        """True when backward() has freed this node's saved tensors."""
        return any(s.freed for s in self.saved)


def shape_text(shape: tuple[int, ...] | None) -> str:
    return "" if shape is None else "(" + ", ".join(str(s) for s in shape) + ")"


def _indented(text: str) -> list[str]:
    """A multi-line value preview as indented label lines."""
    return ["  " + line.strip() for line in text.splitlines()]


def _named(word: str, text: str) -> list[str]:
    return [f"{word} ="] + _indented(text) if "\n" in text else [f"{word} = {text}"]


def label_lines(node: GraphNode, detail: str = "brief") -> list[str]:
    """The text on a node. detail 'brief': name, shape and a short value, grad and saved tensors in a word (the
    SVG); 'full': every value, saved tensor and grad as previews (DOT, retain_graph); 'name': name and shape."""
    if detail == "brief":
        lines = ([node.name, f"{shape_text(node.shape)} {node.brief}".strip()]
                 if node.kind in ("operation", "accumulate", "module") else
                 [f"{node.name} {shape_text(node.shape)}", node.brief])
        if node.saved_freed:
            lines.append("saved: freed")
        elif any(s.is_tensor for s in node.saved):
            lines.append("saves " + ", ".join(s.name for s in node.saved if s.is_tensor))
        if node.grad_brief:
            lines.append(("grad " if node.kind in ("parameter", "input") else "∂y/∂out ") + node.grad_brief)
        return [line for line in lines + node.marks if line]
    lines = [f"{node.name} {shape_text(node.shape)}".strip()] + ([node.note] if node.kind == "module" else [])
    if detail != "full":
        return lines + node.marks
    if node.value is not None and node.kind != "accumulate":
        lines += _named("value", node.value)
    for slot in node.saved:
        lines.append(f"saved {slot.name}: freed by backward()" if slot.freed else
                     f"saved {slot.name} {shape_text(slot.shape)} = {slot.value}".replace("\n", " ")
                     if slot.is_tensor else f"{slot.name}: {slot.value}")
    if node.grad is not None:
        lines += _named("grad" if node.kind in ("parameter", "input") else "∂L/∂out", node.grad)
    return lines + node.marks
