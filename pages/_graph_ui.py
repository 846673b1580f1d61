"""Widgets for the Graph page: step controls with play, and the large-graph (MLP) section."""
from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from explorer.graph import build_graph, graph_to_dot
from explorer.large_graph import make_mlp, mlp_loss, tag_modules
from pages._common import current_candles, show_code

PLAY_DELAY = 0.7  # seconds between steps while playing


def _pos(name: str) -> str:
    return f"graph_{name}_pos"


def _move(name: str, delta: int, last: int) -> None:
    st.session_state[_pos(name)] = max(0, min(last, st.session_state[_pos(name)] + delta))
    st.session_state[f"graph_{name}_playing"] = False


def _play(name: str, last: int) -> None:
    playing = f"graph_{name}_playing"
    st.session_state[playing] = not st.session_state.get(playing, False)
    if st.session_state[playing] and st.session_state[_pos(name)] >= last:
        st.session_state[_pos(name)] = 0  # play from the start when already at the end


def _slid(name: str) -> None:
    st.session_state[_pos(name)] = st.session_state[f"graph_{name}_slider"]
    st.session_state[f"graph_{name}_playing"] = False


def stepper(name: str, last: int, label: str, default: int) -> int:
    """Previous / next / play and a slider over steps 0..last; the position lives in session_state."""
    pos, playing = _pos(name), f"graph_{name}_playing"
    st.session_state[pos] = max(0, min(last, st.session_state.get(pos, default)))
    if st.session_state.get(playing) and st.session_state[pos] >= last:
        st.session_state[playing] = False  # reached the end: stop
    st.session_state[f"graph_{name}_slider"] = st.session_state[pos]
    cols = st.columns([1, 1, 1, 5], vertical_alignment="bottom")
    at, playing_now = st.session_state[pos], bool(st.session_state.get(playing))
    cols[0].button("Previous", key=f"graph_{name}_prev", icon=":material/skip_previous:", on_click=_move,
                   args=(name, -1, last), disabled=at == 0, width="stretch")
    cols[1].button("Next", key=f"graph_{name}_next", icon=":material/skip_next:", on_click=_move,
                   args=(name, 1, last), disabled=at >= last, width="stretch")
    cols[2].button("Pause" if playing_now else "Play", key=f"graph_{name}_play", on_click=_play, args=(name, last),
                   icon=":material/pause:" if playing_now else ":material/play_arrow:", width="stretch")
    cols[3].slider(label, 0, max(last, 1), key=f"graph_{name}_slider", on_change=_slid, args=(name,),
                   disabled=last == 0)
    return st.session_state[pos]


def advance_players(lasts: dict[str, int]) -> None:
    """Called at the end of the page: a playing stepper moves one step, then the page reruns."""
    for name, last in lasts.items():
        if st.session_state.get(f"graph_{name}_playing") and st.session_state[_pos(name)] < last:
            time.sleep(PLAY_DELAY)
            st.session_state[_pos(name)] += 1
            st.rerun()


@dataclass
class LargeGraphControls:
    """What the learner chose for the MLP graph."""
    layers: int
    hidden: int
    collapse: bool
    hide_accumulate: bool
    hide_views: bool
    max_nodes: int
    after_backward: bool


def large_graph_controls() -> LargeGraphControls:
    """Read the MLP-graph widgets."""
    c = st.columns(4)
    layers = c[0].slider("hidden layers", 1, 60, 2, key="graph_mlp_layers")
    hidden = c[1].select_slider("width", [4, 8, 16, 32, 64], 16, key="graph_mlp_hidden")
    max_nodes = c[2].slider("node cap", 20, 400, 150, step=10, key="graph_mlp_cap")
    after = c[3].toggle("after backward()", key="graph_mlp_backward")
    t = st.columns(3)
    return LargeGraphControls(layers, hidden, t[0].toggle("one node per module", True, key="graph_mlp_collapse"),
                              t[1].toggle("hide AccumulateGrad", key="graph_mlp_hide_acc"),
                              t[2].toggle("hide view / reshape nodes", key="graph_mlp_hide_views"),
                              max_nodes, after)


def large_graph_section() -> None:
    """A small MLP's loss on lagged candles: the same graph view, made readable at scale."""
    st.markdown("A model's loss has far more nodes. Collapse each `nn.Module` to one node (expand the ones you "
                "want to see inside), hide bookkeeping nodes, and cap how many nodes the browser lays out.")
    ctl = large_graph_controls()
    loss, params, model = mlp_loss(current_candles().frame, hidden=ctl.hidden, layers=ctl.layers)
    if ctl.after_backward:
        loss.backward()
    leaf_modules = [n for n, m in model.named_modules() if n and not list(m.children())]
    expand = st.multiselect("expand modules", leaf_modules, key="graph_mlp_expand", disabled=not ctl.collapse,
                            format_func=lambda n: f"{n}: {type(model.get_submodule(n)).__name__}")
    graph = build_graph(loss, params, output_name="loss", collapse=ctl.collapse, expand=set(expand),
                        hide_accumulate=ctl.hide_accumulate, hide_views=ctl.hide_views, max_nodes=ctl.max_nodes)
    for note in graph.notes:
        (st.warning if "only the" in note else st.caption)(note)
    st.caption(f"{graph.total_nodes} nodes in the full graph · {len(graph.nodes)} drawn · loss = {loss.item():.4f}")
    dot = graph_to_dot(graph)
    st.graphviz_chart(dot)
    st.download_button("Download DOT", dot, "mlp_graph.dot", key="graph_mlp_download", on_click="ignore")
    show_code(mlp_loss, make_mlp, tag_modules)
