"""Pieces of the Modules page: seed-vs-live panels, the tensor-shape explorer, the seed's mistakes next to fixes."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from explorer.data.config import load_config, resolve_data_path
from explorer.labs import seed_bugs as bugs, shapes as sh
from explorer.teaching.controls import PageState
from explorer.teaching.questions import index_question
from explorer.teaching.source import source_of
from pages._common import show_code
from pages._components import light_html
from pages._state import widgets
from pages._quiz import quiz_ask


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
