"""The Graph page's views: the lesson kept in the session, the view picker, the clickable graph and the inspector.

Only the view that is on screen is computed and drawn (a radio, not st.tabs: hidden tabs would still run)."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from explorer.autograd import session, views
from explorer.autograd.graph_model import GraphModel
from explorer.autograd.graph_plot import announcement, graph_svg
from explorer.autograd.lesson import GraphLesson
from pages._components import light_html

FONT_PX = {True: 20, False: 14}  # node labels: the body text size in presenter mode (20 px), a little under at a desk
_graph_drawing = st.components.v2.component(
    "autograd_graph", js=(Path(__file__).parent / "_graph_drawing.js").read_text(), isolate_styles=False,
    css=".graph-box {overflow: auto; max-height: 85vh}\n.graph-box svg {display: block; margin: 0 auto}\n"
        ".graph-box [data-node] {cursor: pointer}\n")  # several lines: inline CSS, not a file's path


def step_view(lesson: GraphLesson, name: str, k: int, hidden: tuple[str, ...] = ()) -> object:
    """The graph at step `k` of stepper `name`; beside it (below it on a projector, so the graph gets the full width
    and its labels their full size) the step worked out (redrawn at every step: light), or at step 0 what is there
    before it; the inspector below; what an open question asks for (`hidden`) as '?'. Returns the side panel."""
    panel = views.step_panel(lesson, name, k, session.chosen_node(st.session_state), hidden)
    graph, side = (st.container(), st.container()) if st.session_state.get("present") else st.columns([3, 2])
    with graph:
        last = len(lesson.journal.entries if name == "fwd" else lesson.trace.steps)
        draw_graph(panel.model, panel.active, name, announcement(panel.model, panel.active,
                                                                 session.chosen_node(st.session_state), name, k, last))
    with side:
        if k == 0:
            st.info(panel.side)
        else:
            light_html(panel.side, key=panel.side_key)
    light_html(panel.inspector, key="graph_inspector")  # all of the picked node (or this step's), as one element
    return side


def lesson_or_last_good(frame: pd.DataFrame, row: int, seed: int, text: str, device: str) -> GraphLesson:
    """The lesson for these inputs, kept in the session; a refused expression is named, the last good one shown."""
    lesson, refused = session.kept_lesson(st.session_state, frame, row, seed, text, device)
    if refused:
        st.error(refused)
    return lesson


def lesson_extra(name: str, make):
    """Something derived from the current lesson (gradcheck, torchviz's DOT), made on first use and kept with it."""
    return session.extra(st.session_state, name, make)


def view_picker() -> str:
    """Which view is on screen (in the link as graph_view); the hidden views' options are kept."""
    session.settle_view(st.session_state)
    return st.radio("view", list(session.VIEWS), format_func=session.VIEWS.get, key="graph_view", horizontal=True,
                    label_visibility="collapsed")


def draw_graph(model: GraphModel, highlight: str | None, name: str, say: str = "") -> None:
    """Our graph as one SVG with its labels at body-text size; click a node (or Tab to it, Enter) to inspect it,
    scroll to zoom; `say` goes to a polite live region (the step and the inspected node)."""
    key, selected = f"graph_plot_{name}", session.chosen_node(st.session_state) or None
    svg = graph_svg(model, FONT_PX[bool(st.session_state.get("present"))], highlight=highlight,
                    selected=selected if selected in model.nodes else None)
    _graph_drawing(key=key, data={"svg": svg, "say": say},
                   on_clicked_change=partial(session.take_click, st.session_state, key))
    if session.click_taken(st.session_state):
        st.rerun(scope="app")  # the click reran the steps only: the whole page, so that the picker shows the node


def node_picker(lesson: GraphLesson) -> None:
    """Which node the inspector shows: this step's (the highlighted one) or any node of the graph. It sits above the
    steps, outside their fragment: a selectbox redrawn at every step cost a click 10-15 ms in Chromium."""
    labels = session.node_labels(st.session_state, lesson)
    st.selectbox("inspect node (or click it in the graph)", list(labels), key="graph_node", format_func=labels.get,
                 help="The inspector below the graph shows everything about this node of the real graph, unabridged.")
