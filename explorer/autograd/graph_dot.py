"""GraphModel → Graphviz DOT text (built with the `graphviz` package): the nodes' own labels and colours."""
from __future__ import annotations

import re

import graphviz

from explorer.autograd.graph_model import GraphModel
from explorer.autograd.node import FILL, label_lines

SHAPE = {  # the box each kind gets; the fill is node.FILL, the same as the SVG's
    "input": dict(shape="box", style="filled,dashed"),
    "parameter": dict(shape="box", style="filled"),
    "operation": dict(shape="box", style="filled,rounded"),
    "accumulate": dict(shape="box", style="filled", fontsize="9"),
    "output": dict(shape="box", style="filled"),
    "module": dict(shape="box3d", style="filled"),
}
HIGHLIGHT = dict(fillcolor="gold", color="red", penwidth="3")
AUTO_VALUES_UP_TO = 40  # above this many nodes, labels carry names and shapes only


def graph_to_dot(model: GraphModel, highlight: str | None = None, show_values: bool | None = None) -> str:
    """DOT text of `model`; node `highlight` (a node id) is drawn gold with a red border."""
    if show_values is None:
        show_values = len(model.nodes) <= AUTO_VALUES_UP_TO
    # explicit colours everywhere (readable in the dark theme too); Courier: the browser lays text out with the
    # monospace metrics graphviz assumed, so labels stay inside their boxes
    dot = graphviz.Digraph("autograd", graph_attr=dict(rankdir="TB", nodesep="0.25", ranksep="0.35", bgcolor="white",
                                                       fontcolor="black"),
                           node_attr=dict(fontname="Courier", fontsize="10", margin="0.08,0.04", fontcolor="black",
                                          color="black"),
                           edge_attr=dict(color="black", fontcolor="black"))
    for nid, node in model.nodes.items():
        attrs = dict(SHAPE.get(node.kind, {}), fillcolor=FILL.get(node.kind, "white"))
        if nid == highlight:
            attrs.update(HIGHLIGHT)
        lines = label_lines(node, "full" if show_values else "name")  # left-justified, as torchviz's align=left
        dot.node(nid, ("\\l".join(lines) + "\\l").replace('"', "'"), tooltip=f"{node.kind}: {node.name}", **attrs)
    for e in model.edges:
        attrs = dict(style="dashed") if e.dashed else {}
        if e.label:
            attrs["label"] = e.label
            attrs["fontsize"] = "9"
        dot.edge(e.src, e.dst, **attrs)
    return dot.source


def browser_safe_dot(dot: str) -> str:
    """DOT that the browser's graphviz (WebAssembly, under st.graphviz_chart) lays out reliably: line breaks inside
    labels as \\n escapes, runs of spaces as no-break spaces. With either as plain text (torchviz writes both), a
    layout that followed another graph's failed now and then, leaving the chart blank (hpcc-js/wasm#139)."""
    dot = re.sub(r'label="[^"]*"', lambda label: label.group().replace("\n", "\\n"), dot)
    return re.sub(r" {2,}", lambda run: "\u00a0" * len(run.group()), dot)
