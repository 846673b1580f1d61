"""The Graph page's views: the clickable graph, the node inspector, explanations, gradcheck, torchviz's picture.

Only the view that is on screen is computed and drawn (a radio, not st.tabs: hidden tabs would still run)."""
from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st
import torch

from explorer import svgplot
from explorer.autograd.gradcheck import GradcheckReport, check_gradients
from explorer.autograd.graph_model import GraphModel
from explorer.autograd.graph_plot import graph_svg
from explorer.autograd.inspector import details_html, inspect_node
from explorer.autograd.lesson import GraphLesson, explanations, run_lesson
from pages._components import light_html

VIEWS = {"fwd": "1 · Forward: op journal", "bwd": "2 · Backward step by step", "check": "3 · Gradcheck",
         "mlp": "4 · Large graph (MLP)"}
FONT_PX = {True: 20, False: 14}  # node labels: the body text size in presenter mode (20 px), a little under at a desk


def presenting() -> bool:
    return bool(st.session_state.get("present"))


def graph_and_side() -> tuple:
    """Where the graph and its side panel go: side by side at a desk; stacked on a projector, so the graph gets
    the full width and its labels their full size."""
    if presenting():
        return st.container(), st.container()
    return tuple(st.columns([3, 2]))


def cached_lesson(frame: pd.DataFrame, row: int, seed: int, text: str, device: str) -> GraphLesson:
    """The lesson for these inputs, computed once and kept in the session (its tensors keep their graph)."""
    key = (id(frame), len(frame), row, seed, text, device)
    held = st.session_state.get("graph_lesson")
    if held is None or held[0] != key:
        held = (key, run_lesson(frame, row, seed, text, device), {})
        st.session_state["graph_lesson"] = held
    return held[1]


def lesson_extra(name: str, make):
    """Something derived from the current lesson (gradcheck, torchviz's DOT), made on first use and kept with it."""
    extras = st.session_state["graph_lesson"][2]
    if name not in extras:
        extras[name] = make()
    return extras[name]


KEPT = ("graph_classic", "graph_classic_after", "graph_node", "graph_mlp_layers", "graph_mlp_hidden", "graph_mlp_cap",
        "graph_mlp_backward", "graph_mlp_collapse", "graph_mlp_hide_acc", "graph_mlp_hide_views", "graph_mlp_expand")


def view_picker() -> str:
    """Which view is on screen (it travels in the link as graph_view).

    Streamlit forgets the value of a widget that a run does not draw; writing each option back keeps it while its
    view is hidden, so a switch back (and the link) finds it unchanged.
    """
    for key in KEPT:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    if st.session_state.get("graph_view") not in VIEWS:
        st.session_state["graph_view"] = "fwd"
    return st.radio("view", list(VIEWS), format_func=VIEWS.get, key="graph_view", horizontal=True,
                    label_visibility="collapsed")


# The drawing in the page's own DOM (no iframe), redrawn only when its SVG changes. A click on a node (not the end
# of a drag) reports the node's id; the wheel zooms in about the pointer (and back out to the fitted size, after
# which it scrolls the page again); a drag pans; a double click fits the graph again.
GRAPH_JS = """
export default function ({ data, parentElement, setTriggerValue }) {
  let box = parentElement.querySelector(".graph-box");
  if (!box) {
    box = Object.assign(document.createElement("div"), {className: "graph-box", zoom: 1});
    parentElement.appendChild(box);
    let press = null;
    box.addEventListener("wheel", e => {
      const zoom = Math.min(8, Math.max(1, box.zoom * (e.deltaY < 0 ? 1.25 : 0.8)));
      if (zoom === box.zoom) return;
      e.preventDefault();
      const r = box.getBoundingClientRect(), px = e.clientX - r.left, py = e.clientY - r.top, f = zoom / box.zoom;
      const sx = (box.scrollLeft + px) * f - px, sy = (box.scrollTop + py) * f - py;
      box.zoom = zoom;
      fit(box);
      box.scrollTo(sx, sy);
    }, {passive: false});
    box.addEventListener("dblclick", () => { box.zoom = 1; fit(box); });
    box.addEventListener("pointerdown", e => { press = {x: e.clientX, y: e.clientY, l: box.scrollLeft,
                                                        t: box.scrollTop, moved: false}; });
    box.addEventListener("pointermove", e => {
      if (!press || !e.buttons) return;
      press.moved ||= Math.abs(e.clientX - press.x) + Math.abs(e.clientY - press.y) > 4;
      box.scrollTo(press.l - (e.clientX - press.x), press.t - (e.clientY - press.y));
    });
    box.addEventListener("click", e => {
      const node = !(press && press.moved) && e.target.closest("[data-node]");
      if (node) box.pick(node.dataset.node);
    });
  }
  box.pick = id => setTriggerValue("clicked", id);
  if (box.svg !== data) {
    box.innerHTML = data;
    box.svg = data;
    fit(box);
  }
}

function fit(box) {  // the fitted width (as wide as the column allows, labels at most their size) times the zoom
  const svg = box.querySelector("svg");
  if (svg) Object.assign(svg.style, {maxWidth: "none", width: `calc(min(100%, ${svg.getAttribute("width")}px) * ${box.zoom})`});
}
"""
GRAPH_CSS = """
.graph-box {overflow: auto; max-height: 85vh}
.graph-box svg {display: block; margin: 0 auto}
.graph-box [data-node] {cursor: pointer}
"""
_graph_drawing = st.components.v2.component("autograd_graph", js=GRAPH_JS, css=GRAPH_CSS, isolate_styles=False)


