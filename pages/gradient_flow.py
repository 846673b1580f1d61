"""Gradient flow: the gradient norm of each layer of a deep MLP on lagged candle features, at init and while it
trains (PyTorch's "Visualizing Gradients" tutorial: sigmoid against relu, PyTorch's init against the seed's)."""
from __future__ import annotations

import streamlit as st

from explorer import svgplot
from explorer.mechanics import flow
from explorer.mechanics.scripts import flow_takehome
from explorer.teaching.questions import smallest_layer_gradient
from explorer.teaching.shareable import Shared
from explorer.training.features import FeatureError
from pages._common import current_candles, publish_state, share_state, show_code
from pages._components import light_html, take_home
from pages._quiz import quiz_ask
from pages._state import init_widgets

PLAYING = "flow_playing"  # the Train button was clicked and the run has steps left
SPEC = (Shared("flow_depth", "int", 1, 20), Shared("flow_activation", "str", choices=flow.ACTIVATIONS),
        Shared("flow_init", "str", choices=tuple(flow.INITS)), Shared("flow_steps", "int", choices=flow.STEPS))
share_state(*SPEC)
init_widgets({"flow_depth": 10, "flow_activation": "sigmoid", "flow_init": "pytorch_default", "flow_steps": 100})
st.title("Gradient flow")
st.markdown(flow.INTRO)
c = st.columns([2, 2, 3, 2])
depth = int(c[0].slider("layers", 1, 20, key="flow_depth", help=flow.HELP["depth"]))
activation = c[1].radio("activation", flow.ACTIVATIONS, key="flow_activation", help=flow.HELP["activation"])
init = c[2].radio("init", list(flow.INITS), key="flow_init", format_func=flow.INITS.get, help=flow.HELP["init"])
steps = int(c[3].select_slider("training steps", flow.STEPS, key="flow_steps", help=flow.HELP["steps"]))
frame = current_candles().frame
try:
    run = flow.run_for(st.session_state.get("flow_run"), frame, flow.FlowSettings(depth, activation, init, steps))
except FeatureError as exc:
    st.error(str(exc))
    st.stop()
if run is not st.session_state.get("flow_run"):  # new settings: a new model, at rest until Train
    st.session_state[PLAYING] = False
buttons = st.container(horizontal=True)
if buttons.button(f"Train {steps} steps", key="flow_train", icon=":material/play_arrow:", help=flow.HELP["train"]):
    st.session_state[PLAYING] = True
if buttons.button("Start over", key="flow_reset", help=flow.HELP["reset"]):
    run, st.session_state[PLAYING] = flow.start_run(frame, run.settings), False
st.session_state["flow_run"] = run  # a live model: kept in the session, rebuilt when the settings change


def bars() -> None:
    """A few more steps while it plays, then the bars, the sentence and the numbers, redrawn."""
    if st.session_state.get(PLAYING):
        flow.advance(run)
        if run.finished:
            st.session_state[PLAYING] = False
            st.rerun()  # the whole page: its timer stops
    st.markdown(flow.sentences(run))  # the numbers in words, above the bars: on screen first
    light_html(flow.bars_html(run), key="flow_bars")
    with st.expander("The numbers"):
        light_html(svgplot.table(flow.norms_table(run), "flow-norms", formats=flow.TABLE_FORMATS), key="flow_table")


if quiz_ask(smallest_layer_gradient(run.init_norms)):  # predict first, then see
    st.fragment(bars, run_every=flow.TICK_SECONDS if st.session_state.get(PLAYING) else None)()
with st.container(key="secondary_flow_code"):
    show_code(flow.make_deep_mlp, flow.layer_grad_norms, flow.train_steps)
take_home(flow_takehome(run, frame))
publish_state(*SPEC)
