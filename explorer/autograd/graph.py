"""Our own view of PyTorch's autograd graph: the one walk from a tensor's grad_fn, each node described by node.py."""
from __future__ import annotations

from itertools import islice

import torch

from explorer.autograd.graph_model import GraphEdge, GraphModel
from explorer.autograd.graph_simplify import cap_nodes, collapse_modules, remove_nodes
from explorer.autograd.journal import OpJournal, brief, preview
from explorer.autograd.node import GraphNode, leaf_name, saved_slots, saved_tensors
from explorer.autograd.walk import inputs_of, walk_grad_fns

VIEW_OPS = {"ViewBackward0", "ReshapeAliasBackward0", "UnsafeViewBackward0", "PermuteBackward0", "TBackward0",
            "TransposeBackward0", "TransposeBackward1", "ExpandBackward0", "SqueezeBackward0",
            "SqueezeBackward1", "UnsqueezeBackward0", "AsStridedBackward0", "AliasBackward0"}
DEFAULT_MAX_NODES = 150  # what a browser lays out in about a second
WALK_LIMIT = 20_000  # never hold more than this many nodes, whatever the model
VALUES_UP_TO = 80  # backward nodes up to which node labels carry value previews


class GraphError(ValueError):
    """The tensor has no graph to draw; the message says why."""


def count_nodes(root: torch.Tensor, limit: int = WALK_LIMIT) -> int:
    """How many backward nodes (grad_fns) are reachable from root."""
    return sum(1 for _ in islice(walk_grad_fns(root), limit))


class _Builder:
    """Breadth-first walk from the root's grad_fn, numbering nodes in the order they are met."""

    def __init__(self, root: torch.Tensor, params: dict[str, torch.Tensor], journal: OpJournal | None,
                 max_nodes: int, values: bool = True):
        self.root, self.journal, self.max_nodes = root, journal, max_nodes
        self.show = preview if values else (lambda _: None)
        self.names = {id(t): n for n, t in params.items()}
        self.model = GraphModel(nodes={}, edges=[], root="", total_nodes=0)
        self.model.keep.extend([root, *params.values()])

    def add(self, node: GraphNode) -> None:
        """Put a node into the model under its id."""
        self.model.nodes[node.id] = node

    def node_of(self, fn: object) -> str:
        """The id for `fn`, created on first sight (n0, n1, … in traversal order)."""
        key = id(fn)
        if key not in self.model.fn_ids:
            self.model.fn_ids[key] = f"n{len(self.model.fn_ids)}"
            self.model.keep.append(fn)
        return self.model.fn_ids[key]

    def describe(self, fn: object, nid: str) -> None:
        """Add the node for grad_fn `fn` (and its leaf tensor if it is an AccumulateGrad)."""
        entry = next((e for e in (self.journal.entries if self.journal else []) if e.grad_fn is fn), None)
        meta = getattr(fn, "metadata", {})
        module, module_type = meta.get("module"), meta.get("module_type", "")
        if hasattr(fn, "variable"):
            var = fn.variable
            name = leaf_name(fn, self.names)
            pid = nid + "_leaf"
            self.add(GraphNode(pid, "parameter", name, tuple(var.shape), self.show(var),
                               self.show(var.grad) if var.grad is not None else None,
                               module=name.rpartition(".")[0] or None, brief=brief(var),
                               grad_brief=brief(var.grad)))
            self.add(GraphNode(nid, "accumulate", "AccumulateGrad", tuple(var.shape),
                               module=name.rpartition(".")[0] or None))
            self.model.edges.append(GraphEdge(pid, nid))
            return
        self.add(GraphNode(nid, "operation", type(fn).__name__,
                           entry.output_shape if entry else None, entry.output_value if entry else None,
                           saved=saved_slots(fn, self.show is preview), module=module, module_type=module_type,
                           step=entry.index if entry else None, brief=brief(entry.output) if entry else ""))

    def walk(self) -> GraphModel:
        """Traverse the whole graph (up to a hard safety limit, which is noted)."""
        for fn in walk_grad_fns(self.root):
            if len(self.model.nodes) >= self.max_nodes:
                self.model.notes.append(f"Stopped walking the graph after {self.max_nodes} nodes.")
                break
            self.describe(fn, self.node_of(fn))
            self.model.edges += [GraphEdge(self.node_of(child), self.node_of(fn))
                                 for child, _ in inputs_of(fn) if child is not None]
        self.model.edges = [e for e in self.model.edges if e.src in self.model.nodes and e.dst in self.model.nodes]
        self.model.total_nodes = len(self.model.nodes)
        return self.model


