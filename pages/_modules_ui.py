"""Pieces of the Modules page: seed-vs-live panels, the tensor-shape explorer, the seed's mistakes next to fixes."""
from __future__ import annotations

import inspect
import re
import textwrap

import pandas as pd
import streamlit as st
import torch

from explorer.data.config import load_config, resolve_data_path
from explorer.labs import seed_bugs as bugs
from explorer.labs.modules import NeuralNetwork
from explorer.labs.shapes import (BOX_CSS, ShapeError, boxes_html, index_tensor, indexed, nesting_sentence, parse_shape,
                                  seed_tensor)
from explorer.teaching.questions import index_shape, raw_price_loss
from explorer import svgplot
from pages._common import show_code
from pages._components import light_html
from pages._quiz import quiz_ask

DEFAULT_SHAPE = (3, 2, 4, 2)


def side_by_side(seed_output: str, live: str, *functions) -> None:
    """The seed's printed output beside the same code's output now, and the code that ran."""
    seed, ours = st.columns(2)
    seed.caption("Seed notebook — printed output")
    seed.code(seed_output, language="text", wrap_lines=True)
    ours.caption("Run now, by the code below")
    ours.code(live, language="text", wrap_lines=True)
    show_code(*functions)


def source(fn) -> str:
    return textwrap.dedent(inspect.getsource(fn))


def versus(seed_fn, seed_out: str, fixed_fn, fixed_out: str, seed_title: str = "Seed, as written") -> None:
    """The seed's code and what it gives, beside the fixed code and what that gives (both run just now)."""
    left, right = st.columns(2)
    for col, title, fn, out in ((left, seed_title, seed_fn, seed_out), (right, "Fixed", fixed_fn, fixed_out)):
        col.markdown(f"**{title}**")
        col.code(source(fn), language="python", wrap_lines=True)
        col.code(out, language="text", wrap_lines=True)


def _shape_or_last(text: str) -> tuple[int, ...]:
    try:
        shape = parse_shape(text)
    except ShapeError as exc:
        shape = st.session_state.get("modules_last_shape", DEFAULT_SHAPE)
        st.error(f"Shape not accepted: {exc}. Still showing {list(shape)}.")
    st.session_state["modules_last_shape"] = shape
    return shape


def shape_explorer() -> None:
    """Choose a shape, see the tensor as brackets and as boxes, index it and see the result's shape."""
    c = st.columns([2, 1, 2])
    shape = _shape_or_last(c[0].text_input("shape", str(DEFAULT_SHAPE), key="modules_shape", max_chars=100,
                                           help="Up to 6 sizes, e.g. (3, 2, 4, 2) or 2, 3."))
    seed = int(c[1].number_input("seed", 0, 2**31 - 1, 0, key="modules_shape_seed"))
    index = c[2].text_input("index it", "t[2]", key="modules_index", max_chars=100,
                            help="Integers, slices, ... and None, e.g. t[2, 1], t[..., 0], t[:, 1:3], t[None].")
    t = seed_tensor(shape, seed)
    st.code(f"test = torch.randn{shape}\ntest.shape\n{t.shape}", language="text")
    st.markdown(f"Read it from the outside in: **{nesting_sentence(shape)}**.")
    _brackets_and_boxes(t, "t")
    try:
        result = index_tensor(t, index)
    except ShapeError as exc:
        st.error(f"Index not accepted: {exc}")
        return
    st.markdown(f"**`{index.strip()}`**")
    key = "modules_index_" + re.sub(r"\W", "_", index.strip())  # one question per index; a CSS-safe key
    if quiz_ask(index_shape(key, index.strip(), shape, result.shape)):
        st.code(f"{index.strip()}.shape\n{result.shape}", language="text")
        _brackets_and_boxes(result, index.strip())
    show_code(seed_tensor, indexed)


def _brackets_and_boxes(t: torch.Tensor, name: str) -> None:
    brackets, boxes = st.columns(2)
    brackets.caption(f"{name} as nested brackets (print)")
    brackets.code(str(t), language="text", wrap_lines=True)
    boxes.caption(f"{name} as nested boxes: one box per dimension, labelled with its size")
    try:
        boxes.html(BOX_CSS + boxes_html(t))
    except ShapeError as exc:
        boxes.info(str(exc))


