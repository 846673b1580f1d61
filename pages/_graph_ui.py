"""Widgets for the Graph page: step controls with play, and the large-graph (MLP) section."""
from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer.autograd.graph import build_graph
from explorer.autograd.graph_dot import graph_to_dot
from explorer.autograd.large_graph import make_mlp, mlp_loss, tag_modules
from explorer.teaching.shareable import Shared
from pages._common import current_candles, current_device, show_code
from pages._components import graphviz_chart
from pages._state import init_widgets

PLAY_DELAY = 0.7  # seconds between steps while playing
MAX_POSITION = 1000  # more ops than any whitelisted expression can make
STEPPERS = {"fwd": "op of the forward journal", "bwd": "backward step"}


def lesson_spec(n_rows: int) -> tuple[Shared, ...]:
    """What a Graph link carries: row, seed, expression, both step positions and the view options."""
    return (Shared("graph_row", "int", 0, n_rows - 1), Shared("graph_seed", "int", 0, 2**31 - 1),
            Shared("graph_expr", "str", max_len=300), Shared("graph_fwd_pos", "int", 0, MAX_POSITION),
            Shared("graph_bwd_pos", "int", 0, MAX_POSITION), Shared("graph_classic", "bool"),
            Shared("graph_classic_after", "bool"), Shared("graph_mlp_layers", "int", 1, 60),
            Shared("graph_mlp_hidden", "int", choices=(4, 8, 16, 32, 64)),
            Shared("graph_mlp_cap", "int", 20, 400, choices=tuple(range(20, 401, 10))),
            Shared("graph_mlp_backward", "bool"), Shared("graph_mlp_collapse", "bool"),
            Shared("graph_mlp_hide_acc", "bool"), Shared("graph_mlp_hide_views", "bool"),
            Shared("graph_view", "str", choices=("fwd", "bwd", "check", "mlp")),
            Shared("graph_node", "str", max_len=20))


def start_over_when_changed(signature: tuple) -> None:
    """A new row, seed or expression is a new lesson: the steppers start over (not on the first show: a link's
    positions belong to the lesson it describes)."""
    if "graph_sig" in st.session_state and st.session_state["graph_sig"] != signature:
        for key in ("graph_fwd_pos", "graph_bwd_pos", "graph_fwd_playing", "graph_bwd_playing"):
            st.session_state.pop(key, None)
    st.session_state["graph_sig"] = signature


def refuse_past_end(lasts: dict[str, int]) -> None:
    """A link's step position beyond this lesson's last step: say so, and show the last step."""
    for name, last in lasts.items():
        at = st.session_state.get(_pos(name))
        if at is not None and at > last:
            st.warning(f"Link parameter `{_pos(name)}` = {at} is past the last {STEPPERS[name]} of this "
                       f"expression ({last}): showing step {last}.")
            st.session_state[_pos(name)] = last


def readable_dot(dot: str | None) -> str | None:
    """torchviz's DOT with a white page and black text, so it reads the same in the dark theme."""
    if dot is None:
        return None
    dot = dot.replace("fontname=monospace", "fontname=Courier")  # a font whose metrics graphviz knows: text fits
    return dot.replace("{", "{\n\tbgcolor=white\n\tnode [fontcolor=black]\n\tedge [color=black]", 1)


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


def stepper(name: str, last: int, label: str, default: int, keys: tuple[str, str, str]) -> int:
    """Previous / next / play (keyboard `keys`) and a slider over steps 0..last; the position lives in session_state."""
    pos, playing = _pos(name), f"graph_{name}_playing"
    st.session_state[pos] = max(0, min(last, st.session_state.get(pos, default)))
    if st.session_state.get(playing) and st.session_state[pos] >= last:
        st.session_state[playing] = False  # reached the end: stop
    st.session_state[f"graph_{name}_slider"] = st.session_state[pos]
    widths = [6, 5, 5, 8] if st.session_state.get("present") else [5, 4, 4, 12]  # label + shortcut hint fit
    cols = st.columns(widths, vertical_alignment="bottom")
    at, playing_now = st.session_state[pos], bool(st.session_state.get(playing))
    what = STEPPERS[name]
    cols[0].button("Previous", key=f"graph_{name}_prev", icon=":material/skip_previous:", on_click=_move,
                   args=(name, -1, last), disabled=at == 0, width="stretch", shortcut=keys[0],
                   help=f"One {what} back (keyboard: {keys[0]}).")
    cols[1].button("Next", key=f"graph_{name}_next", icon=":material/skip_next:", on_click=_move,
                   args=(name, 1, last), disabled=at >= last, width="stretch", shortcut=keys[1],
                   help=f"One {what} further (keyboard: {keys[1]}).")
    cols[2].button("Pause" if playing_now else "Play", key=f"graph_{name}_play", on_click=_play, args=(name, last),
                   icon=":material/pause:" if playing_now else ":material/play_arrow:", width="stretch",
                   shortcut=keys[2], help=f"Step through every {what} on its own (keyboard: {keys[2]}).")
    cols[3].slider(label, 0, max(last, 1), key=f"graph_{name}_slider", on_change=_slid, args=(name,),
                   disabled=last == 0, help=f"Jump to any {what}; 0 is before the first.")
    return st.session_state[pos]