def _leaf_steps(model: GraphModel) -> None:
    """AccumulateGrad appears with its first consumer; leaf tensors exist before any op (step 0)."""
    first_use: dict[str, int] = {}
    for e in model.edges:
        step = model.nodes[e.dst].step
        if step is not None:
            first_use[e.src] = min(step, first_use.get(e.src, step))
    for nid, node in model.nodes.items():
        if node.kind == "accumulate" and node.step is None and nid in first_use:
            node.step = first_use[nid]
            if nid + "_leaf" in model.nodes:
                model.nodes[nid + "_leaf"].step = 0


def _add_inputs(model: GraphModel, root: torch.Tensor, params: dict[str, torch.Tensor],
                journal: OpJournal | None) -> None:
    """Tensors that need no grad (like x) are not in autograd's graph: draw them where they were used."""
    by_key = {id(fn): fn for fn in model.keep}
    fns = {nid: by_key[key] for key, nid in model.fn_ids.items()
           if nid in model.nodes and model.nodes[nid].kind == "operation"}
    for name, tensor in params.items():
        if tensor.requires_grad:
            continue
        nid = f"in_{name}"
        node = GraphNode(nid, "input", name, tuple(tensor.shape), preview(tensor),
                         note="requires_grad=False: not part of autograd's graph", brief=brief(tensor))
        links: dict[str, str] = {}
        for fid, fn in fns.items():
            for slot_name, saved in saved_tensors(fn).items():
                if saved.data_ptr() == tensor.data_ptr() and saved.shape == tensor.shape:
                    links[fid] = f"saved as {slot_name}"
        for entry in journal.entries if journal else []:
            fid = model.node_for(entry.grad_fn)
            if fid and any(o.name == name for o in entry.inputs):
                links.setdefault(fid, "input")
                node.step = 0  # x exists before the forward pass starts
        model.nodes[nid] = node
        model.edges.extend(GraphEdge(nid, fid, label, dashed=True) for fid, label in links.items())


def build_graph(root: torch.Tensor, params: dict[str, torch.Tensor] | None = None, **options) -> GraphModel:
    """Graph model of `root`'s autograd graph; works before and after backward() (saved tensors then freed).

    options: journal (OpJournal: values and build order), trace (BackwardTrace: grads of op nodes),
    values (value previews on nodes; default: only for graphs of at most VALUES_UP_TO backward nodes),
    output_name ("y"), hide_accumulate, hide_views, collapse (bool), expand (module names kept detailed),
    max_nodes (cap on drawn nodes, applied after hiding/collapsing; the model notes what was cut).
    """
    if not isinstance(root, torch.Tensor):
        raise GraphError(f"expected a tensor, got {type(root).__name__}")
    if root.grad_fn is None:
        why = "it is a leaf" if root.requires_grad else "nothing it was computed from requires grad"
        raise GraphError(f"this tensor has no grad_fn ({why}), so there is no graph to draw")
    params, journal = dict(params or {}), options.get("journal")
    values = options.get("values")
    if values is None:  # formatting values dominates the cost on big graphs, and big graphs hide them anyway
        values = count_nodes(root) <= VALUES_UP_TO
    model = _Builder(root, params, journal, WALK_LIMIT, bool(values)).walk()
    out_id = "out"
    top = model.node_for(root.grad_fn)
    out_step = model.nodes[top].step if top else None
    model.nodes[out_id] = GraphNode(out_id, "output", options.get("output_name", "y"), tuple(root.shape),
                                    preview(root), preview(root.grad) if root.retains_grad and root.grad is not None
                                    else None,
                                    step=out_step, brief=brief(root))
    model.edges.append(GraphEdge(top, out_id))
    model.root = out_id
    _add_inputs(model, root, params, journal)
    _leaf_steps(model)
    model.total_nodes = len(model.nodes)
    if options.get("trace") is not None:
        options["trace"].annotate(model)
    if options.get("hide_views"):
        model = remove_nodes(model, lambda n: n.kind == "operation" and n.name in VIEW_OPS, "view/reshape")
    if options.get("hide_accumulate"):
        model = remove_nodes(model, lambda n: n.kind == "accumulate", "AccumulateGrad")
    if options.get("collapse"):
        model = collapse_modules(model, set(options.get("expand", ())))
    return cap_nodes(model, int(options.get("max_nodes", DEFAULT_MAX_NODES)))
