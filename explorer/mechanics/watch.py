"""The instrument around the error lessons: run one, keep PyTorch's refusal and warnings as text, and draw its graph
with what the lesson is about written on the nodes (is_leaf, requires_grad, retains_grad, each saved tensor's
_version against the version it was saved at, where no_grad / inference_mode / detach cut the chain).

A Watch is a TorchFunctionMode: it sees every torch call the lesson makes from outside, and changes none of them.
"""
from __future__ import annotations

import inspect
import threading
import warnings
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch.overrides import TorchFunctionMode

from explorer.autograd.graph import GraphError, build_graph
from explorer.autograd.graph_model import GraphEdge, GraphModel
from explorer.autograd.journal import brief
from explorer.autograd.node import GraphNode, read_saved

WARN_LOCK = threading.Lock()  # the warnings filters and torch's warn-always switch are process-wide


@dataclass
class Cut:
    """A call that took tensors requiring grad and gave one that does not: where the chain was cut, and how."""
    how: str
    sources: list[torch.Tensor]
    result: torch.Tensor


class Watch(TorchFunctionMode):
    """Sees each torch call: the tensors made, the version each new node's saved tensors had when saved, the
    tensor backward() was called on, the tensors whose .grad was read, and the calls that cut the graph."""

    def __init__(self) -> None:
        super().__init__()
        self.outputs: list[torch.Tensor] = []
        self.saved_at: dict[int, dict[str, int]] = {}  # id(grad_fn) -> saved name -> its version when saved
        self.nodes: list[object] = []  # keeps the grad_fns alive, so their ids stay theirs
        self.roots: list[torch.Tensor] = []
        self.grad_reads: list[torch.Tensor] = []
        self.cuts: list[Cut] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        needing = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
        if name == "backward" and args:
            self.roots.append(args[0])
        if name == "__get__" and getattr(func, "__self__", None) is torch.Tensor.grad:
            self.grad_reads.append(args[0])
        how = self._cutting(name) if name != "__get__" else ""  # reading an attribute (w.grad) cuts nothing
        result = func(*args, **kwargs)
        for t in result if isinstance(result, (tuple, list)) else (result,):
            if isinstance(t, torch.Tensor):
                self._made(t, needing, how)
        return result

    @staticmethod
    def _cutting(name: str) -> str:
        if name in ("detach", "requires_grad_"):
            return f"{name}()" if name == "detach" else "requires_grad_(False)"
        if torch.is_inference_mode_enabled():
            return "inference_mode()"
        return "no_grad()" if not torch.is_grad_enabled() else ""

    def _made(self, t: torch.Tensor, needing: list[torch.Tensor], how: str) -> None:
        self.outputs.append(t)
        if t.grad_fn is not None and id(t.grad_fn) not in self.saved_at:
            self.saved_at[id(t.grad_fn)] = {s.name: s.version for s in read_saved(t.grad_fn) if s.version is not None}
            self.nodes.append(t.grad_fn)
        if needing and not t.requires_grad and how:
            self.cuts.append(Cut(how, needing, t))

    def root(self) -> torch.Tensor | None:
        """What to draw: the tensor backward() was last called on, else the last tensor made that has a graph."""
        if self.roots:
            return self.roots[-1]
        return next((t for t in reversed(self.outputs) if t.grad_fn is not None), None)


@dataclass
class Run:
    """One lesson run: what it returned, or PyTorch's refusal; the warnings it raised; what the Watch saw."""
    value: object
    error: str | None
    warnings: list[str]
    watch: Watch
    inputs: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """PyTorch's words: the error, else the warnings ('' when it ran clean)."""
        return self.error or "\n".join(self.warnings)


def run_lesson(fn: Callable, x: torch.Tensor, w: torch.Tensor, *extra) -> Run:
    """fn(x, w, *extra) (as many of `extra` as fn takes) under a Watch, with its exception and warnings as text.
    torch shows some warnings once per process: warn-always is on around the call, so every run (and every session)
    sees them."""
    watch, value, error = Watch(), None, None
    with WARN_LOCK, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        before = torch.is_warn_always_enabled()
        torch.set_warn_always(True)
        try:
            with watch:
                value = fn(x, w, *extra[:len(inspect.signature(fn).parameters) - 2])
        except (RuntimeError, AssertionError) as exc:  # AssertionError: .to("cuda") on a build without CUDA
            error = f"{type(exc).__name__}: {exc}"
        finally:
            torch.set_warn_always(before)
    said = [f"{m.category.__name__}: {m.message}" for m in seen]
    return Run(value, error, said, watch, {"x": x, "w": w})