def _take_click(key: str) -> None:
    """A node clicked in the drawing becomes the inspected node (the picker, outside the steps, shows it after
    the page's next run: draw_graph asks for one)."""
    clicked = (st.session_state.get(key) or {}).get("clicked")
    if clicked:
        st.session_state["graph_node"] = st.session_state["_graph_node_clicked"] = clicked


def draw_graph(model: GraphModel, highlight: str | None, name: str) -> None:
    """Our graph as one SVG with its labels at body-text size; click a node to inspect it, scroll to zoom."""
    key = f"graph_plot_{name}"
    selected = st.session_state.get("graph_node") or None
    svg = graph_svg(model, FONT_PX[presenting()], highlight=highlight,
                    selected=selected if selected in model.nodes else None)
    _graph_drawing(key=key, data=svg, on_clicked_change=partial(_take_click, key))
    if st.session_state.pop("_graph_node_clicked", None):
        st.rerun(scope="app")  # the click reran the steps only: the whole page, so that the picker shows the node


def node_picker(lesson: GraphLesson) -> None:
    """Which node the inspector shows: this step's (the highlighted one) or any node of the graph. It sits above the
    steps, outside their fragment: a selectbox redrawn at every step cost a click 10-15 ms in Chromium."""
    nodes = lesson.after.nodes
    if st.session_state.get("graph_node") not in ["", *nodes]:
        st.session_state["graph_node"] = ""
    st.selectbox("inspect node (or click it in the graph)", ["", *nodes], key="graph_node",
                 format_func=lambda n: f"{nodes[n].name} ({nodes[n].kind}, node {n})" if n else
                 "this step's node (the highlighted one)",
                 help="The inspector below the graph shows everything about this node of the real graph, unabridged.")


def inspector(lesson: GraphLesson, model: GraphModel, active: str | None, steps: int | None) -> None:
    """All of the picked node (or this step's): value, grad, grad_fn, saved tensors, next_functions, its step."""
    chosen, note = st.session_state.get("graph_node") or "", ""
    if chosen not in model.nodes:
        if chosen:  # the forward pass has not built it yet
            note = f'<p class="light-note">{lesson.after.nodes[chosen].name} is not built yet at this step: ' \
                   "this is the step's own node.</p>"
        chosen = active or model.root
    light_html(note + details_html(inspect_node(lesson, chosen, steps)), key="graph_inspector")  # one element


def why_gradients(lesson: GraphLesson) -> None:
    """Each leaf's gradient from the chain rule that ran, and w.grad == x only where it holds."""
    for paragraph in explanations(lesson):
        st.markdown(paragraph)
    w_is_x = torch.equal(lesson.w.grad, lesson.x)
    if w_is_x:
        st.success("Here **w.grad == x** exactly: y is linear in w (y = x₀w₀ + … + x₄w₄ + b), so ∂y/∂wᵢ = xᵢ.")
    else:
        st.info(f"Here w.grad ≠ x: `{lesson.expression.text}` multiplies x by the factors above.")


def gradcheck_view(lesson: GraphLesson) -> GradcheckReport:
    """Autograd against finite differences; the verdict's colour follows the verdict."""
    report = lesson_extra("gradcheck", lambda: check_gradients(lesson.expression, lesson.x, lesson.w, lesson.b))
    st.markdown(f"Autograd's Jacobian against central finite differences (eps = {report.eps:g}) in float64; "
                f"PASS when |diff| ≤ {report.atol:g} + {report.rtol:g}·|numeric| everywhere (gradcheck's rule).")
    light_html(svgplot.table(pd.DataFrame([leaf.as_row() for leaf in report.leaves]), "graph-gradcheck"),
               key="graph_gradcheck")
    if report.nonfinite:
        st.warning(f"Not checkable: the function or its gradient is **{report.nonfinite}** at this input, so "
                   "neither PASS nor FAIL means anything (torch.autograd.gradcheck reports "
                   f"{'PASS' if report.torch_gradcheck else 'FAIL'}). See what made it above.")
    elif report.torch_gradcheck:
        st.success("torch.autograd.gradcheck on the same function: PASS")
    else:
        st.error("torch.autograd.gradcheck on the same function: FAIL")
    return report
