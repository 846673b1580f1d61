"""Widgets for the Graph page: step controls with play, and the large-graph (MLP) section."""
from __future__ import annotations

import time

import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer.autograd import steps
from explorer.autograd.graph_dot import graph_to_dot
from explorer.autograd.large_graph import lagged_batch, leaf_modules, make_mlp, mlp_loss, tagged_mlp_loss
from explorer.autograd.views import MLP_INTRO, MlpOptions, mlp_graph
from pages._common import current_candles, current_device, show_code
from pages._components import graphviz_chart
from pages._state import init_widgets

PLAY_DELAY = 0.7  # seconds between steps while playing
MLP_TOGGLES = (("graph_mlp_collapse", "one node per module", "Draw each nn.Module as one box; expand chosen ones below."),
               ("graph_mlp_hide_acc", "hide AccumulateGrad", "Leave out the nodes that write .grad into each parameter."),
               ("graph_mlp_hide_views", "hide view / reshape nodes",
                "Leave out shape bookkeeping (ViewBackward0, TBackward0, ...)."))


def stepper(name: str, last: int, label: str, default: int, keys: tuple[str, str, str] = ("Left", "Right", "P")) -> int:
    """Previous / next / play (keyboard `keys`) and a slider over steps 0..last; the position lives in session_state."""
    state = st.session_state
    at, playing = steps.settle(state, name, last, default), bool(state.get(steps.playing_key(name)))
    widths = [6, 5, 5, 8] if state.get("present") else [5, 4, 4, 12]  # label + shortcut hint fit
    cols, what = st.columns(widths, vertical_alignment="bottom"), steps.STEPPERS[name]
    cols[0].button("Previous", key=f"graph_{name}_prev", icon=":material/skip_previous:", on_click=steps.move,
                   args=(state, name, -1, last), disabled=at == 0, width="stretch", shortcut=keys[0],
                   help=f"One {what} back (keyboard: {keys[0]}).")
    cols[1].button("Next", key=f"graph_{name}_next", icon=":material/skip_next:", on_click=steps.move,
                   args=(state, name, 1, last), disabled=at >= last, width="stretch", shortcut=keys[1],
                   help=f"One {what} further (keyboard: {keys[1]}).")
    cols[2].button("Pause" if playing else "Play", key=f"graph_{name}_play", on_click=steps.toggle_play,
                   args=(state, name, last), icon=":material/pause:" if playing else ":material/play_arrow:",
                   width="stretch", shortcut=keys[2], help=f"Step through every {what} on its own (keyboard: {keys[2]}).")
    cols[3].slider(label, 0, max(last, 1), key=f"graph_{name}_slider", on_change=steps.slid, args=(state, name),
                   disabled=last == 0, help=f"Jump to any {what}; 0 is before the first.")
    return state[steps.pos_key(name)]


def advance_players(name: str, last: int) -> None:
    """Called at the end of a stepper's panel: while playing, the stepper moves one step, then the panel reruns."""
    if st.session_state.get(steps.playing_key(name)) and st.session_state[steps.pos_key(name)] < last:
        time.sleep(PLAY_DELAY)
        steps.advance(st.session_state, name, last)
        try:
            st.rerun(scope="fragment")
        except StreamlitAPIException:  # the panel ran as part of the whole page (not allowed there): rerun that
            st.rerun()


def large_graph_controls() -> MlpOptions:
    """Read the MLP-graph widgets."""
    init_widgets({"graph_mlp_layers": 2, "graph_mlp_hidden": 16, "graph_mlp_cap": 150, "graph_mlp_collapse": True})
    c = st.columns(4)
    layers = c[0].slider("hidden layers", 1, 60, key="graph_mlp_layers", help="Linear + ReLU blocks in the MLP.")
    hidden = c[1].select_slider("width", [4, 8, 16, 32, 64], key="graph_mlp_hidden",
                                help="Units per hidden layer (changes shapes, not the number of nodes).")
    max_nodes = c[2].slider("node cap", 20, 400, step=10, key="graph_mlp_cap",
                            help="At most this many nodes are drawn, the ones nearest the loss first.")
    after = c[3].toggle("after backward()", key="graph_mlp_backward",
                        help="Run loss.backward() first: parameters show their grad, saved tensors are freed.")
    collapse, hide_acc, hide_views = (col.toggle(label, key=key, help=tip)
                                      for col, (key, label, tip) in zip(st.columns(3), MLP_TOGGLES))
    return MlpOptions(layers, hidden, collapse, hide_acc, hide_views, max_nodes, after)


def large_graph_section() -> None:
    """A small MLP's loss on lagged candles: the same graph view, made readable at scale."""
    st.markdown(MLP_INTRO)
    with st.container(key="secondary_graph_mlp_controls"):
        ctl = large_graph_controls()
    loss, params, model = tagged_mlp_loss(current_candles().frame, hidden=ctl.hidden, layers=ctl.layers,
                                          device=current_device(), backward=ctl.after_backward)
    modules = leaf_modules(model)
    expand = st.multiselect("expand modules", list(modules), key="graph_mlp_expand", disabled=not ctl.collapse,
                            format_func=modules.get, help="Modules drawn op by op instead of as one box.")
    graph, caption = mlp_graph(loss, params, ctl, expand)
    for note in graph.notes:
        (st.warning if "only the" in note else st.caption)(note)
    st.caption(caption)
    dot = graph_to_dot(graph)
    graphviz_chart(dot, "graph_mlp_chart")
    with st.container(key="secondary_graph_mlp_code"):
        st.download_button("Download DOT", dot, "mlp_graph.dot", key="graph_mlp_download", on_click="ignore",
                           help="This graph as Graphviz DOT text.")
        show_code(lagged_batch, make_mlp, mlp_loss)
