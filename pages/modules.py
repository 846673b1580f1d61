"""Modules and shapes (seed 2, second half): Flatten, nn.Linear as x @ W.T + b, nn.Module, softmax, tensor shapes."""
from __future__ import annotations

import streamlit as st
import torch

from explorer.labs.modules import (INITS, CandleNetwork, NeuralNetwork, candle_prediction, candle_window, example_input,
                                   linear_by_hand, make_linear, parameter_table, predict_class, seed_flatten,
                                   seed_input_image, seed_linear, set_weights)
from explorer.teaching.questions import linear_weight_shape
from explorer import svgplot
from pages._common import current_candles, show_code
from pages._components import light_html
from pages._modules_ui import seed_bug_lessons, shape_explorer, side_by_side
from pages._quiz import quiz_ask

SEED_FLATTEN = """torch.Size([3, 4])

tensor([[1., 1., 1., 2.],
        [2., 2., 2., 2.],
        [3., 3., 3., 3.]])"""
SEED_LINEAR = """linear layer shape:torch.Size([3, 2])
weight shape:torch.Size([2, 4]) = [out_features,in_features]
y=output =
tensor([[ 5.,  5.],
        [ 8.,  8.],
        [12., 12.]], grad_fn=<MmBackward0>)"""

st.title("Modules and shapes")
st.markdown("The second seed notebook's walk through PyTorch's building blocks: `nn.Flatten`, `nn.Linear` (which is "
            "just **y = x @ W.T + b**), a whole `nn.Module`, softmax over classes, and how to read a tensor's shape. "
            "Left: what the notebook printed. Right: the same code, run now.")

st.subheader("1 · nn.Flatten on a 3×2×2 'image'")
input_image = seed_input_image()
flat_image = seed_flatten(input_image)
side_by_side(SEED_FLATTEN, f"{flat_image.size()}\n\n{flat_image!r}", seed_input_image, seed_flatten)

st.subheader("2 · nn.Linear(4, 2, bias=False) with every weight 1")
if quiz_ask(linear_weight_shape("modules_weight_shape", 4, 2)):
    layer1, linear_layer, by_hand = seed_linear(flat_image)
    side_by_side(SEED_LINEAR, f"linear layer shape:{linear_layer.size()}\nweight shape:{layer1.weight.shape} = "
                 f"[out_features,in_features]\ny=output =\n{linear_layer}\n\nflat_image @ w.T =\n{by_hand}\n\n"
                 f"torch.equal(flat_image @ w.T, layer1(flat_image)): {torch.equal(by_hand, linear_layer)}",
                 seed_linear)
    st.caption("Each output is a row of x times a row of W: 1+1+1+2 = 5, 2·4 = 8, 3·4 = 12. W has one row per "
               "*output*, so the layer multiplies by its transpose.")

st.subheader("3 · Your own nn.Linear")
c = st.columns(4)
n_in = c[0].number_input("in_features", 1, 8, 4, key="modules_in")
n_out = c[1].number_input("out_features", 1, 8, 2, key="modules_out")
bias = c[2].toggle("bias", True, key="modules_bias")
how = c[3].selectbox("init", INITS, key="modules_init", help="How the weight (and bias) are filled.")
layer = make_linear(int(n_in), int(n_out), bias, how)
x = example_input(int(n_in))
left, right = st.columns(2)
left.code(f"x = {x!r}\n\nW = layer.weight   # shape {list(layer.weight.shape)} = [out_features, in_features]\n"
          f"{layer.weight.data!r}\n\nb = layer.bias\n{None if layer.bias is None else layer.bias.data}",
          language="text", wrap_lines=True)
manual, torch_out = linear_by_hand(layer, x), layer(x)
right.code(f"x @ W.T + b   (by hand)\n{manual.detach()!r}\n\nlayer(x)\n{torch_out.detach()!r}\n\n"
           f"torch.allclose: {torch.allclose(manual, torch_out)}", language="text", wrap_lines=True)
with st.container(key="secondary_modules_linear_code"):
    show_code(make_linear, set_weights, linear_by_hand)

st.subheader("4 · A whole nn.Module, then softmax and argmax")
which = st.radio("model", ["the seed's NeuralNetwork (28×28 images)", "candle-sized (a window of candles → down, "
                 "flat, up)"], key="modules_model", horizontal=True)
c = st.columns(3)
window = int(c[0].slider("candles per window", 1, 10, 3, key="modules_window"))
hidden = int(c[1].slider("hidden units", 2, 64, 16, key="modules_hidden"))
model = NeuralNetwork() if which.startswith("the seed") else CandleNetwork(window, hidden)
m1, m2 = st.columns(2)
m1.code(f"print(model)\n\n{model}", language="text", wrap_lines=True)
table = parameter_table(model)
with m2:
    light_html(svgplot.table(table, "modules-params"), key="modules_params")
m2.markdown(f"**{table['values'].sum():,} parameters** in {len(table)} tensors.")
frame = current_candles().frame
if st.session_state.get("modules_end", 100) < window - 1:  # a wider window needs a later last candle
    st.session_state["modules_end"] = window - 1
end = int(c[2].number_input("last candle row", window - 1, len(frame) - 1, min(len(frame) - 1, max(window - 1, 100)), key="modules_end",
                            help="The window ends at this row of the loaded candles."))
prediction = candle_prediction(frame, window, hidden, end)
st.markdown(f"Candles {end - window + 1}…{end} through the **untrained** candle-sized model (seed 0): softmax turns "
            f"the 3 logits into probabilities that sum to 1; `argmax(1)` picks **{prediction.predicted}**. Training "
            "would move these numbers; the shapes stay.")
light_html(svgplot.table(prediction.table, "modules-softmax"), key="modules_softmax")
with st.container(key="secondary_modules_model_code"):
    show_code(NeuralNetwork, CandleNetwork, candle_window, predict_class)

st.subheader("5 · Tensor shapes")
shape_explorer()

st.subheader("6 · The seed's own mistakes, run next to their fixes")
seed_bug_lessons(frame)
