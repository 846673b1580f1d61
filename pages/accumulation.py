"""Gradient accumulation (seed Part C): backward adds into .grad; zero_grad, optimizers and micro-batches."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.labs import accumulation as acc, controls as ctl, microbatch as mb, optimizer_lab as ol
from explorer.teaching import takehome
from explorer.teaching.controls import PageState
from explorer.teaching.questions import accumulation_question
from pages._common import current_candles, current_device, publish_state, show_code
from pages._components import buttons, light_html, take_home
from pages._quiz import quiz_ask, quiz_hidden
from pages._state import enter_state, init_widgets, link_clicks, widgets


@st.fragment  # a click in the lab reruns the lab only, not the page around it
def xwb_tab(lab: acc.AccumulationLab, names: list[str], steps: int, state: PageState) -> None:
    """The seed's x, w, b: buttons, the tensors now, the history table and one small chart per gradient; the link
    carries the clicks (written after the buttons ran)."""
    buttons(lab, acc.lab_buttons(steps))
    publish_state(*state.spec, acc_history=acc.history_code(lab.history))
    if lab.error:
        st.warning(lab.error_note())
    question = accumulation_question(lab.history, lab.x.flatten().tolist())
    hidden = quiz_hidden(question)  # x and the history stay on screen: what the learner reasons from
    st.code(lab.printout(hidden), language="text")
    quiz_ask(question)  # predict first, then see
    light_html(acc.history_html(lab, names, hidden), key="acc_history_view")
    st.caption(acc.HISTORY_NOTE)
    take_home(takehome.accumulation_takehome(lab, current_device()))


def optimizer_tab(opt: ol.OptimizerLab, names: list[str]) -> None:
    """optimizer.step() with and without optimizer.zero_grad(), on the same x."""
    buttons(opt, ol.OPTIMIZER_BUTTONS)
    with st.container(key="acc_opt_state"):
        st.code(opt.printout(), language="text")
    if opt.steps:
        light_html(ol.steps_html(opt.steps, names), key="acc_opt_table")
    else:
        st.info(ol.NO_STEPS_NOTE)
    st.caption(ol.STEPS_NOTE)
    take_home(takehome.optimizer_takehome(opt))
    show_code(ol.sgd_step, ol.sgd_step_without_zero_grad, key="secondary_acc_opt_code")


def microbatch_tab(frame: pd.DataFrame, row: int, seed: int, state: PageState) -> None:
    """k micro-batches with loss / k add up to the full batch's gradient."""
    init_widgets(ctl.microbatch_firsts(len(frame), row))
    start, size, k = widgets(st.columns(3), state, "acc_mb_start", "acc_mb_size", "acc_mb_k")
    result, problem = mb.compare_or_refuse(frame, start, size, k, seed)
    if problem:
        st.error(problem)
    else:
        for col, (label, value) in zip(st.columns(2), result.metrics().items()):
            col.metric(label, value)
        light_html(result.table_html(), key="acc_mb_table")
        st.caption(mb.ROUNDING_NOTE)
        take_home(takehome.microbatch_takehome(frame, start, size, k, seed))
    show_code(mb.full_batch_grad, mb.accumulated_grad, key="secondary_acc_mb_code")


st.title("Gradient accumulation")
st.markdown(acc.INTRO)
frame = current_candles().frame
names = list(frame.columns)
STATE = ctl.accumulation_state(len(frame))  # the widgets, the open tab and the lab's clicks: what a link carries
enter_state(STATE)
clicks = link_clicks("acc_history")  # a link's clicks, handed out once: they are replayed once
c1, c2 = st.columns(2)
row, seed = widgets((c1, c2.container(key="secondary_acc_seed")), STATE, "acc_row", "acc_seed")
st.caption(acc.FRESH_NOTE)
x, problem = acc.pick_x(frame, row, current_device())
if problem:
    st.error(problem)
    st.stop()
ctl.keep_tab_widgets(st.session_state)
lab, refused = acc.session_lab(st.session_state, x, seed, names, clicks)  # live tensors, kept in the session
if refused:
    st.warning(refused)
lab_tab, optim_tab, micro_tab = st.tabs(ctl.ACC_TABS, key="acc_tab", on_change="rerun")  # only the open tab runs
if lab_tab.open:
    with lab_tab:  # N for 'run N steps', and the loop's zeroing: outside the lab's fragment
        steps, lab.zero_after_step = widgets(st.columns([1, 3], vertical_alignment="bottom"), STATE, "acc_steps",
                                             "acc_zero_each")
        xwb_tab(lab, names, steps, STATE)
        show_code(acc.forward_backward, acc.zero_grad, acc.grad_zero_, key="secondary_acc_code")
if optim_tab.open:
    with optim_tab:
        st.markdown(ol.OPTIMIZER_INTRO)
        (lr,) = widgets([st], STATE, "acc_lr")
        st.session_state["acc_opt_lab"] = opt = ol.lab_for(st.session_state.get("acc_opt_lab"), x, seed, lr)
        optimizer_tab(opt, names)
if micro_tab.open:
    with micro_tab:
        st.markdown(mb.MICROBATCH_INTRO)
        microbatch_tab(frame, row, seed, STATE)
publish_state(*STATE.spec, acc_history=acc.history_code(lab.history))  # after every widget
