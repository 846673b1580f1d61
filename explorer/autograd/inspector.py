"""The node inspector: everything about one node of the lesson's graph, in full, from the real tensors."""
from __future__ import annotations

import html
import sys
from dataclasses import dataclass, field

import numpy as np
import torch

from explorer.autograd.backward import HIDDEN, BackwardStep, Hide, never
from explorer.autograd.lesson import GraphLesson
from explorer.autograd.node import leaf_name, node_inputs
from explorer.svgplot import pre

FREED = "freed by backward()"


@dataclass
class NodeDetails:
    """One node at one moment (before backward, or after `steps` backward steps): all its numbers, unabridged."""
    node_id: str
    name: str
    kind: str
    value: torch.Tensor | None
    grad: torch.Tensor | None
    grad_note: str
    grad_fn: str | None
    saved: dict[str, torch.Tensor | str] = field(default_factory=dict)  # a tensor, FREED, or a plain attribute
    inputs: list[str] = field(default_factory=list)  # what next_functions leads to, slot by slot
    step: BackwardStep | None = None
    step_ran: bool = False


def full(t: torch.Tensor) -> str:
    """Every value of a tensor (no '...' summary), with its shape and dtype."""
    values = np.array2string(t.detach().cpu().to(torch.float64).numpy(), threshold=sys.maxsize, precision=6,
                             max_line_width=72, separator=", ")
    return f"shape {tuple(t.shape)}, {str(t.dtype).replace('torch.', '')}\n{values}"


def _functions(lesson: GraphLesson) -> dict[str, object]:
    """Node id → the grad_fn object it was drawn from."""
    by_id = {id(o): o for o in lesson.before.keep}
    return {nid: by_id[key] for key, nid in lesson.before.fn_ids.items() if key in by_id}


def inspect_node(lesson: GraphLesson, node_id: str, steps: int | None = None) -> NodeDetails:
    """Node `node_id` before backward() (steps None) or after the first `steps` backward steps."""
    node = lesson.after.nodes[node_id]
    fns = _functions(lesson)
    fn = fns.get(node_id.removesuffix("_leaf"))
    step = next((s for s in lesson.trace.steps if fn is not None and s.fn is fn), None)
    ran = step is not None and steps is not None and step.index <= steps
    waiting = "backward() has not run yet" if steps is None else f"not yet: runs at backward step {step.index}" \
        if step else "no backward step writes it"
    names = {id(t): n for n, t in (("x", lesson.x), ("w", lesson.w), ("b", lesson.b))}
    details = NodeDetails(node_id, node.name, node.kind, None, None, waiting, None, step=step, step_ran=ran)
    if node.kind in ("parameter", "input"):
        leaf = {"x": lesson.x, "w": lesson.w, "b": lesson.b}[node.name]
        details.value, details.grad_fn = leaf.detach(), "None (a leaf: made by you, not by an op)"
        details.grad = step.leaf_grad if ran else None
        details.grad_note = "x.requires_grad is False: no .grad" if node.kind == "input" else \
            ("after this step's AccumulateGrad" if ran else waiting)
        return details
    if node.kind == "output":
        details.value, details.grad_fn = lesson.y.detach(), type(lesson.y.grad_fn).__name__
        first = lesson.trace.steps[0]
        details.grad = first.grad_outputs[0] if steps else None
        details.grad_note = "∂y/∂y = 1: where backward() starts" if steps else waiting
        return details
    details.grad_fn = type(fn).__name__
    details.inputs = [i.long() for i in node_inputs(fn, names)]
    if node.kind == "accumulate":
        details.value = fn.variable.detach()
        details.grad = step.leaf_grad if ran else None
        details.grad_note = f"{leaf_name(fn, names)}.grad after this step" if ran else waiting
        return details
    entry = next(e for e in lesson.journal.entries if e.grad_fn is fn)
    details.value = entry.output.detach()
    details.grad = step.grad_outputs[0] if ran else None
    details.grad_note = f"∂y/∂{entry.output_name}: the gradient arriving at this node" if ran else waiting
    for slot in lesson.before.nodes[node_id].saved:
        if not slot.is_tensor:
            details.saved[slot.name] = slot.value
        else:
            details.saved[slot.name] = FREED if ran else step.saved.get(slot.name, FREED)
    return details


def details_html(d: NodeDetails, hide: Hide = never) -> str:
    """The inspector's two columns as one block of HTML: what it is, its value and grad | its saved tensors,
    next_functions and the chain-rule step that runs at it (a gradient `hide` picks, as HIDDEN)."""
    grad = HIDDEN if hide(d.grad) else full(d.grad) if d.grad is not None else "None"
    saved = [f"{k}: {v if isinstance(v, str) else full(v)}" for k, v in d.saved.items()]
    left = (f"<p>Inspecting <b>{html.escape(d.name)}</b> (node {d.node_id}) · grad_fn: "
            f"<code>{html.escape(str(d.grad_fn))}</code></p>"
            + pre("value: " + (full(d.value) if d.value is not None else "—"))
            + pre(f"grad: {grad}\n({d.grad_note})"))
    right = pre("saved tensors:\n" + ("\n".join(saved) or "none") + "\n\nnext_functions:\n"
                + ("\n".join(d.inputs) or "none (a leaf or the output)"))
    if d.step is not None:
        when = "ran here" if d.step_ran else "runs here when backward() gets to it"
        right += (f'<p class="light-note">The chain-rule step that {when} (backward step {d.step.index}), with its '
                  f"real numbers:</p>" + pre(d.step.chain_rule(hide=hide)))
    return f'<div class="light-columns"><div>{left}</div><div>{right}</div></div>'
