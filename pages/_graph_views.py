"""The Graph page's views: the lesson kept in the session, the view picker, the clickable graph and the inspector.

Only the view that is on screen is computed and drawn (a radio, not st.tabs: hidden tabs would still run)."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from explorer.autograd.graph_model import GraphModel
from explorer.autograd.graph_plot import graph_svg
from explorer.autograd.expr import ExpressionError
from explorer.autograd.lesson import DEFAULT_EXPRESSION, GraphLesson, run_lesson
from explorer.autograd import views
from explorer.data.sources import literal
from pages._components import light_html

VIEWS = {"fwd": "1 · Forward: op journal", "bwd": "2 · Backward step by step", "check": "3 · Gradcheck",
         "mlp": "4 · Large graph (MLP)"}
FONT_PX = {True: 20, False: 14}  # node labels: the body text size in presenter mode (20 px), a little under at a desk
KEPT = ("graph_classic", "graph_classic_after", "graph_node", "graph_mlp_layers", "graph_mlp_hidden", "graph_mlp_cap",
        "graph_mlp_backward", "graph_mlp_collapse", "graph_mlp_hide_acc", "graph_mlp_hide_views", "graph_mlp_expand")
_graph_drawing = st.components.v2.component(
    "autograd_graph", js=(Path(__file__).parent / "_graph_drawing.js").read_text(), isolate_styles=False,
    css=".graph-box {overflow: auto; max-height: 85vh}\n.graph-box svg {display: block; margin: 0 auto}\n"
        ".graph-box [data-node] {cursor: pointer}\n")  # several lines: inline CSS, not a file's path


def step_view(lesson: GraphLesson, name: str, k: int, before: str, side_html) -> object:
    """The graph at step `k` of stepper `name`; beside it (below it on a projector, so the graph gets the full width
    and its labels their full size) `before` at step 0, else side_html() (redrawn at every step: light); the
    inspector below. Returns the side panel."""
    model, active = (views.forward_view if name == "fwd" else views.backward_view)(lesson, k)
    graph, side = (st.container(), st.container()) if st.session_state.get("present") else st.columns([3, 2])
    with graph:
        draw_graph(model, active, name)
    with side:
        if k == 0:
            st.info(before)
        else:
            light_html(side_html(), key={"fwd": "graph_journal", "bwd": "graph_steps"}[name])
    html = views.inspector_html(lesson, model, st.session_state.get("graph_node") or "", active,
                                None if name == "fwd" else k)
    light_html(html, key="graph_inspector")  # all of the picked node (or this step's), as one element
    return side


def lesson_or_last_good(frame: pd.DataFrame, row: int, seed: int, text: str, device: str) -> GraphLesson:
    """The lesson for these inputs, run once and kept in the session (its tensors keep their graph); when the
    expression is refused, say why and keep showing the last good one."""
    try:
        lesson = _kept_lesson(frame, row, seed, text, device)
        st.session_state["graph_last_good"] = text
        return lesson
    except ExpressionError as err:
        last = st.session_state.get("graph_last_good", DEFAULT_EXPRESSION)
        st.error(f"Expression not accepted: {literal(err, keep_code=True)}. Still showing `{last}`.")
        return _kept_lesson(frame, row, seed, last, device)


def _kept_lesson(frame: pd.DataFrame, row: int, seed: int, text: str, device: str) -> GraphLesson:
    key = (id(frame), len(frame), row, seed, text, device)
    if st.session_state.get("graph_lesson", (None,))[0] != key:
        st.session_state["graph_lesson"] = (key, run_lesson(frame, row, seed, text, device), {})
    return st.session_state["graph_lesson"][1]


def lesson_extra(name: str, make):
    """Something derived from the current lesson (gradcheck, torchviz's DOT), made on first use and kept with it."""
    extras = st.session_state["graph_lesson"][2]
    if name not in extras:
        extras[name] = make()
    return extras[name]


def view_picker() -> str:
    """Which view is on screen (in the link as graph_view). Streamlit forgets a widget a run does not draw: each
    option is written back, so a switch back (and the link) finds it unchanged while its view is hidden."""
    for key in KEPT:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    if st.session_state.get("graph_view") not in VIEWS:
        st.session_state["graph_view"] = "fwd"
    return st.radio("view", list(VIEWS), format_func=VIEWS.get, key="graph_view", horizontal=True,
                    label_visibility="collapsed")


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
    svg = graph_svg(model, FONT_PX[bool(st.session_state.get("present"))], highlight=highlight,
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

