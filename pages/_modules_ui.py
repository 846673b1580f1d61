"""Pieces of the Modules page: seed-vs-live panels, the tensor-shape explorer, the seed's mistakes next to fixes."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from explorer import svgplot
from explorer.data.config import load_config, resolve_data_path
from explorer.labs import seed_bugs as bugs
from explorer.labs import shapes as sh
from explorer.teaching.questions import index_question, raw_price_loss
from explorer.teaching.source import source_of
from pages._common import show_code
from pages._components import light_html
from pages._quiz import quiz_ask


def side_by_side(seed_output: str, live: str, *functions) -> None:
    """The seed's printed output beside the same code's output now, and the code that ran."""
    for col, caption, text in zip(st.columns(2), ("Seed notebook — printed output", "Run now, by the code below"),
                                  (seed_output, live)):
        col.caption(caption)
        col.code(text, language="text", wrap_lines=True)
    show_code(*functions)


def versus(bug: bugs.SeedBug) -> None:
    """The seed's code and what it gives, beside the fixed code and what that gives (both run just now)."""
    if bug.note:
        st.markdown(bug.note)
    for col, (title, fn, out) in zip(st.columns(2), bug.sides()):
        col.markdown(f"**{title}**")
        col.code(source_of(fn), language="python", wrap_lines=True)
        col.code(out, language="text", wrap_lines=True)
    if bug.caption:
        st.caption(bug.caption)


def shape_explorer() -> None:
    """Choose a shape, see the tensor as brackets and as boxes, index it and see the result's shape."""
    c = st.columns([2, 1, 2])
    text = c[0].text_input("shape", key="modules_shape", max_chars=100,
                           help="Up to 6 sizes, e.g. (3, 2, 4, 2) or 2, 3.")
    seed = int(c[1].number_input("seed", 0, 2**31 - 1, key="modules_shape_seed"))
    index = c[2].text_input("index it", key="modules_index", max_chars=100,
                            help="Integers, slices, ... and None, e.g. t[2, 1], t[..., 0], t[:, 1:3], t[None].")
    shape, refused = sh.shape_or_last(text, st.session_state.get("modules_last_shape", (3, 2, 4, 2)))
    if refused:
        st.error(refused)
    st.session_state["modules_last_shape"] = shape
    t = sh.seed_tensor(shape, seed)
    st.code(f"test = torch.randn{shape}\ntest.shape\n{t.shape}", language="text")
    st.markdown(f"Read it from the outside in: **{sh.nesting_sentence(shape)}**.")
    brackets_and_boxes(t, "t")
    try:
        result = sh.index_tensor(t, index)
    except sh.ShapeError as exc:
        st.error(f"Index not accepted: {exc}")
        return
    st.markdown(f"**`{index.strip()}`**")
    if quiz_ask(index_question(index.strip(), shape, result.shape)):
        st.code(f"{index.strip()}.shape\n{result.shape}", language="text")
        brackets_and_boxes(result, index.strip())
    show_code(sh.seed_tensor, sh.indexed)


def brackets_and_boxes(t: torch.Tensor, name: str) -> None:
    brackets, boxes = st.columns(2)
    brackets.caption(f"{name} as nested brackets (print)")
    brackets.code(str(t), language="text", wrap_lines=True)
    boxes.caption(f"{name} as nested boxes: one box per dimension, labelled with its size")
    try:
        boxes.html(sh.BOX_CSS + sh.boxes_html(t))
    except sh.ShapeError as exc:
        boxes.info(str(exc))


def seed_bug_lessons(frame: pd.DataFrame) -> None:
    """Each of the seed's mistakes, run on the loaded candles next to its fix."""
    t_indep, t_dep = bugs.seed_tables(frame)
    coeffs = bugs.seed_coeffs(t_indep.shape[1])
    preds = (t_indep * coeffs).sum(axis=1)
    tabs = st.tabs(["bias per row", "MAE that is the MSE", "'Xavier' with rows", "doubled gradient",
                    "undefined device", "read-only NumPy"])
    with tabs[0]:
        table, new_rows = bugs.bias_report(t_indep, t_dep, preds)
        light_html(svgplot.table(table, "modules-bias"), key="modules_bias_table")
        st.code(new_rows, language="text", wrap_lines=True)
        st.markdown(bugs.BIAS_NOTE)
        show_code(bugs.seed_bias, bugs.fixed_bias, bugs.best_loss_with_bias, bugs.bias_on_new_rows,
                  caption="The code that ran (seed and fix)")
        st.page_link("pages/training.py", label="Training, with one bias →")
    with tabs[1]:
        st.markdown(f"The seed's `t_indep * coeffs` on the loaded candles ({len(t_dep):,} rows, raw prices).")
        if quiz_ask(raw_price_loss("modules_raw_loss", torch.nn.functional.mse_loss(preds, t_dep).item())):
            versus(bugs.losses_bug(preds, t_dep))
    with tabs[2]:
        versus(bugs.xavier_bug(*t_indep.shape))
    with tabs[3]:
        versus(bugs.backward_twice_bug(t_indep, t_dep, coeffs))
        st.page_link("pages/accumulation.py", label="Gradient accumulation →")
    with tabs[4]:
        versus(bugs.device_bug())
    with tabs[5]:
        versus(bugs.read_only_bug(str(resolve_data_path(load_config()))))
        show_code(bugs.seed_read, bugs.seed_from_numpy)
        st.page_link("pages/data.py", label="Data →")
