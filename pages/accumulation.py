"""Gradient accumulation (seed Part C): backward adds into .grad; zero_grad, optimizers and micro-batches."""
from __future__ import annotations

import streamlit as st

from explorer.labs import accumulation as acc
from explorer.labs.microbatch import MICROBATCH_INTRO
from explorer.labs.optimizer_lab import LEARNING_RATES, OPTIMIZER_INTRO, lab_for as optimizer_lab_for
from explorer.teaching.shareable import Shared
from explorer.tensors import candle_row
from pages._accumulation_ui import microbatch_tab, optimizer_tab, xwb_settings, xwb_tab
from pages._common import current_candles, current_device, publish_state, share_state, show_code
from pages._state import init_widgets, link_clicks

TABS = ("x, w, b lab", "nn.Linear + optimizer", "micro-batches")

st.title("Gradient accumulation")
st.markdown("`backward()` does not *set* `.grad`, it **adds** to it. Run the seed's loop a few times and watch "
            "`w.grad` grow by `x` and `b.grad` by 1 per call, then clear it the ways PyTorch offers.")
frame = current_candles().frame
names, n = list(frame.columns), len(frame)
SPEC = (Shared("acc_row", "int", 0, n - 1), Shared("acc_seed", "int", 0, 2**31 - 1),  # what a link carries
        Shared("acc_tab", "str", choices=TABS), Shared("acc_steps", "int", 1, 50), Shared("acc_zero_each", "bool"),
        Shared("acc_history", "clicks", max_len=200), Shared("acc_lr", "float", choices=LEARNING_RATES),
        Shared("acc_mb_start", "int", 0, max(0, n - 2)), Shared("acc_mb_size", "int", 1, 512),
        Shared("acc_mb_k", "int", 1, 64))
share_state(*SPEC)
clicks = link_clicks("acc_history")  # a link's clicks, handed out once: they are replayed once
init_widgets({"acc_row": min(100, n - 1), "acc_seed": 0, "acc_steps": 3, "acc_lr": 1e-4})
c1, c2 = st.columns(2)
row = int(c1.number_input("candle row (x)", 0, n - 1, key="acc_row",
                          help="Which candle is x: row i of the loaded data."))
with c2.container(key="secondary_acc_seed"):
    seed = int(st.number_input("seed for w, b (and nn.Linear)", 0, 2**31 - 1, key="acc_seed",
                               help="w and b (and the nn.Linear) are drawn with this seed: same seed, same numbers."))
st.caption("Changing the row or the seed starts fresh labs (new leaves, empty history).")
try:
    x = candle_row(frame, row, current_device())
except ValueError as exc:
    st.error(f"Cannot pick x: {exc}")
    st.stop()
for key in ("acc_steps", "acc_zero_each", "acc_lr", "acc_mb_start", "acc_mb_size", "acc_mb_k"):
    if key in st.session_state:  # a widget in a tab not drawn this run would lose its value: keep it
        st.session_state[key] = st.session_state[key]
lab, refused = acc.lab_for(st.session_state.get("acc_lab"), x, seed, names, clicks)
st.session_state["acc_lab"] = lab  # live tensors: kept in the session, rebuilt when x or the seed changed
if refused:
    st.warning(refused)
lab_tab, optim_tab, micro_tab = st.tabs(TABS, key="acc_tab", on_change="rerun")  # only the open tab runs
if lab_tab.open:
    with lab_tab:
        xwb_tab(lab, names, xwb_settings(lab), SPEC)
        with st.container(key="secondary_acc_code"):  # the lessons the lab's buttons run
            show_code(acc.forward_backward, acc.zero_grad, acc.grad_zero_)
if optim_tab.open:
    with optim_tab:
        st.markdown(OPTIMIZER_INTRO)
        lr = float(st.select_slider("SGD learning rate", LEARNING_RATES, format_func="{:.0e}".format, key="acc_lr",
                                    help="torch.optim.SGD's lr: each step changes a weight by −lr × grad."))
        st.session_state["acc_opt_lab"] = opt = optimizer_lab_for(st.session_state.get("acc_opt_lab"), x, seed, lr)
        optimizer_tab(opt, names)
if micro_tab.open:
    with micro_tab:
        st.markdown(MICROBATCH_INTRO)
        microbatch_tab(frame, row, seed)
publish_state(*SPEC, acc_history=acc.history_code(lab.history))  # after every widget
