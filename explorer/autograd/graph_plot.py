"""GraphModel → one SVG: a layered drawing whose text is set in pixels (readable on a projector) and whose nodes
can be clicked (each node's group carries its id as data-node)."""
from __future__ import annotations

from dataclasses import dataclass

from explorer.autograd.graph_model import GraphModel
from explorer.autograd.node import FILL, label_lines, shape_text

HIGHLIGHT_FILL, HIGHLIGHT_LINE, SELECTED_LINE = "gold", "#c00000", "#1f5fd6"
SELECTED_DASH = "10 5"  # the inspected node's outline is dashed, this step's solid: not told apart by colour alone
KIND_WORDS = {"input": "input tensor", "parameter": "parameter (leaf)", "operation": "backward function",
              "accumulate": "AccumulateGrad", "output": "output tensor", "module": "module"}
CHAR_WIDTH = 0.62  # monospace advance, in ems (DejaVu Sans Mono / Courier: 0.60)
LINE_HEIGHT = 1.3  # in ems
LABEL_FONT = "DejaVu Sans Mono, Courier New, monospace"
SPACE = '<tspan font-size="0"> </tspan>'  # between a box's lines: heard, not seen
MIN_LABEL_PX = 12  # a narrow column never shrinks the labels under this: the drawing's box scrolls instead


@dataclass
class Placed:
    """A node's place in the drawing (pixels; y grows upwards) and its box size."""
    x: float
    y: float
    width: float
    height: float
    lines: list[str]


def _levels(model: GraphModel) -> dict[str, int]:
    """Longest distance (in edges) from each node to the output: the output sits at level 0, leaves highest."""
    level = {nid: 0 for nid in model.nodes}
    for _ in range(len(model.nodes)):
        changed = False
        for e in model.edges:
            if level[e.src] < level[e.dst] + 1:
                level[e.src], changed = level[e.dst] + 1, True
        if not changed:
            break
    return level


def layout(model: GraphModel, font_px: float, detail: str = "brief") -> dict[str, Placed]:
    """Place nodes in layers (output at the bottom), each layer ordered by where its consumers are; each node's
    text is node.label_lines at `detail`."""
    level, gap = _levels(model), font_px * 1.5
    placed: dict[str, Placed] = {}
    y = 0.0
    for lv in range(max(level.values(), default=0) + 1):
        ids = [nid for nid in model.nodes if level[nid] == lv]
        boxes = {nid: label_lines(model.nodes[nid], detail) for nid in ids}
        size = {nid: (max(len(t) for t in ls) * CHAR_WIDTH * font_px + font_px, len(ls) * LINE_HEIGHT * font_px
                      + font_px * 0.6) for nid, ls in boxes.items()}
        want = {nid: _mean([placed[e.dst].x for e in model.edges if e.src == nid and e.dst in placed]) for nid in ids}
        ids.sort(key=lambda n: want[n])
        xs, right = [], None
        for nid in ids:
            x = want[nid] if right is None else max(want[nid], right + gap + size[nid][0] / 2)
            xs.append(x)
            right = x + size[nid][0] / 2
        shift = (_mean([want[n] for n in ids]) - _mean(xs)) if ids else 0.0
        tallest = max((size[n][1] for n in ids), default=0)
        y += tallest / 2
        for nid, x in zip(ids, xs):
            placed[nid] = Placed(x + shift, y, size[nid][0], size[nid][1], boxes[nid])
        y += tallest / 2 + font_px * 2.2
    return placed


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def graph_svg(model: GraphModel, font_px: float = 16, detail: str = "brief", highlight: str | None = None,
              selected: str | None = None) -> str:
    """The graph as one SVG: boxes, arrows, labels (at `detail`, see label_lines) at `font_px` pixels; `highlight`
    drawn gold, `selected` outlined.

    One SVG, not a plotly figure or a graphviz chart: redrawing a plotly graph cost ~100 ms of each step click in
    Chromium, laying a graphviz chart out 140 ms of each retain_graph click.

    Each node's group is named for a screen reader (node_name); where the drawing takes clicks (pages/
    _graph_drawing.js) the script makes each one a button that Tab reaches."""
    placed = layout(model, font_px, detail)
    if not placed:
        return ""
    pad = font_px
    left = min(p.x - p.width / 2 for p in placed.values()) - pad
    right = max(p.x + p.width / 2 for p in placed.values()) + pad
    top = max(p.y + p.height / 2 for p in placed.values()) + pad / 2
    bottom = min(p.y - p.height / 2 for p in placed.values()) - pad / 2

    def down(y: float) -> float:  # the layout's y grows upwards, SVG's downwards
        return top - y

    parts = [_arrow(placed[e.src], placed[e.dst], left, down, e.dashed, e.label) for e in model.edges
             if e.src in placed and e.dst in placed]
    for nid, p in placed.items():
        kind = model.nodes[nid].kind
        fill, line, stroke = _colours(nid, kind, highlight, selected)
        dash = (f' stroke-dasharray="{SELECTED_DASH}"' if nid == selected else
                ' stroke-dasharray="5 3"' if kind == "input" else "")
        name = _escape(node_name(model, nid, highlight, selected)).replace('"', "&quot;")
        current = ' aria-current="step"' if nid == highlight else ""
        parts.append(f'<g data-node="{_escape(nid)}" role="img" aria-label="{name}"{current}>'
                     f'<rect x="{p.x - p.width / 2 - left:.1f}" '
                     f'y="{down(p.y + p.height / 2):.1f}" width="{p.width:.1f}" height="{p.height:.1f}" '
                     f'fill="{fill}" stroke="{line}" stroke-width="{stroke}"{dash}/>')
        first = down(p.y) - (len(p.lines) - 1) / 2 * LINE_HEIGHT * font_px
        # a space between the lines (of no width, so each line stays centred): read out (and by axe), the text is
        # "w (1, 5) [1.54, …]", not "w (1, 5)[1.54, …]"
        spans = SPACE.join(f'<tspan x="{p.x - left:.1f}" y="{first + i * LINE_HEIGHT * font_px:.1f}">{_escape(t)}'
                        '</tspan>' for i, t in enumerate(p.lines))
        parts.append(f'<text text-anchor="middle" dominant-baseline="central">{spans}</text></g>')
    width, height = right - left, top - bottom
    # the drawing is one tab stop (where its box scrolls, arrows then scroll it), named for a screen reader
    name = f"autograd graph, {len(placed)} nodes"
    return (f'<svg class="graph-svg" tabindex="0" role="group" aria-label="{name}" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'style="max-width:100%;min-width:{width * min(1.0, MIN_LABEL_PX / font_px):.0f}px;height:auto;'
            f'background:white" font-family="{LABEL_FONT}" font-size="{font_px}">'
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
            'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z"/></marker></defs>' + "".join(parts) + "</svg>")


