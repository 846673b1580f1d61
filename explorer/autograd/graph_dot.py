"""GraphModel → Graphviz DOT text (built with the `graphviz` package), one style per node kind."""
from __future__ import annotations

import re

import graphviz

from explorer.autograd.graph_model import GraphModel, GraphNode

STYLE = {  # colours follow torchviz where it has one: leaves light blue, saved orange, output green
    "input": dict(shape="box", style="filled,dashed", fillcolor="white"),
    "parameter": dict(shape="box", style="filled", fillcolor="lightblue"),
    "operation": dict(shape="box", style="filled,rounded", fillcolor="lightgrey"),
    "accumulate": dict(shape="box", style="filled", fillcolor="gray90", fontsize="9"),
    "output": dict(shape="box", style="filled", fillcolor="darkolivegreen1"),
    "module": dict(shape="box3d", style="filled", fillcolor="lavender"),
}
HIGHLIGHT = dict(fillcolor="gold", color="red", penwidth="3")
AUTO_VALUES_UP_TO = 40  # above this many nodes, labels carry names and shapes only


def _shape(shape: tuple[int, ...] | None) -> str:
    return "" if shape is None else "(" + ", ".join(str(s) for s in shape) + ")"


def _lines(text: str, indent: str = "  ") -> list[str]:
    """A multi-line value preview as indented label lines."""
    return [indent + line.strip() for line in text.splitlines()]


def node_label(node: GraphNode, show_values: bool = True) -> str:
    """The text on one node, left-justified lines as torchviz's align=left (node_lines)."""
    return "\\l".join(node_lines(node, show_values)) + "\\l"


def node_lines(node: GraphNode, show_values: bool = True) -> list[str]:
    """The text on one node: name and shape, then value, saved tensors and grad when asked."""
    head = f"{node.name} {_shape(node.shape)}".strip()
    lines = [head]
    if node.kind == "module":
        lines.append(node.note)
    if show_values and node.value is not None and node.kind != "accumulate":
        lines += ["value ="] + _lines(node.value) if "\n" in node.value else [f"value = {node.value}"]
    if show_values:
        for slot in node.saved:
            if slot.freed:
                lines.append(f"saved {slot.name}: freed by backward()")
            elif slot.is_tensor:
                lines.append(f"saved {slot.name} {_shape(slot.shape)} = {slot.value}".replace("\n", " "))
            else:
                lines.append(f"{slot.name}: {slot.value}")
    if show_values and node.grad is not None:
        word = "grad" if node.kind in ("parameter", "input") else "∂L/∂out"
        lines += [f"{word} ="] + _lines(node.grad) if "\n" in node.grad else [f"{word} = {node.grad}"]
    return lines


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
        attrs = dict(STYLE.get(node.kind, {}))
        if nid == highlight:
            attrs.update(HIGHLIGHT)
        label = node_label(node, show_values).replace('"', "'")
        dot.node(nid, label, tooltip=f"{node.kind}: {node.name}", **attrs)
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
