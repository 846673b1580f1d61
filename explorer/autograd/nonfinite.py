"""NaN and inf, named: the first forward op that made one from finite inputs, and the backward step that did."""
from __future__ import annotations

import math

import torch

from explorer.autograd.backward import BackwardTrace
from explorer.autograd.journal import JournalEntry, OpJournal

FLOAT32_MAX = torch.finfo(torch.float32).max


def kind(t: torch.Tensor) -> str:
    """'NaN', 'inf', 'NaN and inf' or '' for a tensor."""
    t = t.detach()
    nan, inf = bool(torch.isnan(t).any()), bool(torch.isinf(t).any())
    return " and ".join(word for word, has in (("NaN", nan), ("inf", inf)) if has)


def _inputs(entry: JournalEntry, named: dict[str, torch.Tensor]) -> list[torch.Tensor | float]:
    """The op's inputs as tensors (looked up by their journal names) or plain numbers."""
    out: list[torch.Tensor | float] = []
    for o in entry.inputs:
        if o.shape is None:
            try:
                out.append(float(o.value))
            except ValueError:
                continue
        elif o.name in named:
            out.append(named[o.name])
    return out


def _finite(values: list[torch.Tensor | float]) -> bool:
    return all(bool(torch.isfinite(v.detach()).all()) if isinstance(v, torch.Tensor) else math.isfinite(v)
               for v in values)


def _smallest(t: torch.Tensor | float) -> float:
    return float(t.detach().min()) if isinstance(t, torch.Tensor) else float(t)


def cause(entry: JournalEntry, inputs: list[torch.Tensor | float]) -> str:
    """Why this op turned finite inputs into NaN or inf."""
    op = entry.op.rsplit(".", 1)[-1]
    first = inputs[0] if inputs else None
    if op == "log" and first is not None:
        low = _smallest(first)
        return "log of zero (−inf)" if low == 0 else f"log of a negative number (z = {low:,.6g})"
    if op in ("div", "true_divide") and len(inputs) > 1:
        d = inputs[1]
        if (isinstance(d, torch.Tensor) and bool((d == 0).any())) or d == 0:
            return "division by zero"
    if op == "pow" and first is not None and _smallest(first) < 0:
        return "a fractional power of a negative number"
    return f"overflow: the result passed float32's largest number, {FLOAT32_MAX:.3g}"


def forward_origin(journal: OpJournal, named: dict[str, torch.Tensor]) -> str | None:
    """Where the forward pass first made a NaN or inf out of finite numbers (None when it never did)."""
    for entry in journal.entries:
        if entry.output is None or not kind(entry.output):
            continue
        inputs = _inputs(entry, named)
        if _finite(inputs):
            return (f"**{kind(entry.output)}** first appears at op {entry.index}, `{entry.op}` "
                    f"({entry.grad_fn_name or 'no grad_fn'}), giving {entry.output_name}: {cause(entry, inputs)}.")
    return None


def backward_origin(trace: BackwardTrace) -> str | None:
    """The backward step that first sent NaN or inf on from finite incoming gradients."""
    for step in trace.steps:
        incoming = [g for g in step.grad_outputs if g is not None]
        outgoing = [g for g in step.grad_inputs if g is not None]
        if _finite(incoming) and not _finite(outgoing):
            what = " and ".join(sorted({kind(g) for g in outgoing if kind(g)}))
            return (f"**backward step {step.index}, `{step.name}`**, turned finite gradients into {what} "
                    "(a derivative that divides by zero or overflows there).")
    return None


def report(journal: OpJournal, trace: BackwardTrace, named: dict[str, torch.Tensor], y: torch.Tensor,
           grads: dict[str, torch.Tensor | None]) -> list[str]:
    """Every NaN / inf of the lesson named, with where it came from; empty when all numbers are finite."""
    out = []
    if kind(y):
        out.append(f"y is **{kind(y)}**.")
    origin = forward_origin(journal, named)
    if origin:
        out.append(origin)
    bad = {name: kind(g) for name, g in grads.items() if g is not None and kind(g)}
    for name, what in bad.items():
        out.append(f"{name}.grad contains **{what}**.")
    if bad:
        out.append(backward_origin(trace) or "")
    elif kind(y):
        out.append("The gradients are finite numbers all the same: each backward function computes its formula "
                   "(log's is g / z), which exists where the op itself does not. Don't train on them.")
    return [line for line in out if line]
