"""Making large graphs readable: hide node kinds (bridging their edges) and collapse nodes per module."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

from explorer.autograd.graph_model import GraphEdge, GraphModel, GraphNode


def _dedupe(edges: list[GraphEdge]) -> list[GraphEdge]:
    """Drop self-loops and repeated edges, keeping the first label."""
    seen, out = set(), []
    for e in edges:
        if e.src != e.dst and (e.src, e.dst) not in seen:
            seen.add((e.src, e.dst))
            out.append(e)
    return out


def remove_nodes(model: GraphModel, hide: Callable[[GraphNode], bool], what: str) -> GraphModel:
    """A copy without the nodes `hide` picks; each hidden node's inputs are wired to its consumers."""
    hidden = {nid for nid, n in model.nodes.items() if hide(n) and nid != model.root}
    if not hidden:
        return model
    edges = list(model.edges)
    for nid in hidden:  # bridge one node at a time so chains of hidden nodes collapse fully
        ins = [e for e in edges if e.dst == nid]
        outs = [e for e in edges if e.src == nid]
        edges = [e for e in edges if nid not in (e.src, e.dst)]
        edges += [GraphEdge(i.src, o.dst, i.label or o.label, i.dashed or o.dashed) for i in ins for o in outs]
    nodes = {nid: n for nid, n in model.nodes.items() if nid not in hidden}
    notes = model.notes + [f"{len(hidden)} {what} node(s) hidden."]
    return replace(model, nodes=nodes, edges=_dedupe(edges), notes=notes)


def top_module(name: str | None, expand: set[str]) -> str | None:
    """The module a node collapses into: its top-level module, unless that one is expanded."""
    if not name:
        return None
    top = name.split(".")[0]
    return None if top in expand or name in expand else top


def collapse_modules(model: GraphModel, expand: set[str] | None = None) -> GraphModel:
    """One node per top-level module (its ops and parameters inside), except modules listed in `expand`."""
    expand = expand or set()
    group: dict[str, str] = {}
    members: dict[str, list[GraphNode]] = {}
    for nid, node in model.nodes.items():
        mod = top_module(node.module, expand)
        if mod is not None and node.kind in ("operation", "accumulate", "parameter"):
            group[nid] = f"mod_{mod}"
            members.setdefault(mod, []).append(node)
    if not members:
        return model
    nodes: dict[str, GraphNode] = {}
    for nid, node in model.nodes.items():
        gid = group.get(nid)
        if gid is None:
            nodes[nid] = node
        elif gid not in nodes:
            mod = gid[len("mod_"):]
            inside = members[mod]
            params = ", ".join(n.name for n in inside if n.kind == "parameter")
            ops = sum(1 for n in inside if n.kind == "operation")
            steps = [n.step for n in inside if n.step is not None]
            last_op = [n for n in inside if n.kind == "operation"]
            kind_name = next((n.module_type for n in inside if n.module_type), "module")
            nodes[gid] = GraphNode(gid, "module", f"{mod}: {kind_name}",
                                   last_op[0].shape if last_op else None, module=mod,
                                   step=min(steps) if steps else None,
                                   note=f"{ops} ops; parameters: {params or 'none'}")
    edges = [GraphEdge(group.get(e.src, e.src), group.get(e.dst, e.dst), e.label, e.dashed) for e in model.edges]
    names = sorted(members, key=lambda m: (len(m), m))
    shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
    notes = model.notes + [f"{len(members)} module(s) collapsed: {shown}."]
    return replace(model, nodes=nodes, edges=_dedupe(edges), notes=notes)


def cap_nodes(model: GraphModel, max_nodes: int) -> GraphModel:
    """Keep the `max_nodes` nodes nearest the output (traversal order) and say what was cut."""
    if len(model.nodes) <= max_nodes:
        return model
    order = [model.root] + [nid for nid in model.nodes if nid != model.root]
    keep = set(order[:max(1, max_nodes)])
    nodes = {nid: n for nid, n in model.nodes.items() if nid in keep}
    edges = [e for e in model.edges if e.src in keep and e.dst in keep]
    notes = model.notes + [f"The graph has {len(model.nodes)} nodes; only the {len(nodes)} nearest the output "
                           "are drawn. Collapse modules, hide AccumulateGrad / view nodes, or raise the cap."]
    return replace(model, nodes=nodes, edges=edges, notes=notes)