# --- the drawing ---------------------------------------------------------------------------------------------------

def _leaf_marks(t: torch.Tensor, devices: bool) -> list[str]:
    marks = [f"is_leaf {t.is_leaf} · requires_grad {t.requires_grad}", f"_version {t._version}"]
    return marks + ([f"device {t.device}"] if devices else [])


def _saved_marks(fn: object, saved_at: dict[str, int]) -> list[str]:
    """Each saved tensor's version now against the version it was saved at (✗: changed in place since)."""
    return [f"saved {s.name}: v{saved_at[s.name]}, now v{s.version}" + (" ✗" if s.version != saved_at[s.name] else "")
            for s in read_saved(fn) if s.version is not None and s.name in saved_at]


def _leaves_only(inputs: dict[str, torch.Tensor]) -> GraphModel:
    """No graph was built (everything cut): the inputs alone, for the cuts to hang from."""
    model = GraphModel(nodes={}, edges=[], root="", total_nodes=0)
    for name, t in inputs.items():
        model.nodes[f"in_{name}"] = GraphNode(f"in_{name}", "parameter" if t.requires_grad else "input", name,
                                              tuple(t.shape), brief=brief(t))
    return model


def _node_of(model: GraphModel, t: torch.Tensor, names: dict[int, str], root: torch.Tensor | None) -> str | None:
    """The drawn node a tensor is: a named input, the output, or the node of its grad_fn."""
    if t is root:
        return model.root
    if id(t) in names:
        return next((nid for nid, n in model.nodes.items() if n.name == names[id(t)] and n.kind in
                     ("parameter", "input")), None)
    return model.node_for(t.grad_fn)


def lesson_graph(run: Run, output: str) -> GraphModel:
    """The run's graph (see Watch.root) with the lesson's facts on its nodes, and its cuts as dashed branches."""
    root, watch = run.watch.root(), run.watch
    try:
        model = build_graph(root, run.inputs, output_name=output) if root is not None else None
    except GraphError:  # a root without a grad_fn (backward() on a tensor that needs none)
        model = None
    if model is None:
        model = _leaves_only(run.inputs)
        if root is not None:  # e.g. backward() on a loss made under no_grad: drawn, with what it lacks
            model.root = "out"
            model.nodes["out"] = GraphNode("out", "output", output, tuple(root.shape), brief=brief(root))
            model.edges += [GraphEdge(f"cut{i}", "out", dashed=True) for i in range(len(watch.cuts))]
    for name in run.inputs:  # a leaf switched off after it was used is drawn once, where autograd has it
        if f"in_{name}" in model.nodes and any(n.name == name and n.kind == "parameter" and nid != f"in_{name}"
                                               for nid, n in model.nodes.items()):
            del model.nodes[f"in_{name}"]
            model.edges = [e for e in model.edges if f"in_{name}" not in (e.src, e.dst)]
    names = {id(t): n for n, t in run.inputs.items()}
    devices = len({t.device for t in watch.outputs + list(run.inputs.values())}) > 1
    for node in model.nodes.values():
        tensor = next((t for n, t in run.inputs.items() if n == node.name), None)
        if tensor is not None and node.kind in ("parameter", "input"):
            node.marks = _leaf_marks(tensor, devices)
    by_fn = {id(fn): fn for fn in model.keep}
    for key, nid in model.fn_ids.items():
        if key in watch.saved_at and nid in model.nodes:
            model.nodes[nid].marks = _saved_marks(by_fn[key], watch.saved_at[key])
    for t in watch.grad_reads + [o for o in watch.outputs if o.retains_grad]:
        nid = _node_of(model, t, names, root) if not t.is_leaf else None
        if nid and not any(m.startswith("retains_grad") for m in model.nodes[nid].marks):
            kept = brief(t.grad) if t.retains_grad else "None"  # reading a non-leaf's .grad warns: it is None
            model.nodes[nid].marks.append(f"retains_grad {t.retains_grad} · .grad {kept or 'None'}")
    if root is not None and model.root in model.nodes:
        model.nodes[model.root].marks.append(f"is_leaf {root.is_leaf} · requires_grad {root.requires_grad}" +
                                             (" · grad_fn None" if root.grad_fn is None else ""))
    for i, cut in enumerate(watch.cuts):
        cid = f"cut{i}"
        model.nodes[cid] = GraphNode(cid, "input", cut.how, tuple(cut.result.shape), brief=brief(cut.result),
                                     marks=["requires_grad False · grad_fn None"])
        model.edges += [GraphEdge(src, cid, f"cut by {cut.how}", dashed=True) for src in
                        {_node_of(model, s, names, root) for s in cut.sources} if src]
    return model
