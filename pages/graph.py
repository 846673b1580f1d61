"""Graph (seed Part B): y = x @ w.T + b on a candle row — op journal, the autograd graph, backward step by step."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from explorer.autograd.backward import trace_backward
from explorer.autograd.expr import ExpressionError
from explorer.autograd.gradcheck import check_gradients
from explorer.autograd.graph import build_graph, graph_to_dot
from explorer.autograd.lesson import (DEFAULT_EXPRESSION, EXAMPLES, GraphLesson, backward_view, forward_view,
                                   forward_with_journal, gradient_printout, make_leaves, run_lesson, seed_printout)
from explorer.data.sources import literal
from explorer.teaching.takehome import graph_script
from pages._common import current_candles, current_device, publish_state, share_state, show_code
from pages._quiz import quiz_ask
from explorer.teaching.questions import graph_w_grad
from pages._state import init_widgets
from pages._graph_ui import (advance_players, large_graph_section, lesson_spec, readable_dot, refuse_past_end,
                             start_over_when_changed, stepper)

st.title("The computational graph, live")
st.markdown("Every tensor operation records a node of PyTorch's autograd graph. Step through the forward pass "
            "as it builds the graph, then through `backward()` as it walks it in reverse — with the real numbers.")


def lesson_or_last_good(frame: pd.DataFrame, row: int, seed: int, text: str, device: str) -> GraphLesson:
    """Run the learner's expression; if it is refused, say why and keep showing the last good one."""
    try:
        lesson = run_lesson(frame, row, seed, text, device)
        st.session_state["graph_last_good"] = text
        return lesson
    except ExpressionError as err:
        last = st.session_state.get("graph_last_good", DEFAULT_EXPRESSION)
        st.error(f"Expression not accepted: {literal(err, keep_code=True)}. Still showing `{last}`.")
        return run_lesson(frame, row, seed, last, device)


frame = current_candles().frame
SPEC = lesson_spec(len(frame))
share_state(*SPEC)  # a shared link's row, seed, expression, step positions and options, checked
init_widgets({"graph_row": min(100, len(frame) - 1), "graph_seed": 0, "graph_expr": DEFAULT_EXPRESSION})
c = st.columns([1, 1, 3])
row = int(c[0].number_input("candle row", 0, len(frame) - 1, key="graph_row",
                            help="Which candle is x: row i of the loaded data (open, high, low, close, volume)."))
with c[1].container(key="secondary_graph_seed"):
    seed = int(st.number_input("seed for w and b", 0, 2**31 - 1, key="graph_seed",
                               help="w and b are drawn from torch.randn with this seed: same seed, same numbers."))
text = c[2].text_input("forward expression (edit me)", key="graph_expr", max_chars=300,
                       help="Any formula over x, w and b that ends in one number; Enter to run it.")
with st.container(key="secondary_graph_examples"):
    st.caption("Try " + " · ".join(f"`{e}`" for e in EXAMPLES) + ". Allowed: `x w b`, numbers, `+ - * / @ **`, "
               "unary minus, `.T`, and relu sigmoid tanh exp log abs sum mean pow clamp softmax.")
lesson = lesson_or_last_good(frame, row, seed, text, current_device())
start_over_when_changed((row, seed, lesson.expression.text))

left, right = st.columns([3, 2])
left.code(seed_printout(lesson), language="text")
right.markdown("**A leaf** is a tensor you made yourself, not the result of an op. `w` and `b` are leaves with "
               "`requires_grad=True`: each gets an `AccumulateGrad` node, the place where `.grad` is written. "
               "`x` is data and needs no gradient, so it is not a node of autograd's graph; `MmBackward0` only "
               "*saves* a copy of it, because the gradient of `w` needs it.\n\n"
               "**Why `w.grad == x`:** y = x₀w₀ + … + x₄w₄ + b, so ∂y/∂wᵢ = xᵢ and ∂y/∂b = 1.")

n_ops, n_steps = len(lesson.journal.entries), len(lesson.trace.steps)
refuse_past_end({"fwd": n_ops, "bwd": n_steps})
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
    k = stepper("fwd", n_ops, "ops run so far", default=n_ops, keys=("Left", "Right", "P"))
    model, active = forward_view(lesson, k)
    dot = graph_to_dot(model, highlight=active)
    with st.container(key="secondary_graph_classic"):
        classic = st.toggle("beside it: torchviz's classic make_dot picture", key="graph_classic",
                            help="torchviz's make_dot drawing of the same graph, for comparison.")
    g, j = st.columns(2 if classic else [3, 2])
    g.graphviz_chart(dot)
    with g.container(key="secondary_graph_downloads", horizontal=True):
        st.download_button("Download DOT", dot, "graph.dot", key="graph_fwd_download", on_click="ignore",
                           help="The graph as Graphviz DOT text (open it with `dot -Tsvg`).")
        st.download_button("Take it home: Python script", graph_script(lesson.x, row, seed, lesson.expression.text,
                                                                        current_device()),
                           "graph_lesson.py", key="graph_takehome", on_click="ignore", icon=":material/download:",
                           help="A plain script (torch only) that rebuilds x, w, b and y and prints the same "
                                "numbers, then w.grad and b.grad.")
    with j:
        if classic:  # torchviz draws the finished graph only, and only before backward()
            st.caption("torchviz `make_dot(y, params=…, show_attrs=True, show_saved=True)`, before backward()")
            st.graphviz_chart(readable_dot(lesson.classic_before))
        else:
            journal_panel(lesson, k)
    if classic:
        journal_panel(lesson, k)
    with st.container(key="secondary_graph_code_fwd"):
        show_code(make_leaves, forward_with_journal, run_lesson)

with bwd:
    k = stepper("bwd", n_steps, "backward steps run", default=0, keys=("Shift+Left", "Shift+Right", "Shift+P"))
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
        if k == n_steps and quiz_ask(graph_w_grad(lesson.w.grad.flatten().tolist(), lesson.expression.text)):
            st.code(gradient_printout(lesson), language="text")
            w_is_x, b_is_1 = torch.equal(lesson.w.grad, lesson.x), torch.equal(lesson.b.grad, torch.ones_like(lesson.b))
            (st.success if w_is_x and b_is_1 else st.info)(
                f"w.grad == x is {w_is_x} and b.grad == 1 is {b_is_1} for `{lesson.expression.text}`.")
    with st.container(key="secondary_graph_classic_after"):
        after = st.toggle("ask torchviz for the picture now, after backward()", key="graph_classic_after",
                          help="torchviz reads the saved tensors, which backward() has already freed.")
    if after:
        st.warning(f"torchviz's `make_dot(y, show_saved=True)` raised RuntimeError: *{lesson.classic_after_error}* "
                   "backward() frees the tensors each node saved as soon as the node has run — our graph marks "
                   "them *freed* instead of reading them. Use `backward(retain_graph=True)` to keep them.")
    with st.container(key="secondary_graph_code_bwd"):
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
    with st.container(key="secondary_graph_code_gradcheck"):
        show_code(check_gradients)

with big:
    large_graph_section()

publish_state(*SPEC)  # after the steppers' callbacks moved the positions: the URL shows what is on screen
advance_players({"fwd": n_ops, "bwd": n_steps})
