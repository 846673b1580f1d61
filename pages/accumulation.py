"""Gradient accumulation (seed Part C): backward adds into .grad; zero_grad, optimizers and micro-batches."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from explorer.labs.accumulation import (AccumulationLab, forward_backward, grad_chart, grad_zero_, history_code,
                                       history_frame, replay, run_click, zero_grad)
from explorer.teaching.shareable import Shared
from explorer.teaching.takehome import accumulation_script
from explorer.tensors import candle_row
from pages._accumulation_ui import LEARNING_RATES, microbatch_tab, optimizer_tab
from pages._common import current_candles, current_device, publish_state, share_state, show_code
from pages._quiz import quiz_gate
from explorer.teaching.questions import accumulation_question
from pages._state import init_widgets, link_clicks


@dataclass
class LabInputs:
    """What the learner chose for every tab: which candle is x and the seed of the parameters."""
    row: int
    seed: int


def acc_controls(n_rows: int) -> LabInputs:
    """Read the widgets shared by the three tabs."""
    c1, c2 = st.columns(2)
    init_widgets({"acc_row": min(100, n_rows - 1), "acc_seed": 0, "acc_steps": 3})
    row = c1.number_input("candle row (x)", 0, n_rows - 1, key="acc_row",
                          help="Which candle is x: row i of the loaded data.")
    with c2.container(key="secondary_acc_seed"):
        seed = st.number_input("seed for w, b (and nn.Linear)", 0, 2**31 - 1, key="acc_seed",
                               help="w and b (and the nn.Linear) are drawn with this seed: same seed, same numbers.")
    return LabInputs(int(row), int(seed))


def page_spec(n_rows: int) -> tuple[Shared, ...]:
    """What an accumulation link carries: x, the seed, the lab's settings and clicks, the other tabs' settings."""
    return (Shared("acc_row", "int", 0, n_rows - 1), Shared("acc_seed", "int", 0, 2**31 - 1),
            Shared("acc_steps", "int", 1, 50), Shared("acc_zero_each", "bool"),
            Shared("acc_history", "clicks", max_len=200), Shared("acc_lr", "float", choices=LEARNING_RATES),
            Shared("acc_mb_start", "int", 0, max(0, n_rows - 2)), Shared("acc_mb_size", "int", 1, 512),
            Shared("acc_mb_k", "int", 1, 64))


def session_lab(name: str, fresh, matches) -> object:
    """The lab kept in session_state (live tensors), rebuilt when its inputs changed."""
    lab = st.session_state.get(name)
    if lab is None or not matches(lab):
        lab = st.session_state[name] = fresh()
    return lab


st.title("Gradient accumulation")
st.markdown("`backward()` does not *set* `.grad`, it **adds** to it. Run the seed's loop a few times and watch "
            "`w.grad` grow by `x` and `b.grad` by 1 per call, then clear it the ways PyTorch offers.")
frame = current_candles().frame
names = list(frame.columns)
SPEC = page_spec(len(frame))
share_state(*SPEC)
clicks = link_clicks("acc_history")  # a link's clicks, handed out once: they are replayed once
inputs = acc_controls(len(frame))
st.caption("Changing the row or the seed starts fresh labs (new leaves, empty history).")
try:
    x = candle_row(frame, inputs.row, current_device())
except ValueError as exc:
    st.error(f"Cannot pick x: {exc}")
    st.stop()

lab_tab, optim_tab, micro_tab = st.tabs(["x, w, b lab", "nn.Linear + optimizer", "micro-batches"])
with lab_tab:
    before = st.session_state.get("acc_lab")
    lab = session_lab("acc_lab", lambda: AccumulationLab(x, inputs.seed, names),
                      lambda lab: lab.seed == inputs.seed and torch.equal(lab.x, x))
    if clicks and lab is not before:
        try:
            replay(lab, clicks)
        except ValueError as exc:
            st.warning(f"Link parameter `acc_history` = {clicks[:40]!r} ignored: {exc}.")
    c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
    steps = int(c1.number_input("N (steps per 'run N')", 1, 50, key="acc_steps",
                                help="How many forward + backward passes one click of 'run N steps' makes."))
    lab.zero_after_step = c2.toggle("zero after each step (seed cell 12: `w.grad.zero_(); b.grad.zero_()` "
                                    "in the loop)", key="acc_zero_each",
                                    help="Zero both grads right after each backward, as the seed's cell 12 does.")
    b1, b2, b3 = st.columns(3)
    if b1.button("forward + backward", key="acc_step", width="stretch", shortcut="F",
                 help="y = x @ w.T + b, then y.backward(): adds x to w.grad and 1 to b.grad (keyboard: F)."):
        lab.forward_backward()
    if b2.button(f"run {steps} steps", key="acc_run", width="stretch", shortcut="N",
                 help=f"The seed's loop: {steps} forward + backward passes (keyboard: N)."):
        lab.run_steps(steps)
    if b3.button("reset", key="acc_reset", width="stretch", help="New w and b from the seed, no grads, no history."):
        lab.reset()
    b4, b5, b6 = st.columns(3)
    if b4.button("zero_grad(set_to_none=True)", key="acc_zero_none", width="stretch", shortcut="Z",
                 help="optimizer.zero_grad()'s default: .grad becomes None (keyboard: Z)."):
        lab.zero_grad(set_to_none=True)
    if b5.button("zero_grad(set_to_none=False)", key="acc_zero_false", width="stretch", shortcut="Shift+Z",
                 help="Keep the .grad tensors, fill them with zeros (keyboard: Shift+Z)."):
        lab.zero_grad(set_to_none=False)
    if b6.button(".grad.zero_()", key="acc_grad_zero", width="stretch", shortcut="G",
                 help="The seed's w.grad.zero_(); b.grad.zero_(): fails while .grad is None (keyboard: G)."):
        lab.grad_zero_()
    if lab.error:
        st.warning(f"`w.grad.zero_()` failed: **{lab.error}**. After `set_to_none=True` (or before the first "
                   "backward) `.grad` is `None`, and `None` has no `.zero_()`: that is why `optimizer.zero_grad()` "
                   "checks for `None` first.")
    quiz_gate(accumulation_question(lab.history, lab.x.flatten().tolist()))  # predict first, then see
    st.code(f"x      = {lab.x}\nw      = {lab.w.data}\nb      = {lab.b.data}\n"
            f"w.grad = {lab.w.grad}\nb.grad = {lab.b.grad}", language="text")
    st.dataframe(history_frame(lab.history, names), key="acc_history_table",
                 column_config={"action": st.column_config.TextColumn(width=190),
                                "y": st.column_config.NumberColumn(width=95),
                                "note": st.column_config.TextColumn(width="large")})
    st.plotly_chart(grad_chart(lab.history, names), key="acc_chart")
    st.caption("Each step builds a fresh graph `y = x @ w.T + b` before `backward()`, as the seed's loop does "
               "(a second backward through the *same* y fails: see the retain_graph page). "
               "`set_to_none=True` drops the tensor (the chart shows a gap, the next backward *assigns*); "
               "`set_to_none=False` and `.grad.zero_()` keep it and fill it with zeros (the next backward adds to 0).")
    with st.container(key="secondary_acc_takehome"):
        st.download_button("Take it home: Python script", accumulation_script(lab.x, lab.seed, lab.history,
                                                                               current_device()),
                           "gradient_accumulation.py", key="acc_takehome", on_click="ignore",
                           icon=":material/download:", help="A plain script (torch only) that replays these "
                           "clicks and prints w.grad and b.grad after each, as the table above shows.")
        show_code(forward_backward, zero_grad, grad_zero_, run_click)

with optim_tab:
    optimizer_tab(x, inputs.seed, names, session_lab)
with micro_tab:
    microbatch_tab(frame, inputs.row, inputs.seed)

publish_state(*SPEC, acc_history=history_code(st.session_state["acc_lab"].history))  # after the buttons
