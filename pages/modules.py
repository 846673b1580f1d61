"""Modules and shapes (seed 2, second half): Flatten, nn.Linear as x @ W.T + b, nn.Module, softmax, tensor shapes."""
from __future__ import annotations

import streamlit as st

from explorer.labs import modules as m
from explorer.labs.controls import modules_state
from explorer.teaching.questions import linear_weight_shape
from pages._common import current_candles, publish_state, show_code
from pages._components import light_html
from pages._modules_ui import seed_bug_lessons, shape_explorer, side_by_side
from pages._quiz import quiz_ask
from pages._state import enter_state, widgets

frame = current_candles().frame
STATE = modules_state(len(frame))  # the widgets: what a link carries
enter_state(STATE)
st.title("Modules and shapes")
st.markdown(m.INTRO)

st.subheader("1 · nn.Flatten on a 3×2×2 'image'")
flat_image = m.seed_flatten(m.seed_input_image())
side_by_side(m.SEED_FLATTEN, m.flatten_printout(flat_image), m.seed_input_image, m.seed_flatten)

st.subheader("2 · nn.Linear(4, 2, bias=False) with every weight 1")
if quiz_ask(linear_weight_shape("modules_weight_shape", 4, 2)):
    side_by_side(m.SEED_LINEAR, m.linear_printout(flat_image), m.seed_linear)
    st.caption(m.LINEAR_NOTE)

st.subheader("3 · Your own nn.Linear")
n_in, n_out, bias, how = widgets(st.columns(4), STATE, "modules_in", "modules_out", "modules_bias", "modules_init")
for col, text in zip(st.columns(2), m.layer_printouts(m.make_linear(n_in, n_out, bias, how), m.example_input(n_in))):
    col.code(text, language="text", wrap_lines=True)
with st.container(key="secondary_modules_linear_code"):
    show_code(m.make_linear, m.set_weights, m.linear_by_hand)

st.subheader("4 · A whole nn.Module, then softmax and argmax")
(which,) = widgets([st], STATE, "modules_model")
c = st.columns(3)
window, hidden = widgets(c, STATE, "modules_window", "modules_hidden")
model = m.model_for(which, window, hidden)
m1, m2 = st.columns(2)
m1.code(f"print(model)\n\n{model}", language="text", wrap_lines=True)
params_html, params_note = m.parameters_view(model)
with m2:
    light_html(params_html, key="modules_params")
    st.markdown(params_note)
st.session_state["modules_end"] = max(st.session_state["modules_end"], window - 1)  # a wider window ends later
(end,) = widgets(c[2:], modules_state(len(frame), window), "modules_end")
prediction = m.candle_prediction(frame, window, hidden, end)
st.markdown(m.prediction_note(prediction, window, end))
light_html(prediction.table_html(), key="modules_softmax")
with st.container(key="secondary_modules_model_code"):
    show_code(m.NeuralNetwork, m.CandleNetwork, m.candle_window, m.predict_class)

st.subheader("5 · Tensor shapes")
shape_explorer(STATE)

st.subheader("6 · The seed's own mistakes, run next to their fixes")
seed_bug_lessons(frame)
publish_state(*STATE.spec)  # after the widgets: the URL shows what is on screen
