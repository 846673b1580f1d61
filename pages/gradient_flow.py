"""Gradient flow: the gradient norm of each layer of a deep MLP on lagged candle features, at init and while it
trains (PyTorch's "Visualizing Gradients" tutorial: sigmoid against relu, PyTorch's init against the seed's)."""
from __future__ import annotations

import streamlit as st

from explorer import svgplot
from explorer.mechanics import controls as ctl, flow, scripts
from explorer.teaching.questions import smallest_layer_gradient
from explorer.training.features import FeatureError
from pages._common import current_candles, publish_state, show_code
from pages._components import light_html, take_home
from pages._quiz import quiz_ask
from pages._state import enter_state, widgets

enter_state(ctl.FLOW)
st.title("Gradient flow")
st.markdown(flow.INTRO)
settings = widgets(st.columns([2, 2, 3, 2]), ctl.FLOW, "flow_depth", "flow_activation", "flow_init", "flow_steps")
frame = current_candles().frame
try:  # a model kept in the session: a new one, at rest until Train, when the settings change
    run = flow.session_run(st.session_state, frame, flow.FlowSettings(*settings))
except FeatureError as exc:
    st.error(str(exc))
    st.stop()
buttons = st.container(horizontal=True)
if buttons.button(f"Train {run.settings.steps} steps", key="flow_train", icon=":material/play_arrow:",
                  help=flow.HELP["train"]):
    st.session_state[flow.PLAYING_KEY] = True
if buttons.button("Start over", key="flow_reset", help=flow.HELP["reset"]):
    run = flow.start_over(st.session_state, frame)


def bars() -> None:
    """A few more steps while it plays, then the bars, the sentence and the numbers, redrawn."""
    if flow.play(st.session_state):
        st.rerun()  # it finished: the whole page, so its timer stops
    st.markdown(flow.sentences(run))  # the numbers in words, above the bars: on screen first
    light_html(flow.bars_html(run), key="flow_bars")
    with st.expander("The numbers"):
        light_html(svgplot.table(flow.norms_table(run), "flow-norms", formats=flow.TABLE_FORMATS), key="flow_table")


if quiz_ask(smallest_layer_gradient(run.init_norms)):  # predict first, then see
    st.fragment(bars, run_every=flow.TICK_SECONDS if st.session_state.get(flow.PLAYING_KEY) else None)()
show_code(flow.make_deep_mlp, flow.layer_grad_norms, flow.train_steps, key="secondary_flow_code")
take_home(scripts.flow_takehome(run, frame))
publish_state(*ctl.FLOW.spec)
