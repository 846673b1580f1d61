"""The Gradient accumulation page's three tabs (the x, w, b lab, nn.Linear + SGD, micro-batches) and lab buttons."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from explorer import svgplot
from explorer.labs import LabButton, accumulation as acc, microbatch as mb, optimizer_lab as ol
from explorer.teaching import takehome
from explorer.teaching.questions import accumulation_question
from explorer.teaching.shareable import Shared
from pages._common import current_device, publish_state, show_code
from pages._components import light_html, take_home
from pages._quiz import quiz_gate
from pages._state import init_widgets


def buttons(lab: object, specs: tuple[LabButton, ...], per_row: int = 3) -> None:
    """A lab's buttons in rows of `per_row`; a click calls the button's action on the lab."""
    columns = [col for _ in range(0, len(specs), per_row) for col in st.columns(per_row)]
    for col, b in zip(columns, specs):
        if col.button(b.label, key=b.key, width="stretch", shortcut=b.shortcut, help=b.help):
            b.action(lab)


def xwb_settings(lab: acc.AccumulationLab) -> int:
    """N for 'run N steps', and whether the loop zeroes after each step (outside the lab's fragment)."""
    c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
    steps = int(c1.number_input("N (steps per 'run N')", 1, 50, key="acc_steps",
                                help="How many forward + backward passes one click of 'run N steps' makes."))
    lab.zero_after_step = c2.toggle("zero after each step (seed cell 12: `w.grad.zero_(); b.grad.zero_()` "
                                    "in the loop)", key="acc_zero_each",
                                    help="Zero both grads right after each backward, as the seed's cell 12 does.")
    return steps


@st.fragment  # a click in the lab reruns the lab only, not the page around it
def xwb_tab(lab: acc.AccumulationLab, names: list[str], steps: int, spec: tuple[Shared, ...]) -> None:
    """The seed's x, w, b: buttons, the tensors now, the history table and one small chart per gradient; the link
    carries the clicks (written after the buttons ran)."""
    buttons(lab, acc.lab_buttons(steps))
    publish_state(*spec, acc_history=acc.history_code(lab.history))
    if lab.error:
        st.warning(lab.error_note())
    quiz_gate(accumulation_question(lab.history, lab.x.flatten().tolist()))  # predict first, then see
    st.code(lab.printout(), language="text")
    light_html(acc.history_table(lab.history, names) + acc.grad_panels(lab.history, names, lab.x.flatten().tolist()),
               key="acc_history_view")
    st.caption(acc.HISTORY_NOTE)
    take_home(takehome.accumulation_takehome(lab, current_device()))


def optimizer_tab(opt: ol.OptimizerLab, names: list[str]) -> None:
    """optimizer.step() with and without optimizer.zero_grad(), on the same x."""
    buttons(opt, ol.OPTIMIZER_BUTTONS)
    with st.container(key="acc_opt_state"):
        st.code(opt.printout(), language="text")
    if opt.steps:
        light_html(svgplot.table(ol.optimizer_frame(opt.steps, names).reset_index(), "acc-opt"), key="acc_opt_table")
    else:
        st.info("Click a step button: each row will show the gradient `step()` used and the change it made.")
    st.caption(ol.STEPS_NOTE)
    take_home(takehome.optimizer_takehome(opt))
    with st.container(key="secondary_acc_opt_code"):
        show_code(ol.sgd_step, ol.sgd_step_without_zero_grad)


def microbatch_tab(frame: pd.DataFrame, row: int, seed: int) -> None:
    """k micro-batches with loss / k add up to the full batch's gradient."""
    m1, m2, m3 = st.columns(3)
    last_start = max(0, len(frame) - 2)  # each row needs a next close as its target
    init_widgets({"acc_mb_start": min(row, last_start), "acc_mb_size": 12, "acc_mb_k": 3})
    start = int(m1.number_input("first row", 0, last_start, key="acc_mb_start",
                                help="The batch starts at this candle row."))
    size = int(m2.number_input("batch size (rows)", 1, 512, key="acc_mb_size",
                               help="Rows in the full batch (each needs the next row's close as its target)."))
    k = int(m3.number_input("k micro-batches", 1, 64, key="acc_mb_k",
                            help="The batch is split into k parts; backward runs on each part's loss / k."))
    try:
        result = mb.compare_microbatches(frame, start, size, k, seed)
    except ValueError as exc:
        st.error(f"Cannot split this batch: {exc}")
    else:
        for col, (label, value) in zip(st.columns(2), result.metrics().items()):
            col.metric(label, value)
        light_html(svgplot.table(result.table.rename_axis("gradient").reset_index(), "acc-microbatch"),
                   key="acc_mb_table")
        st.caption("The difference with `/ k` is float32 rounding (sums taken in a different order), not maths.")
        take_home(takehome.microbatch_takehome(frame, start, size, k, seed))
    with st.container(key="secondary_acc_mb_code"):
        show_code(mb.full_batch_grad, mb.accumulated_grad)
