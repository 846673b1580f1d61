"""Modules and shapes (seed 2, second half): Flatten, nn.Linear as x @ W.T + b, nn.Module, softmax, tensor shapes."""
from __future__ import annotations

import streamlit as st

from explorer import svgplot
from explorer.labs import modules as m
from explorer.teaching.questions import linear_weight_shape
from explorer.teaching.shareable import Shared
from pages._common import current_candles, publish_state, share_state, show_code
from pages._components import light_html
from pages._modules_ui import seed_bug_lessons, shape_explorer, side_by_side
from pages._quiz import quiz_ask
from pages._state import init_widgets

frame = current_candles().frame
SPEC = (Shared("modules_in", "int", 1, 8), Shared("modules_out", "int", 1, 8), Shared("modules_bias", "bool"),
        Shared("modules_init", "str", choices=m.INITS), Shared("modules_model", "str", choices=m.MODELS),
        Shared("modules_window", "int", 1, 10), Shared("modules_hidden", "int", 2, 64),
        Shared("modules_end", "int", 0, len(frame) - 1), Shared("modules_shape", "str", max_len=100),
        Shared("modules_shape_seed", "int", 0, 2**31 - 1), Shared("modules_index", "str", max_len=100))
share_state(*SPEC)
init_widgets({"modules_in": 4, "modules_out": 2, "modules_bias": True, "modules_init": m.INITS[0],
              "modules_model": m.MODELS[0], "modules_window": 3, "modules_hidden": 16,
              "modules_end": min(len(frame) - 1, 100), "modules_shape": "(3, 2, 4, 2)", "modules_shape_seed": 0,
              "modules_index": "t[2]"})
st.title("Modules and shapes")
st.markdown("The second seed notebook's walk through PyTorch's building blocks: `nn.Flatten`, `nn.Linear` (which is "
            "just **y = x @ W.T + b**), a whole `nn.Module`, softmax over classes, and how to read a tensor's shape. "
            "Left: what the notebook printed. Right: the same code, run now.")

st.subheader("1 · nn.Flatten on a 3×2×2 'image'")
flat_image = m.seed_flatten(m.seed_input_image())
side_by_side(m.SEED_FLATTEN, m.flatten_printout(flat_image), m.seed_input_image, m.seed_flatten)

st.subheader("2 · nn.Linear(4, 2, bias=False) with every weight 1")
if quiz_ask(linear_weight_shape("modules_weight_shape", 4, 2)):
    side_by_side(m.SEED_LINEAR, m.linear_printout(flat_image), m.seed_linear)
    st.caption(m.LINEAR_NOTE)

st.subheader("3 · Your own nn.Linear")
c = st.columns(4)
n_in = int(c[0].number_input("in_features", 1, 8, key="modules_in"))
n_out = int(c[1].number_input("out_features", 1, 8, key="modules_out"))
bias = c[2].toggle("bias", key="modules_bias")
how = c[3].selectbox("init", m.INITS, key="modules_init", help="How the weight (and bias) are filled.")
for col, text in zip(st.columns(2), m.layer_printouts(m.make_linear(n_in, n_out, bias, how), m.example_input(n_in))):
    col.code(text, language="text", wrap_lines=True)
with st.container(key="secondary_modules_linear_code"):
    show_code(m.make_linear, m.set_weights, m.linear_by_hand)

st.subheader("4 · A whole nn.Module, then softmax and argmax")
which = st.radio("model", m.MODELS, key="modules_model", horizontal=True)
c = st.columns(3)
window = int(c[0].slider("candles per window", 1, 10, key="modules_window"))
hidden = int(c[1].slider("hidden units", 2, 64, key="modules_hidden"))
model = m.model_for(which, window, hidden)
m1, m2 = st.columns(2)
m1.code(f"print(model)\n\n{model}", language="text", wrap_lines=True)
table = m.parameter_table(model)
with m2:
    light_html(svgplot.table(table, "modules-params"), key="modules_params")
m2.markdown(f"**{table['values'].sum():,} parameters** in {len(table)} tensors.")
st.session_state["modules_end"] = max(st.session_state["modules_end"], window - 1)  # a wider window ends later
end = int(c[2].number_input("last candle row", window - 1, len(frame) - 1, key="modules_end",
                            help="The window ends at this row of the loaded candles."))
prediction = m.candle_prediction(frame, window, hidden, end)
st.markdown(m.prediction_note(prediction, window, end))
light_html(svgplot.table(prediction.table, "modules-softmax"), key="modules_softmax")
with st.container(key="secondary_modules_model_code"):
    show_code(m.NeuralNetwork, m.CandleNetwork, m.candle_window, m.predict_class)

st.subheader("5 · Tensor shapes")
shape_explorer()

st.subheader("6 · The seed's own mistakes, run next to their fixes")
seed_bug_lessons(frame)
publish_state(*SPEC)  # after the widgets: the URL shows what is on screen
