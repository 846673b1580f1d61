"""Explanations computed from what ran: each leaf's gradient as a chain of local derivatives with the real numbers,
saturation named where it happened, and where a NaN or inf was born."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import torch

from explorer.autograd.journal import brief
from explorer.autograd.node import rule
from explorer.autograd.walk import inputs_of, paths_to

SCALE_HINT = "(x / 1000)"
FLAT = {"SigmoidBackward0", "TanhBackward0"}  # ops that saturate far from 0


@dataclass
class Factor:
    """One local derivative on the way from y down to a leaf: the op, the value it was taken at, its value."""
    op: str
    at: torch.Tensor
    at_source: str
    value: torch.Tensor


@dataclass
class Chain:
    """y → leaf: one-number factors, then (when the path ends in a vector) the Jacobian of the rest."""
    leaf: str
    paths: int
    factors: list[Factor] = field(default_factory=list)
    rest: torch.Tensor | None = None  # ∂(rest_source)/∂leaf, shaped like the leaf
    rest_source: str = ""
    shape: tuple[int, ...] = ()  # the leaf's shape


def _call(fn: object, grad: torch.Tensor) -> tuple:
    with torch.no_grad():
        got = fn(grad)
    return got if isinstance(got, tuple) else (got,)


def gradient_chain(root: torch.Tensor, name: str, leaf: torch.Tensor, outputs: dict[int, torch.Tensor],
                   sources: dict[int, str]) -> Chain:
    """Before backward(): run each node's backward function on g = 1 to get its local derivative (autograd's own)."""
    paths = paths_to(root.grad_fn, leaf)
    if len(paths) != 1:
        return Chain(name, len(paths))
    chain = Chain(name, 1, shape=tuple(leaf.shape))
    for i, (fn, slot) in enumerate(paths[0]):
        out = outputs.get(id(fn))
        if out is None:
            return Chain(name, 1)
        d = _call(fn, torch.ones_like(out))[slot]
        child = inputs_of(fn)[slot][0]
        z = leaf if hasattr(child, "variable") else outputs.get(id(child))
        if d is not None and d.numel() == 1 and z is not None:
            chain.factors.append(Factor(type(fn).__name__, z.detach().clone(), sources.get(id(z), "z"),
                                        d.detach().clone().reshape(())))
            continue
        for later, later_slot in paths[0][i + 1:]:
            d = _call(later, d)[later_slot]
        chain.rest, chain.rest_source = d.detach().clone().reshape(leaf.shape), sources.get(id(out), "this")
        break
    return chain


def chain_value(chain: Chain) -> torch.Tensor | None:
    """The gradient the chain predicts: product of the factors, times the rest when there is one."""
    if chain.paths != 1:
        return None
    total = torch.ones(())
    for f in chain.factors:
        total = total * f.value
    return total * chain.rest if chain.rest is not None else total.expand(chain.shape).clone()


def _num(value: float) -> str:
    return f"{value:,.6g}" if math.isfinite(value) else f"{value}"


def _name_of(rest: torch.Tensor, known: dict[str, torch.Tensor]) -> str:
    """Name a Jacobian by the tensor it equals (x, x / 1000, …), else by its values."""
    for label, tensor in known.items():
        if tensor.shape == rest.shape and torch.equal(tensor.detach(), rest):
            return f"{label} = {brief(rest, 40)}"
    if torch.equal(rest, torch.ones_like(rest)):
        return "1 for every element"
    return brief(rest, 40)


def _saturation(f: Factor, text: str, leaves: str) -> str | None:
    """A note when a factor stops the gradient: a saturated sigmoid/tanh, a relu that is off."""
    z = _num(float(f.at.reshape(-1)[0]))
    if f.op in FLAT and abs(float(f.value)) < 1e-4:
        fix = re.sub(r"\bx\b", SCALE_HINT, text) if SCALE_HINT not in text else "a smaller z (scale x further)"
        what = "sigmoid" if f.op.startswith("Sigmoid") else "tanh"
        return (f"**Saturated:** {what} is flat at z = {z} (its slope there is {float(f.value):.3g}), so almost no "
                f"gradient reaches {leaves}. Scale the inputs: try `{fix}`.")
    if f.op == "ReluBackward0" and float(f.value) == 0:
        return (f"**relu is off:** z = {z} ≤ 0, so relu passes no gradient: {leaves} get 0 (a 'dead' unit for "
                "this input). Another seed or row, or a larger b, switches it on.")
    return None


def describe_chain(chain: Chain, grad: torch.Tensor | None, known: dict[str, torch.Tensor]) -> str:
    """The chain rule for one leaf, in words and the real numbers, ending in what autograd computed."""
    got = brief(grad, 60) if grad is not None else "None"
    if chain.paths == 0:
        return f"**{chain.leaf}.grad** = {got}: y does not depend on {chain.leaf}."
    if chain.paths > 1:
        return (f"**{chain.leaf}.grad** = {got}: {chain.leaf} reaches y along {chain.paths} paths, and autograd "
                "adds the gradient of each path into .grad.")
    parts, numbers, lines = [], [], []
    for f in chain.factors:
        parts.append(rule(f.op).term or f"∂{f.op}")
        numbers.append(_num(float(f.value)))
        lines.append(f"- `{f.op}`: {rule(f.op).local or 'its local derivative'}, taken at z = `{f.at_source}` = "
                     f"{_num(float(f.at.reshape(-1)[0]))}: **{numbers[-1]}**")
    if chain.rest is not None:
        parts.append(f"∂({chain.rest_source})/∂{chain.leaf}")
        numbers.append(brief(chain.rest, 30))
        lines.append(f"- ∂({chain.rest_source})/∂{chain.leaf} = {_name_of(chain.rest, known)}")
    head = f"**{chain.leaf}.grad** = " + " · ".join(parts or ["1"])
    tail = "= " + " · ".join(numbers or ["1"]) + f" = **{got}** (what autograd computed)"
    return "\n".join([head] + lines) + "\n\n" + tail


def explain(chains: list[Chain], grads: dict[str, torch.Tensor | None], known: dict[str, torch.Tensor]) -> list[str]:
    """Markdown paragraphs: each leaf's chain rule with the numbers that ran."""
    return [describe_chain(c, grads.get(c.leaf), known) for c in chains]


def stoppers(text: str, chains: list[Chain]) -> list[str]:
    """One note per place where the gradient was stopped (a saturated sigmoid / tanh, a relu that is off)."""
    out, seen = [], set()
    for c in chains:
        for f in c.factors:
            key = (f.op, float(f.at.reshape(-1)[0]))
            hit = " and ".join(ch.leaf for ch in chains if any(g.op == f.op for g in ch.factors))
            note = _saturation(f, text, hit)
            if note and key not in seen:
                seen.add(key)
                out.append(note)
    return out
