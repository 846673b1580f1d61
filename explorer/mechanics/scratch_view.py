"""What the scratchpad shows of a run's variables: every tensor as a table row, and one graph of them all (the
node model of explorer.autograd, drawn by graph_plot), each named tensor a box of its own."""
from __future__ import annotations

import pandas as pd
import torch

from explorer.autograd.graph_model import GraphEdge, GraphModel
from explorer.autograd.journal import brief, preview
from explorer.autograd.node import GraphNode, label_lines, rule, saved_slots, saved_tensors
from explorer.autograd.walk import inputs_of, walk_grad_fns

MAX_GRAPH_NODES = 150
GRAPH_NOTE = ("Blue: leaves that require grad, white: tensors that do not, green: results with a grad_fn, grey: "
              "backward functions. Click a node to see all of it.")
COLUMNS = ["name", "shape", "dtype", "requires_grad", "is_leaf", "grad_fn", "_version", "value", "grad"]


def named_tensors(env: dict[str, object]) -> list[tuple[str, torch.Tensor]]:
    """Every tensor the program holds by name, a list's or tuple's tensors as name[i], in the order defined."""
    out = []
    for name, value in env.items():
        if isinstance(value, torch.Tensor):
            out.append((name, value))
        elif isinstance(value, (list, tuple)) and len(value) <= 20:
            out += [(f"{name}[{i}]", v) for i, v in enumerate(value) if isinstance(v, torch.Tensor)]
    return out


def shown(t: torch.Tensor | None, short: bool = False) -> str:
    """A tensor's values in a few characters (short) or a short preview; a tensor that cannot be read on the cpu
    says so instead of failing the page."""
    if t is None:
        return "None"
    try:
        return brief(t) if short else preview(t, threshold=6).replace("\n", " ")
    except (RuntimeError, NotImplementedError):  # no data to copy (meta), or the device's copy failed
        return f"(values on {t.device} not shown)"


def grad_text(t: torch.Tensor) -> str:
    """t.grad as a short text; read only where PyTorch fills it (a leaf, or retain_grad()): reading a non-leaf's
    .grad warns, and the table must not warn on the learner's behalf."""
    if not (t.is_leaf or t.retains_grad):
        return "None (not a leaf)"
    return shown(t.grad)


def version(t: torch.Tensor) -> int | None:
    """t._version, the count of in-place changes autograd checks saved tensors against (None: inference tensor)."""
    try:
        return t._version
    except RuntimeError:  # inference tensors keep no version counter
        return None


def tensor_table(env: dict[str, object]) -> pd.DataFrame:
    """One row per named tensor: what autograd knows about it."""
    rows = [[name, str(tuple(t.shape)), str(t.dtype).removeprefix("torch."), t.requires_grad, t.is_leaf,
             "None" if t.grad_fn is None else type(t.grad_fn).__name__, version(t),
             shown(t), grad_text(t)] for name, t in named_tensors(env)]
    return pd.DataFrame(rows, columns=COLUMNS)


def _tensor_node(nid: str, name: str, t: torch.Tensor) -> GraphNode:
    kind = "output" if t.grad_fn is not None else "parameter" if t.requires_grad else "input"
    grad = t.grad if (t.is_leaf or t.retains_grad) else None
    return GraphNode(nid, kind, name, tuple(t.shape), shown(t), None if grad is None else shown(grad),
                     brief=shown(t, short=True), grad_brief=shown(grad, short=True) if grad is not None else "",
                     note=f"requires_grad={t.requires_grad}, is_leaf={t.is_leaf}, _version={version(t)}")


def scratch_graph(env: dict[str, object]) -> GraphModel:
    """One graph of every named tensor: leaves and results as boxes named as in the program, the grad_fn nodes
    between them; a tensor that needs no grad is joined (dashed) to the ops that saved it."""
    model = GraphModel(nodes={}, edges=[], root="", total_nodes=0)
    named = named_tensors(env)
    tensor_ids = {}
    for name, t in named:  # a tensor bound to two names is drawn once, under its first name
        if id(t) not in tensor_ids:
            tensor_ids[id(t)] = f"t_{name}"
            model.nodes[f"t_{name}"] = _tensor_node(f"t_{name}", name, t)
            model.keep.append(t)
    fns = _walk(model, [t for _, t in named], tensor_ids)
    for name, t in named:
        if t.grad_fn is not None and tensor_ids[id(t)] == f"t_{name}" and model.node_for(t.grad_fn):
            model.edges.append(GraphEdge(model.node_for(t.grad_fn), f"t_{name}"))
    _link_saved_inputs(model, named, tensor_ids, fns)
    model.edges = [e for e in model.edges if e.src in model.nodes and e.dst in model.nodes]
    model.total_nodes = len(model.nodes)
    return model


def _node_id(model: GraphModel, fn: object) -> str:
    """n0, n1, ... in the order grad_fns are met; the model keeps each one, so its id stays unique."""
    if id(fn) not in model.fn_ids:
        model.fn_ids[id(fn)] = f"n{len(model.fn_ids)}"
        model.keep.append(fn)
    return model.fn_ids[id(fn)]


def _walk(model: GraphModel, roots: list[torch.Tensor], tensor_ids: dict[int, str]) -> dict[str, object]:
    """Add every grad_fn reachable from the roots (each once); returns node id -> grad_fn."""
    fns: dict[str, object] = {}
    for root in roots:
        for fn in walk_grad_fns(root, skip=lambda f: _node_id(model, f) in fns):
            if len(model.nodes) >= MAX_GRAPH_NODES:
                model.notes.append(f"Only the first {MAX_GRAPH_NODES} nodes are drawn.")
                return fns
            nid = _node_id(model, fn)
            fns[nid] = fn
            if hasattr(fn, "variable"):  # AccumulateGrad: where the leaf's .grad is written
                leaf = tensor_ids.get(id(fn.variable), nid + "_leaf")
                if leaf not in model.nodes:
                    model.nodes[leaf] = _tensor_node(leaf, "leaf", fn.variable)
                model.nodes[nid] = GraphNode(nid, "accumulate", "AccumulateGrad", tuple(fn.variable.shape))
                model.edges.append(GraphEdge(leaf, nid))
                continue
            model.nodes[nid] = GraphNode(nid, "operation", type(fn).__name__, saved=saved_slots(fn))
            model.edges += [GraphEdge(_node_id(model, child), nid) for child, _ in inputs_of(fn) if child is not None]
    return fns


def _link_saved_inputs(model: GraphModel, named, tensor_ids, fns: dict[str, object]) -> None:
    for name, t in named:
        nid = tensor_ids[id(t)]
        if t.requires_grad or nid != f"t_{name}":
            continue
        for fid, fn in fns.items():
            for slot, saved in saved_tensors(fn).items():
                if saved.data_ptr() == t.data_ptr() and saved.shape == t.shape:
                    model.edges.append(GraphEdge(nid, fid, f"saved as {slot}", dashed=True))


def node_details(model: GraphModel, nid: str) -> str:
    """All the graph knows about one node, as text (what a click on the drawing opens)."""
    node = model.nodes.get(nid)
    if node is None:
        return ""
    lines = label_lines(node, "full")
    if node.kind in ("operation", "accumulate"):
        lines.append("rule: " + rule(node.name).full)
    elif node.note:
        lines.insert(1, node.note)
    return "\n".join(lines)
