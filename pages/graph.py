"""Graph (seed Part B): y = x @ w.T + b on a candle row — op journal, the autograd graph, backward step by step."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from explorer.backward import trace_backward
from explorer.expr import ExpressionError
from explorer.gradcheck import check_gradients
from explorer.graph import build_graph, graph_to_dot
from explorer.graph_lesson import (DEFAULT_EXPRESSION, EXAMPLES, GraphLesson, backward_view, forward_view,
                                   forward_with_journal, gradient_printout, make_leaves, run_lesson, seed_printout)
from pages._common import current_candles, show_code
from pages._graph_ui import advance_players, large_graph_section, stepper

st.title("The computational graph, live")
st.markdown("Every tensor operation records a node of PyTorch's autograd graph. Step through the forward pass "
            "as it builds the graph, then through `backward()` as it walks it in reverse — with the real numbers.")


def lesson_or_last_good(frame: pd.DataFrame, row: int, seed: int, text: str) -> GraphLesson:
    """Run the learner's expression; if it is refused, say why and keep showing the last good one."""
    try:
        lesson = run_lesson(frame, row, seed, text)
        st.session_state["graph_last_good"] = text
        return lesson
    except ExpressionError as err:
        last = st.session_state.get("graph_last_good", DEFAULT_EXPRESSION)
        why = str(err).replace("\\", "\\\\").replace("_", "\\_").replace("*", "\\*")  # literal, not markdown
        st.error(f"Expression not accepted: {why}. Still showing `{last}`.")
        return run_lesson(frame, row, seed, last)


frame = current_candles().frame
c = st.columns([1, 1, 3])
row = int(c[0].number_input("candle row", 0, len(frame) - 1, min(100, len(frame) - 1), key="graph_row"))
seed = int(c[1].number_input("seed for w and b", 0, 2**31 - 1, 0, key="graph_seed"))
text = c[2].text_input("forward expression (edit me)", DEFAULT_EXPRESSION, key="graph_expr", max_chars=300)
st.caption("Try " + " · ".join(f"`{e}`" for e in EXAMPLES) + ". Allowed: `x w b`, numbers, `+ - * / @ **`, "
           "unary minus, `.T`, and relu sigmoid tanh exp log abs sum mean pow clamp softmax.")
lesson = lesson_or_last_good(frame, row, seed, text)
if st.session_state.get("graph_sig") != (row, seed, lesson.expression.text):  # new lesson: start over
    st.session_state["graph_sig"] = (row, seed, lesson.expression.text)
    for key in ("graph_fwd_pos", "graph_bwd_pos", "graph_fwd_playing", "graph_bwd_playing"):
        st.session_state.pop(key, None)

left, right = st.columns([3, 2])
left.code(seed_printout(lesson), language="text")
right.markdown("**A leaf** is a tensor you made yourself, not the result of an op. `w` and `b` are leaves with "
               "`requires_grad=True`: each gets an `AccumulateGrad` node, the place where `.grad` is written. "
               "`x` is data and needs no gradient, so it is not a node of autograd's graph; `MmBackward0` only "
               "*saves* a copy of it, because the gradient of `w` needs it.\n\n"
               "**Why `w.grad == x`:** y = x₀w₀ + … + x₄w₄ + b, so ∂y/∂wᵢ = xᵢ and ∂y/∂b = 1.")

n_ops, n_steps = len(lesson.journal.entries), len(lesson.trace.steps)
fwd, bwd, gc, big = st.tabs(["1 · Forward: op journal", "2 · Backward step by step", "3 · Gradcheck",
                             "4 · Large graph (MLP)"])
def journal_panel(lesson: GraphLesson, k: int) -> None:
    """The current op worked out, and the journal so far."""
    if k == 0:
        st.info("No op has run yet: only the leaves x, w and b exist.")
    else:
        st.code(lesson.journal.entries[k - 1].describe(), language="text", wrap_lines=True)
    st.dataframe(pd.DataFrame([e.as_row() for e in lesson.journal.entries[:k]]), hide_index=True)


with fwd:
    k = stepper("fwd", n_ops, "ops run so far", default=n_ops)
    model, active = forward_view(lesson, k)
    dot = graph_to_dot(model, highlight=active)
    classic = st.toggle("beside it: torchviz's classic make_dot picture", key="graph_classic")
    g, j = st.columns(2 if classic else [3, 2])
    g.graphviz_chart(dot)
    g.download_button("Download DOT", dot, "graph.dot", key="graph_fwd_download", on_click="ignore")
    with j:
        if classic:  # torchviz draws the finished graph only, and only before backward()
            st.caption("torchviz `make_dot(y, params=…, show_attrs=True, show_saved=True)`, before backward()")
            st.graphviz_chart(lesson.classic_before)
        else:
            journal_panel(lesson, k)
    if classic:
        journal_panel(lesson, k)
    show_code(make_leaves, forward_with_journal, run_lesson)

with bwd:
    k = stepper("bwd", n_steps, "backward steps run", default=0)
    model, active = backward_view(lesson, k)
    g, j = st.columns([3, 2])
    g.graphviz_chart(graph_to_dot(model, highlight=active))
    with j:
        if k == 0:
            st.info("backward() has not run yet. It starts at y with ∂y/∂y = 1 and runs the nodes in reverse.")
        else:
            st.code(lesson.trace.steps[k - 1].chain_rule(), language="text", wrap_lines=True)
        st.dataframe(pd.DataFrame([{"step": s.index, "node": s.name, "inputs": ", ".join(s.input_names)}
                                   for s in lesson.trace.steps[:k]]), hide_index=True)
        if k == n_steps:
            st.code(gradient_printout(lesson), language="text")
            same = torch.equal(lesson.w.grad, lesson.x) and torch.equal(lesson.b.grad, torch.ones(1))
            (st.success if same else st.info)(
                f"w.grad == x is {torch.equal(lesson.w.grad, lesson.x)} and b.grad == 1 is "
                f"{torch.equal(lesson.b.grad, torch.ones(1))} for `{lesson.expression.text}`.")
    if st.toggle("ask torchviz for the picture now, after backward()", key="graph_classic_after"):
        st.warning(f"torchviz's `make_dot(y, show_saved=True)` raised RuntimeError: *{lesson.classic_after_error}* "
                   "backward() frees the tensors each node saved as soon as the node has run — our graph marks "
                   "them *freed* instead of reading them. Use `backward(retain_graph=True)` to keep them.")
    show_code(trace_backward, build_graph)

with gc:
    report = check_gradients(lesson.expression, lesson.x, lesson.w, lesson.b)
    st.markdown(f"Autograd's Jacobian against central finite differences (eps = {report.eps:g}) in float64; "
                f"PASS when |diff| ≤ {report.atol:g} + {report.rtol:g}·|numeric| everywhere (gradcheck's rule).")
    st.dataframe(pd.DataFrame([leaf.as_row() for leaf in report.leaves]), hide_index=True)
    verdict = "PASS" if report.torch_gradcheck else "FAIL"
    (st.success if report.torch_gradcheck == report.passed else st.warning)(
        f"torch.autograd.gradcheck on the same function: {verdict}")
    st.caption("A FAIL is not always autograd's fault: finite differences lose about |f|·1e-16/eps to rounding, "
               "so tiny gradients next to huge values can miss the tolerance — compare the two columns.")
    show_code(check_gradients)

with big:
    large_graph_section()

advance_players({"fwd": n_ops, "bwd": n_steps})