def advance_players(name: str, last: int) -> None:
    """Called at the end of a stepper's panel: while playing, the stepper moves one step, then the panel reruns."""
    if st.session_state.get(f"graph_{name}_playing") and st.session_state[_pos(name)] < last:
        time.sleep(PLAY_DELAY)
        st.session_state[_pos(name)] += 1
        try:
            st.rerun(scope="fragment")
        except StreamlitAPIException:  # the panel ran as part of the whole page (not allowed there): rerun that
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
    init_widgets({"graph_mlp_layers": 2, "graph_mlp_hidden": 16, "graph_mlp_cap": 150, "graph_mlp_collapse": True})
    c = st.columns(4)
    layers = c[0].slider("hidden layers", 1, 60, key="graph_mlp_layers", help="Linear + ReLU blocks in the MLP.")
    hidden = c[1].select_slider("width", [4, 8, 16, 32, 64], key="graph_mlp_hidden",
                                help="Units per hidden layer (changes shapes, not the number of nodes).")
    max_nodes = c[2].slider("node cap", 20, 400, step=10, key="graph_mlp_cap",
                            help="At most this many nodes are drawn, the ones nearest the loss first.")
    after = c[3].toggle("after backward()", key="graph_mlp_backward",
                        help="Run loss.backward() first: parameters show their grad, saved tensors are freed.")
    t = st.columns(3)
    return LargeGraphControls(
        layers, hidden, t[0].toggle("one node per module", key="graph_mlp_collapse",
                                    help="Draw each nn.Module as one box; expand chosen ones below."),
        t[1].toggle("hide AccumulateGrad", key="graph_mlp_hide_acc",
                    help="Leave out the nodes that write .grad into each parameter."),
        t[2].toggle("hide view / reshape nodes", key="graph_mlp_hide_views",
                    help="Leave out shape bookkeeping (ViewBackward0, TBackward0, ...)."), max_nodes, after)


def large_graph_section() -> None:
    """A small MLP's loss on lagged candles: the same graph view, made readable at scale."""
    st.markdown("A model's loss has far more nodes. Collapse each `nn.Module` to one node (expand the ones you "
                "want to see inside), hide bookkeeping nodes, and cap how many nodes the browser lays out.")
    with st.container(key="secondary_graph_mlp_controls"):
        ctl = large_graph_controls()
    loss, params, model = mlp_loss(current_candles().frame, hidden=ctl.hidden, layers=ctl.layers,
                                   device=current_device())
    if ctl.after_backward:
        loss.backward()
    leaf_modules = [n for n, m in model.named_modules() if n and not list(m.children())]
    expand = st.multiselect("expand modules", leaf_modules, key="graph_mlp_expand", disabled=not ctl.collapse,
                            format_func=lambda n: f"{n}: {type(model.get_submodule(n)).__name__}",
                            help="Modules drawn op by op instead of as one box.")
    graph = build_graph(loss, params, output_name="loss", collapse=ctl.collapse, expand=set(expand),
                        hide_accumulate=ctl.hide_accumulate, hide_views=ctl.hide_views, max_nodes=ctl.max_nodes)
    for note in graph.notes:
        (st.warning if "only the" in note else st.caption)(note)
    st.caption(f"{graph.total_nodes} nodes in the full graph · {len(graph.nodes)} drawn · loss = {loss.item():.4f}")
    dot = graph_to_dot(graph)
    graphviz_chart(dot, "graph_mlp_chart")
    with st.container(key="secondary_graph_mlp_code"):
        st.download_button("Download DOT", dot, "mlp_graph.dot", key="graph_mlp_download", on_click="ignore",
                           help="This graph as Graphviz DOT text.")
        show_code(mlp_loss, make_mlp, tag_modules)
