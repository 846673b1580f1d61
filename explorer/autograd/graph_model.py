"""The graph model: an autograd graph as plain data, its nodes (explorer.autograd.node) joined by edges."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from explorer.autograd.node import GraphNode

@dataclass(frozen=True)
class GraphEdge:
    """An edge in the direction data flows in the forward pass (input → op → output)."""
    src: str
    dst: str
    label: str = ""
    dashed: bool = False


@dataclass
class GraphModel:
    """Nodes and edges of one autograd graph, plus what was hidden or cut."""
    nodes: dict[str, GraphNode]
    edges: list[GraphEdge]
    root: str
    total_nodes: int
    notes: list[str] = field(default_factory=list)
    fn_ids: dict[int, str] = field(default_factory=dict, repr=False)  # id(grad_fn) -> node id
    keep: list = field(default_factory=list, repr=False)  # holds grad_fns so their ids stay unique

    def node_for(self, fn: object) -> str | None:
        """The node id of grad_fn `fn` (None if it is not drawn)."""
        return None if fn is None else self.fn_ids.get(id(fn))

    def kinds(self) -> dict[str, int]:
        """How many nodes of each kind."""
        out: dict[str, int] = {}
        for node in self.nodes.values():
            out[node.kind] = out.get(node.kind, 0) + 1
        return out

    def op_names(self) -> list[str]:
        """Names of the backward-function nodes (AccumulateGrad included), in traversal order."""
        return [n.name for n in self.nodes.values() if n.kind in ("operation", "accumulate")]

    def until(self, step: int) -> "GraphModel":
        """The part of the graph the forward pass has built after journal op `step` (0 = only leaves)."""
        keep = {nid for nid, n in self.nodes.items() if n.step is None or n.step <= step}
        nodes = {nid: self.nodes[nid] for nid in self.nodes if nid in keep}
        edges = [e for e in self.edges if e.src in keep and e.dst in keep]
        return replace(self, nodes=nodes, edges=edges)
