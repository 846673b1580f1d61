"""The Gradient accumulation page's second and third tabs: nn.Linear + SGD, and micro-batches."""
from __future__ import annotations

from typing import Callable

import pandas as pd
import streamlit as st
import torch

from explorer.labs.microbatch import accumulated_grad, compare_microbatches, full_batch_grad
from explorer.labs.optimizer_lab import OptimizerLab, optimizer_frame, sgd_step
from explorer.teaching.takehome import microbatch_script, optimizer_script
from pages._common import show_code
from pages._state import init_widgets

LEARNING_RATES = (1e-6, 1e-5, 1e-4, 1e-3)


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
        st.dataframe(optimizer_frame(opt.steps, names), key="acc_opt_table")
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
        show_code(sgd_step)


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
        st.dataframe(result.table, key="acc_mb_table")
        st.caption("The difference with `/ k` is float32 rounding (sums taken in a different order), not maths.")
        with st.container(key="secondary_acc_mb_takehome"):
            st.download_button("Take it home: Python script", microbatch_script(
                frame, int(start), int(size), int(k), seed), "micro_batches.py", key="acc_mb_takehome",
                on_click="ignore", icon=":material/download:", help="A plain script (torch only) with this batch "
                "inside: it prints the three gradient columns of the table.")
    with st.container(key="secondary_acc_mb_code"):
        show_code(full_batch_grad, accumulated_grad)
