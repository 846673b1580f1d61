"""The Graph page's glue: the steppers (with play), the graph at a step (clickable) with the inspector, the node
picker, the large-graph (MLP) section; the drawing serves the Scratchpad too.

Only the view that is on screen is computed and drawn (a radio, not st.tabs: hidden tabs would still run)."""
from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer.autograd import controls, session, steps, views
from explorer.autograd.large_graph import lagged_batch, make_mlp, mlp_loss
from explorer.autograd.lesson import GraphLesson
from explorer.teaching.controls import PageState
from pages._common import current_candles, current_device, publish_state, show_code
from pages._components import graphviz_chart, label_px, light_html, say
from pages._state import PRESENT_KEY, init_widgets, widgets

graph_drawing = st.components.v2.component(  # the Graph page's drawing; the Scratchpad's too
    "autograd_graph", js=(Path(__file__).parent / "_graph_drawing.js").read_text(), isolate_styles=False,
    css=".graph-box {overflow: auto; max-height: 85vh}\n.graph-box svg {display: block; margin: 0 auto}\n"
        ".graph-box [data-node] {cursor: pointer}\n")  # several lines: inline CSS, not a file's path
PLAY_DELAY = 0.7  # seconds between steps while playing


def step_view(lesson: GraphLesson, name: str, k: int, hidden: tuple[str, ...] = ()) -> object:
    """The graph at step `k` of stepper `name`, the step worked out beside it (below it on a projector, so that the
    graph gets the full width), the inspector below; what an open question asks for (`hidden`) as '?'. Returns the
    side panel."""
    panel = views.step_panel(lesson, name, k, session.chosen_node(st.session_state), hidden, label_px())
    graph, side = (st.container(), st.container()) if st.session_state.get(PRESENT_KEY) else st.columns([3, 2])
    with graph:  # click a node (or Tab to it, Enter) to inspect it, scroll to zoom; "say" goes to a live region
        key = f"graph_plot_{name}"
        graph_drawing(key=key, data=panel.drawing, on_clicked_change=partial(session.take_click, st.session_state, key))
        if session.click_taken(st.session_state):
            st.rerun(scope="app")  # the click reran the steps only: the whole page, so that the picker shows the node
    with side:
        if k == 0:
            st.info(panel.side)
        else:
            light_html(panel.side, key=panel.side_key)  # redrawn at every step: light
    light_html(panel.inspector, key="graph_inspector")  # all of the picked node (or this step's), as one element
    return side


def lesson_extra(name: str, make):
    """Something derived from the current lesson (its printout, gradcheck, …), made on first use and kept with it."""
    return session.extra(st.session_state, name, make)


def node_picker(lesson: GraphLesson) -> None:
    """Which node the inspector shows: this step's (the highlighted one) or any node of the graph. It sits above the
    steps, outside their fragment: a selectbox redrawn at every step cost a click 10-15 ms in Chromium."""
    labels = session.node_labels(st.session_state, lesson)
    st.selectbox("inspect node (or click it in the graph)", list(labels), key="graph_node", format_func=labels.get,
                 help="The inspector below the graph shows everything about this node of the real graph, unabridged.")


def stepper(name: str, last: int, default: int) -> int:
    """Previous / next / play (keyboard Left, Right, P) and a slider over steps 0..last; the position on screen."""
    state = st.session_state
    steps.settle(state, name, last, default)
    widths = [6, 5, 5, 8] if state.get(PRESENT_KEY) else [5, 4, 4, 12]  # label + shortcut hint fit
    cols = st.columns(widths, vertical_alignment="bottom")
    for col, button in zip(cols, steps.buttons(state, name, last)):
        col.button(**button, width="stretch")
    cols[3].slider(**steps.slider(state, name, last))
    return state[steps.pos_key(name)]


def advance_players(name: str, last: int, state: PageState) -> None:
    """Called at the end of a stepper's panel: the link carries the step on screen; while playing, the stepper moves
    one step, then the panel reruns."""
    publish_state(*state.spec)
    if st.session_state.get(steps.playing_key(name)) and st.session_state[steps.pos_key(name)] < last:
        time.sleep(PLAY_DELAY)
        steps.advance(st.session_state, name, last)
        try:
            st.rerun(scope="fragment")
        except StreamlitAPIException:  # the panel ran as part of the whole page (not allowed there): rerun that
            st.rerun()


def large_graph_section(state: PageState) -> None:
    """A small MLP's loss on lagged candles: the same graph view, made readable at scale."""
    st.markdown(views.MLP_INTRO)
    with st.container(key="secondary_graph_mlp_controls"):
        init_widgets(controls.first_values(state, mlp=True))
        widgets(st.columns(4), state, *controls.MLP_WIDGETS)
        widgets(st.columns(3), state, *controls.MLP_TOGGLES)
    options = controls.mlp_options(st.session_state)
    loss, params, modules = views.mlp_run(current_candles().frame, options, current_device())
    expand = st.multiselect(**controls.expand_picker(modules, options.collapse))
    said, dot = views.mlp_graph(loss, params, options, expand)
    say(st, said)
    graphviz_chart(dot, "graph_mlp_chart")
    with st.container(key="secondary_graph_mlp_code"):
        st.download_button("Download DOT", dot, "mlp_graph.dot", key="graph_mlp_download", on_click="ignore",
                           help="This graph as Graphviz DOT text.")
        show_code(lagged_batch, make_mlp, mlp_loss)
