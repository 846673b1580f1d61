"""The Gradient accumulation page's three tabs: the x, w, b lab, nn.Linear + SGD, and micro-batches."""
from __future__ import annotations

from typing import Callable

import pandas as pd
import streamlit as st
import torch

from explorer import svgplot
from explorer.labs.accumulation import AccumulationLab, forward_backward, grad_panels, grad_zero_, history_table, zero_grad
from explorer.labs.microbatch import accumulated_grad, compare_microbatches, full_batch_grad
from explorer.labs.optimizer_lab import OptimizerLab, optimizer_frame, sgd_step, sgd_step_without_zero_grad
from explorer.teaching.questions import accumulation_question
from explorer.teaching.takehome import accumulation_script, microbatch_script, optimizer_script
from pages._common import current_device, show_code
from pages._components import light_html
from pages._quiz import quiz_gate
from pages._state import init_widgets

LEARNING_RATES = (1e-6, 1e-5, 1e-4, 1e-3)
TABS = ("x, w, b lab", "nn.Linear + optimizer", "micro-batches")


def keep_widget_values(*keys: str) -> None:
    """Keep the values of widgets in tabs that are not drawn this run (Streamlit drops a widget's state otherwise)."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def xwb_settings(lab: AccumulationLab) -> int:
    """N for 'run N steps', and whether the loop zeroes after each step (outside the lab's fragment: they change
    what the buttons do, not what the lab shows)."""
    c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
    steps = int(c1.number_input("N (steps per 'run N')", 1, 50, key="acc_steps",
                                help="How many forward + backward passes one click of 'run N steps' makes."))
    lab.zero_after_step = c2.toggle("zero after each step (seed cell 12: `w.grad.zero_(); b.grad.zero_()` "
                                    "in the loop)", key="acc_zero_each",
                                    help="Zero both grads right after each backward, as the seed's cell 12 does.")
    return steps


def _xwb_buttons(lab: AccumulationLab, steps: int) -> None:
    """The lab's buttons: each calls one lab method (the methods shown under 'The code that ran')."""
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


def xwb_tab(lab: AccumulationLab, names: list[str], steps: int) -> None:
    """The seed's x, w, b: buttons, the tensors now, the history table and one small chart per gradient."""
    _xwb_buttons(lab, steps)
    if lab.error:
        st.warning(f"`w.grad.zero_()` failed: **{lab.error}**. After `set_to_none=True` (or before the first "
                   "backward) `.grad` is `None`, and `None` has no `.zero_()`: that is why `optimizer.zero_grad()` "
                   "checks for `None` first.")
    quiz_gate(accumulation_question(lab.history, lab.x.flatten().tolist()))  # predict first, then see
    st.code(f"x      = {lab.x}\nw      = {lab.w.data}\nb      = {lab.b.data}\n"
            f"w.grad = {lab.w.grad}\nb.grad = {lab.b.grad}", language="text")
    light_html(history_table(lab.history, names) + grad_panels(lab.history, names, lab.x.flatten().tolist()),
               key="acc_history_view")
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


def xwb_code() -> None:
    """The lab's methods (outside its fragment: they do not change with a click)."""
    with st.container(key="secondary_acc_code"):
        show_code(forward_backward, zero_grad, grad_zero_)