def seed_bug_lessons(frame: pd.DataFrame) -> None:
    """Each of the seed's mistakes, run on the loaded candles next to its fix."""
    t_indep, t_dep = bugs.seed_tables(frame)
    coeffs = bugs.seed_coeffs(t_indep.shape[1])
    preds = (t_indep * coeffs).sum(axis=1)
    tabs = st.tabs(["bias per row", "MAE that is the MSE", "'Xavier' with rows", "doubled gradient",
                    "undefined device", "read-only NumPy"])
    with tabs[0]:
        _per_row_bias(t_indep, t_dep, preds)
    with tabs[1]:
        st.markdown(f"The seed's `t_indep * coeffs` on the loaded candles ({len(t_dep):,} rows, raw prices).")
        if quiz_ask(raw_price_loss("modules_raw_loss", torch.nn.functional.mse_loss(preds, t_dep).item())):
            versus(bugs.seed_losses, bugs.seed_losses(preds, t_dep), bugs.fixed_losses, bugs.fixed_losses(preds, t_dep))
            st.caption("The seed printed the MSE twice, once labelled MAE (2.4529e+08 both times). The real MAE is "
                       "in dollars; the MSE in dollars squared.")
    with tabs[2]:
        _xavier(*t_indep.shape)
    with tabs[3]:
        first, second = bugs.seed_backward_twice(t_indep, t_dep, coeffs)
        fixed = bugs.fixed_backward_twice(t_indep, t_dep, coeffs)
        versus(bugs.seed_backward_twice, f"coeffs.grad[0]: {first:.4e} → {second:.4e} (×{second / first:g})",
               bugs.fixed_backward_twice, f"coeffs.grad[0]: {fixed[0]:.4e} → {fixed[1]:.4e} (×{fixed[1] / fixed[0]:g})")
        st.caption("The seed: 9.5942e+11 → 1.9188e+12 in cells 20–21. `retain_graph=True` lets the second call "
                   "run; `backward()` adds, so the gradient doubles. See the Gradient accumulation page.")
        st.page_link("pages/accumulation.py", label="Gradient accumulation →")
    with tabs[4]:
        model = NeuralNetwork()
        versus(bugs.seed_predict, bugs.run_seed_predict(model), bugs.fixed_predict,
               f"Predicted class: {bugs.fixed_predict(model)}")
    with tabs[5]:
        _read_only()


def _per_row_bias(t_indep: torch.Tensor, t_dep: torch.Tensor, preds: torch.Tensor) -> None:
    rows, new_rows = [], []
    for fn in (bugs.seed_bias, bugs.fixed_bias):
        bias = fn(t_indep)
        rows.append({"code": fn.__name__, "bias.shape": str(list(bias.shape)), "parameters": bias.numel(),
                     "lowest training MSE the bias alone reaches": f"{bugs.best_loss_with_bias(preds, t_dep, bias):.4g}"})
        new_rows.append(f"{fn.__name__}: preds_new + bias → {bugs.bias_on_new_rows(preds[:10].detach(), bias)}")
    light_html(svgplot.table(pd.DataFrame(rows), "modules-bias"), key="modules_bias_table")
    st.code("10 rows the model has not seen:\n" + "\n".join(new_rows), language="text", wrap_lines=True)
    st.markdown("`n, c = t_indep.shape` makes **n the number of rows**, so `torch.zeros(n)` is one bias *per row*. "
                "With one free number per row the model can copy every row's error and reach a training loss of "
                "about 0 without learning anything — and a new candle has no bias of its own.")
    show_code(bugs.seed_bias, bugs.fixed_bias, bugs.best_loss_with_bias, bugs.bias_on_new_rows,
              caption="The code that ran (seed and fix)")
    st.page_link("pages/training.py", label="Training, with one bias →")


def _xavier(n: int, c: int) -> None:
    seed_w = bugs.seed_xavier(n, c, torch.Generator().manual_seed(0))
    fixed_w = bugs.fixed_xavier(n, c, torch.Generator().manual_seed(0))
    versus(bugs.seed_xavier, f"n = {n:,} rows → weights.std() = {seed_w.std():.4f}\n"
           f"std of x @ weights on unit-variance inputs: {bugs.output_spread(seed_w, n):.3f}",
           bugs.fixed_xavier, f"c = {c} inputs (fan-in) → weights.std() = {fixed_w.std():.4f}\n"
           f"std of x @ weights on unit-variance inputs: {bugs.output_spread(fixed_w, n):.3f}")
    st.caption(f"Xavier/Glorot scales by the layer's fan-in ({c} features) so outputs keep about unit variance; "
               f"the number of rows ({n:,}) has nothing to do with one row's sum, and shrinks outputs toward 0.")


def _read_only() -> None:
    data = bugs.seed_read(str(resolve_data_path(load_config())))
    as_read, after_copy = bugs.values_writeable(data)
    outputs = {fn: "\n".join(bugs.warnings_from(fn, data)) or "no warning"
               for fn in (bugs.seed_from_numpy, bugs.one_block_from_numpy, bugs.fixed_from_numpy)}
    st.markdown(f"On pandas {pd.__version__}, `.values` of the frame as `read_csv` built it is "
                f"{'writable' if as_read else 'read-only'} (each column its own block, so pandas assembles a new "
                f"array); after `data.copy()` it is {'writable' if after_copy else 'read-only'} (one block, and "
                "copy-on-write hands out a read-only view). torch's warning, captured now:")
    versus(bugs.one_block_from_numpy, outputs[bugs.one_block_from_numpy], bugs.fixed_from_numpy,
           outputs[bugs.fixed_from_numpy], seed_title="The seed's cell, on a one-block frame")
    st.caption(f"The seed's own cell on the file as read: {outputs[bugs.seed_from_numpy]}. torch prints this warning "
               "once per program; the app switches `torch.set_warn_always(True)` on around the call so every "
               "session sees it. The Data page copies (`to_numpy(copy=True)`), so its tensors never alias pandas.")
    show_code(bugs.seed_read, bugs.seed_from_numpy)
    st.page_link("pages/data.py", label="Data →")
