"""Modules and shapes (seed 2, second half): Flatten, nn.Linear as x @ W.T + b, nn.Module, softmax, tensor shapes."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from explorer.data.config import load_config, resolve_data_path
from explorer.labs import modules as m, seed_bugs as bugs, shapes as sh
from explorer.labs.controls import modules_state
from explorer.teaching.controls import PageState
from explorer.teaching.questions import index_question, linear_weight_shape
from explorer.teaching.source import source_of
from pages._common import current_candles, publish_state, show_code
from pages._components import light_html
from pages._quiz import quiz_ask
from pages._state import enter_state, widgets


def side_by_side(seed_output: str, live: str, *functions) -> None:
    """The seed's printed output beside the same code's output now, and the code that ran."""
    for col, caption, text in zip(st.columns(2), ("Seed notebook — printed output", "Run now, by the code below"),
                                  (seed_output, live)):
        col.caption(caption)
        col.code(text, language="text", wrap_lines=True)
    show_code(*functions)


def shape_explorer(state: PageState) -> None:
    """Choose a shape, see the tensor as brackets and as boxes, index it and see the result's shape."""
    text, seed, index = widgets(st.columns([2, 1, 2]), state, "modules_shape", "modules_shape_seed", "modules_index")
    shape, refused = sh.session_shape(st.session_state, text)
    if refused:
        st.error(refused)
    t = sh.seed_tensor(shape, seed)
    st.code(sh.shape_printout(shape, t), language="text")
    st.markdown(sh.nesting_note(shape))
    brackets_and_boxes(t, "t")
    result, refused = sh.index_or_refuse(t, index)
    if refused:
        st.error(refused)
        return
    st.markdown(f"**`{index.strip()}`**")
    if quiz_ask(index_question(index.strip(), shape, result.shape)):
        st.code(f"{index.strip()}.shape\n{result.shape}", language="text")
        brackets_and_boxes(result, index.strip())
    show_code(sh.seed_tensor, sh.indexed)


def brackets_and_boxes(t: torch.Tensor, name: str) -> None:
    """`t` as print shows it (nested brackets), beside it as nested boxes."""
    brackets, boxes = st.columns(2)
    brackets.caption(f"{name} as nested brackets (print)")
    brackets.code(str(t), language="text", wrap_lines=True)
    boxes.caption(f"{name} as nested boxes: one box per dimension, labelled with its size")
    drawn, refused = sh.boxes_or_refusal(t)
    if refused:
        boxes.info(refused)
    else:
        boxes.html(drawn)


def seed_bug_lessons(frame: pd.DataFrame) -> None:
    """Each of the seed's mistakes, run on the loaded candles next to its fix."""
    bias_html, new_rows, seed_bugs = bugs.seed_bug_lessons(frame, str(resolve_data_path(load_config())))
    tabs = st.tabs([bugs.BIAS_TITLE, *(bug.title for bug in seed_bugs)])
    with tabs[0]:
        light_html(bias_html, key="modules_bias_table")
        st.code(new_rows, language="text", wrap_lines=True)
        st.markdown(bugs.BIAS_NOTE)
        show_code(*bugs.BIAS_CODE, caption="The code that ran (seed and fix)")
        st.page_link(bugs.BIAS_LINK[0], label=bugs.BIAS_LINK[1])
    for tab, bug in zip(tabs[1:], seed_bugs):
        with tab:
            versus(bug)


def versus(bug: bugs.SeedBug) -> None:
    """The seed's code and what it gives, beside the fixed code and what that gives (both run just now); around them
    what the lesson adds (a lead, a question first, more code, a link on)."""
    if bug.lead:
        st.markdown(bug.lead)
    if not quiz_ask(bug.question):
        return
    if bug.note:
        st.markdown(bug.note)
    for col, (title, fn, out) in zip(st.columns(2), bug.sides()):
        col.markdown(f"**{title}**")
        col.code(source_of(fn), language="python", wrap_lines=True)
        col.code(out, language="text", wrap_lines=True)
    if bug.caption:
        st.caption(bug.caption)
    if bug.more_code:
        show_code(*bug.more_code)
    if bug.link:
        st.page_link(bug.link[0], label=bug.link[1])


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
show_code(m.make_linear, m.set_weights, m.linear_by_hand, key="secondary_modules_linear_code")

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
show_code(m.NeuralNetwork, m.CandleNetwork, m.candle_window, m.predict_class, key="secondary_modules_model_code")

st.subheader("5 · Tensor shapes")
shape_explorer(STATE)

st.subheader("6 · The seed's own mistakes, run next to their fixes")
seed_bug_lessons(frame)
publish_state(*STATE.spec)  # after the widgets: the URL shows what is on screen