def optimizer_tab(x: torch.Tensor, seed: int, names: list[str], session_lab: Callable) -> None:
    """optimizer.step() with and without optimizer.zero_grad(), on the same x."""
    st.markdown("The same thing inside a model: `nn.Linear(5, 1)` and `torch.optim.SGD`. The seed's `y.backward()` "
                "is the loss. `optimizer.step()` uses whatever `.grad` holds: forget `optimizer.zero_grad()` and the "
                "update is `−lr × (sum of all gradients so far)`, not `−lr × this step's gradient`.")
    init_widgets({"acc_lr": 1e-4})
    lr = float(st.select_slider("SGD learning rate", LEARNING_RATES, format_func="{:.0e}".format,
                                key="acc_lr", help="torch.optim.SGD's lr: each step changes a weight by −lr × grad."))
    opt = session_lab("acc_opt_lab", lambda: OptimizerLab(x, seed, lr),
                      lambda o: o.seed == seed and o.lr == lr and torch.equal(o.x, x))
    o1, o2, o3 = st.columns(3)
    if o1.button("step with optimizer.zero_grad()", key="acc_opt_zero",
                 help="zero_grad(), forward, backward, step(): the update uses this step's gradient only."):
        opt.train_step(zero_grad=True)
    if o2.button("step, forgetting zero_grad()", key="acc_opt_forget",
                 help="forward, backward, step() without zero_grad(): the gradients of every step so far add up."):
        opt.train_step(zero_grad=False)
    if o3.button("reset model", key="acc_opt_reset", help="A fresh nn.Linear from the seed and a fresh SGD."):
        opt = st.session_state["acc_opt_lab"] = OptimizerLab(x, seed, lr)
    with st.container(key="acc_opt_state"):
        st.code(f"weight      = {opt.model.weight.data}\nbias        = {opt.model.bias.data}\n"
                f"weight.grad = {opt.model.weight.grad}\nbias.grad   = {opt.model.bias.grad}", language="text")
    if opt.steps:
        light_html(svgplot.table(optimizer_frame(opt.steps, names).reset_index(), "acc-opt"), key="acc_opt_table")
    else:
        st.info("Click a step button: each row will show the gradient `step()` used and the change it made.")
    st.caption("`Δ == −lr·grad` checks plain SGD's rule on every parameter. `optimizer.zero_grad()` sets grads to "
               "`None` by default (set_to_none=True).")
    with st.container(key="secondary_acc_opt_takehome"):
        st.download_button("Take it home: Python script", optimizer_script(
            x, seed, lr, [s.zero_grad_called for s in opt.steps], x.device.type), "optimizer_lab.py",
            key="acc_opt_takehome", on_click="ignore", icon=":material/download:",
            help="A plain script (torch only) that repeats these steps and prints each gradient step() used.")
    with st.container(key="secondary_acc_opt_code"):
        show_code(sgd_step, sgd_step_without_zero_grad)


def microbatch_tab(frame: pd.DataFrame, row: int, seed: int) -> None:
    """k micro-batches with loss / k add up to the full batch's gradient."""
    st.markdown("Why accumulate on purpose: a batch that does not fit in memory is split into *k* micro-batches; "
                "backward on each `loss_i / k` adds up to exactly the full-batch gradient. Without `/ k` it is *k* "
                "times too big. Model: a seeded `nn.Linear(5, 1)`; target: each row's next close; loss: MSE.")
    m1, m2, m3 = st.columns(3)
    last_start = max(0, len(frame) - 2)  # each row needs a next close as its target
    init_widgets({"acc_mb_start": min(row, last_start), "acc_mb_size": 12, "acc_mb_k": 3})
    start = m1.number_input("first row", 0, last_start, key="acc_mb_start",
                            help="The batch starts at this candle row.")
    size = m2.number_input("batch size (rows)", 1, 512, key="acc_mb_size",
                           help="Rows in the full batch (each needs the next row's close as its target).")
    k = m3.number_input("k micro-batches", 1, 64, key="acc_mb_k",
                        help="The batch is split into k parts; backward runs on each part's loss / k.")
    try:
        result = compare_microbatches(frame, int(start), int(size), int(k), seed)
    except ValueError as exc:
        st.error(f"Cannot split this batch: {exc}")
    else:
        c1, c2 = st.columns(2)
        c1.metric("max relative difference, Σ loss_i / k vs full batch", f"{result.max_rel_diff_divided:.2e}")
        c2.metric("‖Σ loss_i‖ / ‖full batch‖ (no / k)", f"{result.ratio_undivided:.4f}")
        light_html(svgplot.table(result.table.rename_axis("gradient").reset_index(), "acc-microbatch"),
                   key="acc_mb_table")
        st.caption("The difference with `/ k` is float32 rounding (sums taken in a different order), not maths.")
        with st.container(key="secondary_acc_mb_takehome"):
            st.download_button("Take it home: Python script", microbatch_script(
                frame, int(start), int(size), int(k), seed), "micro_batches.py", key="acc_mb_takehome",
                on_click="ignore", icon=":material/download:", help="A plain script (torch only) with this batch "
                "inside: it prints the three gradient columns of the table.")
    with st.container(key="secondary_acc_mb_code"):
        show_code(full_batch_grad, accumulated_grad)
