"""Widgets for the Graph page: step controls with play, and the large-graph (MLP) section."""
from __future__ import annotations

import time

import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer.autograd import controls, steps, views
from explorer.autograd.large_graph import lagged_batch, make_mlp, mlp_loss
from explorer.teaching.controls import PageState
from pages._common import current_candles, current_device, publish_state, show_code
from pages._components import graphviz_chart
from pages._graph_views import say
from pages._state import init_widgets, widgets

PLAY_DELAY = 0.7  # seconds between steps while playing


def stepper(name: str, last: int, default: int) -> int:
    """Previous / next / play (keyboard Left, Right, P) and a slider over steps 0..last; the position lives in
    session_state."""
    state = st.session_state
    steps.settle(state, name, last, default)
    widths = [6, 5, 5, 8] if state.get("present") else [5, 4, 4, 12]  # label + shortcut hint fit
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