def node_name(model: GraphModel, nid: str, highlight: str | None = None, selected: str | None = None) -> str:
    """A node's accessible name: what its box says (name, shape, value, grad), its kind, and whether it is this
    step's node or the inspected one, e.g. "w (1, 5) [0.3, …], parameter (leaf), inspected" (its
    text as the box shows it comes first: WCAG 2.5.3, the visible label is in the name)."""
    node = model.nodes[nid]
    said = " ".join(line.strip() for line in label_lines(node) if line.strip())  # the box's text first, as shown
    if node.shape is not None and shape_text(node.shape) not in said:
        said += f", shape {shape_text(node.shape)}"
    state = [word for word, on in (("this step", nid == highlight), ("inspected", nid == selected)) if on]
    return ", ".join([said, KIND_WORDS.get(node.kind, node.kind)] + state)


def announcement(model: GraphModel, highlight: str | None, selected: str | None, stepper: str, k: int,
                 last: int) -> str:
    """What a screen reader hears when the step or the inspected node changes (a polite live region), e.g.
    "Backward step 3 of 6: MmBackward0. Inspecting w." Names only: no value that a quiz may be asking for."""
    where = f"{'Forward' if stepper == 'fwd' else 'Backward'} step {k} of {last}"
    said = f"{where}: {model.nodes[highlight].name}." if highlight in model.nodes else f"{where}."
    if selected in model.nodes:
        said += f" Inspecting {model.nodes[selected].name}."
    return said


def _arrow(a: Placed, b: Placed, left: float, down, dashed: bool, label: str) -> str:
    """An arrow from a's bottom to b's top (data flows down the page, from leaves to the output); its label on hover."""
    title = f"<title>{_escape(label)}</title>" if label else ""
    return (f'<line x1="{a.x - left:.1f}" y1="{down(a.y - a.height / 2):.1f}" x2="{b.x - left:.1f}" '
            f'y2="{down(b.y + b.height / 2) - 2:.1f}" stroke="{"#555" if dashed else "black"}" stroke-width="1.5" '
            f'marker-end="url(#arrow)">{title}</line>')


def _colours(nid: str, kind: str, highlight: str | None, selected: str | None) -> tuple[str, str, float]:
    """A box's fill, outline and outline width: this step's node gold and red, the inspected one outlined blue."""
    fill, line, width = FILL.get(kind, "white"), "black", 1.2
    if nid == highlight:
        fill, line, width = HIGHLIGHT_FILL, HIGHLIGHT_LINE, 4
    if nid == selected:
        line, width = SELECTED_LINE, 4
    return fill, line, width


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
