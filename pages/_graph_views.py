"""The Graph page's views: the lesson kept in the session, the view picker, the clickable graph and the inspector.

Only the view that is on screen is computed and drawn (a radio, not st.tabs: hidden tabs would still run)."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import streamlit as st

from explorer.autograd import session, views
from explorer.autograd.lesson import GraphLesson
from explorer.teaching.controls import PageState
from pages._components import light_html
from pages._state import widgets

FONT_PX = {True: 20, False: 14}  # node labels: the body text size in presenter mode (20 px), a little under at a desk
graph_drawing = st.components.v2.component(  # the Graph page's drawing; the Scratchpad's too
    "autograd_graph", js=(Path(__file__).parent / "_graph_drawing.js").read_text(), isolate_styles=False,
    css=".graph-box {overflow: auto; max-height: 85vh}\n.graph-box svg {display: block; margin: 0 auto}\n"
        ".graph-box [data-node] {cursor: pointer}\n")  # several lines: inline CSS, not a file's path


def step_view(lesson: GraphLesson, name: str, k: int, hidden: tuple[str, ...] = ()) -> object:
    """The graph at step `k` of stepper `name`, the step worked out beside it (below it on a projector, so that the
    graph gets the full width), the inspector below; what an open question asks for (`hidden`) as '?'. Returns the
    side panel."""
    present = bool(st.session_state.get("present"))
    panel = views.step_panel(lesson, name, k, session.chosen_node(st.session_state), hidden, FONT_PX[present])
    graph, side = (st.container(), st.container()) if present else st.columns([3, 2])
    with graph:
        draw_graph(panel.drawing, name)
    with side:
        if k == 0:
            st.info(panel.side)
        else:
            light_html(panel.side, key=panel.side_key)  # redrawn at every step: light
    light_html(panel.inspector, key="graph_inspector")  # all of the picked node (or this step's), as one element
    return side


def lesson_extra(name: str, make):
    """Something derived from the current lesson (gradcheck, torchviz's DOT), made on first use and kept with it."""
    return session.extra(st.session_state, name, make)


def view_picker(state: PageState) -> str:
    """Which view is on screen (in the link as graph_view); the hidden views' options are kept."""
    session.settle_view(st.session_state)
    return widgets([st], state, "graph_view")[0]


def say(place, said: list[tuple[str, str]]) -> None:
    """Each (element, text) in `place`: ('error', …) as st.error, ('markdown', …) as st.markdown, and so on;
    ('code', …) as plain text in a code block."""
    for how, text in said:
        if how == "code":
            place.code(text, language="text", wrap_lines=True)
        else:
            getattr(place, how)(text)


def draw_graph(drawing: dict[str, str], name: str) -> None:
    """Our graph as one SVG; click a node (or Tab to it, Enter) to inspect it, scroll to zoom; what drawing["say"]
    says goes to a polite live region."""
    key = f"graph_plot_{name}"
    graph_drawing(key=key, data=drawing, on_clicked_change=partial(session.take_click, st.session_state, key))
    if session.click_taken(st.session_state):
        st.rerun(scope="app")  # the click reran the steps only: the whole page, so that the picker shows the node


def node_picker(lesson: GraphLesson) -> None:
    """Which node the inspector shows: this step's (the highlighted one) or any node of the graph. It sits above the
    steps, outside their fragment: a selectbox redrawn at every step cost a click 10-15 ms in Chromium."""
    labels = session.node_labels(st.session_state, lesson)
    st.selectbox("inspect node (or click it in the graph)", list(labels), key="graph_node", format_func=labels.get,
                 help="The inspector below the graph shows everything about this node of the real graph, unabridged.")
