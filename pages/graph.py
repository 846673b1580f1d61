"""Graph (seed Part B): y = x @ w.T + b on a candle row — op journal, the autograd graph, backward step by step."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.autograd.backward import trace_backward
from explorer.autograd.expr import ExpressionError
from explorer.autograd.gradcheck import check_gradients
from explorer.autograd.graph import build_graph
from explorer.autograd.graph_dot import graph_to_dot
from explorer.autograd.lesson import (DEFAULT_EXPRESSION, GraphLesson, backward_view, example_notes, forward_view,
                                      forward_with_journal, gradient_printout, gradient_stoppers, make_leaves, problems,
                                      run_lesson, seed_printout)
from explorer.data.sources import literal
from explorer.teaching.takehome import graph_script
from explorer import svgplot
from pages._common import current_candles, current_device, publish_state, share_state, show_code
from pages._components import graphviz_chart, light_html
from pages._quiz import quiz_ask
from explorer.teaching.questions import graph_w_grad
from pages._state import init_widgets
from pages._graph_ui import (advance_players, large_graph_section, lesson_spec, readable_dot, refuse_past_end,
                             start_over_when_changed, stepper)
from pages._graph_views import (cached_lesson, draw_graph, gradcheck_view, graph_and_side, inspector, lesson_extra,
                                node_picker, view_picker, why_gradients)

st.title("The computational graph, live")
st.markdown("Every tensor operation records a node of PyTorch's autograd graph. Step through the forward pass "
            "as it builds the graph, then through `backward()` as it walks it in reverse — with the real numbers.")


def lesson_or_last_good(frame: pd.DataFrame, row: int, seed: int, text: str, device: str) -> GraphLesson:
    """Run the learner's expression; if it is refused, say why and keep showing the last good one."""
    try:
        lesson = cached_lesson(frame, row, seed, text, device)
        st.session_state["graph_last_good"] = text
        return lesson
    except ExpressionError as err:
        last = st.session_state.get("graph_last_good", DEFAULT_EXPRESSION)
        st.error(f"Expression not accepted: {literal(err, keep_code=True)}. Still showing `{last}`.")
        return cached_lesson(frame, row, seed, last, device)


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
examples = st.container(key="secondary_graph_examples")
lesson = lesson_or_last_good(frame, row, seed, text, current_device())
start_over_when_changed((row, seed, lesson.expression.text))
with examples:
    notes = lesson_extra("examples", lambda: example_notes(frame, row, seed))
    st.caption("Try " + " · ".join(f"`{e}`" + (f" ({n})" if n else "") for e, n in notes.items()) +
               " — on this row. Allowed: `x w b`, numbers, `+ - * / @ **`, "
               "unary minus, `.T`, and relu sigmoid tanh exp log abs sum mean pow clamp softmax.")

left, right = st.columns([3, 2])
left.code(lesson_extra("seed", lambda: seed_printout(lesson)), language="text", wrap_lines=True)
right.markdown("**A leaf** is a tensor you made yourself, not the result of an op. `w` and `b` are leaves with "
               "`requires_grad=True`: each gets an `AccumulateGrad` node, the place where `.grad` is written. "
               "`x` is data and needs no gradient, so it is not a node of autograd's graph; the op that uses it "
               "only *saves* a copy, because the gradient of `w` needs it.")
for problem in problems(lesson):
    right.error(problem)
for note in gradient_stoppers(lesson):
    right.warning(note)

n_ops, n_steps = len(lesson.journal.entries), len(lesson.trace.steps)
refuse_past_end({"fwd": n_ops, "bwd": n_steps})


def journal_panel(lesson: GraphLesson, k: int) -> None:
    """The current op worked out, and the journal so far."""
    if k == 0:
        st.info("No op has run yet: only the leaves x, w and b exist.")
    else:
        journal = pd.DataFrame([e.as_row() for e in lesson.journal.entries[:k]]).astype({"#": int})
        light_html(svgplot.pre(lesson.journal.entries[k - 1].describe()) + svgplot.table(journal, "graph-journal"),
                   key="graph_journal")  # redrawn at every step: light


@st.fragment  # a step click reruns these steps only, not the page around them (Chromium: 104 -> 77 ms to idle)
def forward_steps() -> None:
    """Step through the op journal as it builds the graph."""
    k = stepper("fwd", n_ops, "ops run so far", default=n_ops, keys=("Left", "Right", "P"))
    model, active = forward_view(lesson, k)
    g, j = graph_and_side()
    with g:
        draw_graph(model, active, "fwd")
    with j:
        journal_panel(lesson, k)
    inspector(lesson, model, active, None)
    dot = graph_to_dot(model, highlight=active)
    with st.container(key="secondary_graph_downloads", horizontal=True):
        st.download_button("Download DOT", dot, "graph.dot", key="graph_fwd_download", on_click="ignore",
                           help="The graph as Graphviz DOT text (open it with `dot -Tsvg`).")
        takehome = lesson_extra("takehome", lambda: graph_script(lesson.x, row, seed, lesson.expression.text,
                                                                 current_device()))
        st.download_button("Take it home: Python script", takehome,
                           "graph_lesson.py", key="graph_takehome", on_click="ignore", icon=":material/download:",
                           help="A plain script (torch only) that rebuilds x, w, b and y and prints the same "
                                "numbers, then w.grad and b.grad.")
    publish_state(*SPEC)  # the link carries the step on screen
    advance_players("fwd", n_ops)


def forward_panel() -> None:
    """The node picker, the forward steps; torchviz's picture below ours on request, and the code (none of them
    changes with the step, so none is in the steps' fragment)."""
    node_picker(lesson)
    forward_steps()
    with st.container(key="secondary_graph_classic"):
        classic = st.toggle("below it: torchviz's classic make_dot picture", key="graph_classic",
                            help="torchviz's make_dot drawing of the same graph, for comparison.")
    if classic:  # torchviz draws the finished graph only, and only before backward()
        st.caption("torchviz `make_dot(y, params=…, show_attrs=True, show_saved=True)`, before backward()")
        graphviz_chart(readable_dot(lesson_extra("classic", lambda: lesson.classic_before)), "graph_classic_chart")
    with st.container(key="secondary_graph_code_fwd"):
        show_code(make_leaves, forward_with_journal, run_lesson)


@st.fragment
def backward_steps() -> None:
    """Step through backward(): gradients so far on the graph, the chain-rule step with its numbers."""
    k = stepper("bwd", n_steps, "backward steps run", default=0, keys=("Left", "Right", "P"))
    model, active = backward_view(lesson, k)
    g, j = graph_and_side()
    with g:
        draw_graph(model, active, "bwd")
    with j:
        if k == 0:
            st.info("backward() has not run yet. It starts at y with ∂y/∂y = 1 and runs the nodes in reverse.")
        else:
            steps = pd.DataFrame([{"step": s.index, "node": s.name, "inputs": ", ".join(s.input_names)}
                                  for s in lesson.trace.steps[:k]])
            light_html(svgplot.pre(lesson.trace.steps[k - 1].chain_rule()) + svgplot.table(steps, "graph-steps"),
                       key="graph_steps")
        answered = k != n_steps or quiz_ask(graph_w_grad(lesson.w.grad.flatten().tolist(), lesson.expression.text))
        if k == n_steps and answered:
            st.code(gradient_printout(lesson), language="text", wrap_lines=True)
    inspector(lesson, model, active, k)
    if answered:
        with st.expander("Why w.grad and b.grad are what they are", expanded=k == n_steps):
            why_gradients(lesson)
    publish_state(*SPEC)
    advance_players("bwd", n_steps)


def backward_panel() -> None:
    """The node picker, the backward steps, then torchviz asked for its picture after backward()."""
    node_picker(lesson)
    backward_steps()
    with st.container(key="secondary_graph_classic_after"):
        after = st.toggle("ask torchviz for the picture now, after backward()", key="graph_classic_after",
                          help="torchviz reads the saved tensors, which backward() has already freed.")
    if after:
        error = lesson_extra("classic_after", lambda: lesson.classic_after_error)
        st.warning(f"torchviz's `make_dot(y, show_saved=True)` raised RuntimeError: *{error}* "
                   "backward() frees the tensors each node saved as soon as the node has run — our graph marks "
                   "them *freed* instead of reading them. Use `backward(retain_graph=True)` to keep them.")
    with st.container(key="secondary_graph_code_bwd"):
        show_code(trace_backward, build_graph)


view = view_picker()
if view == "fwd":
    forward_panel()
elif view == "bwd":
    backward_panel()
elif view == "check":
    gradcheck_view(lesson)
    st.caption("A FAIL is not always autograd's fault: finite differences lose about |f|·1e-16/eps to rounding, "
               "so tiny gradients next to huge values can miss the tolerance — compare the two columns.")
    with st.container(key="secondary_graph_code_gradcheck"):
        show_code(check_gradients)
else:
    large_graph_section()

publish_state(*SPEC)  # after the widgets: the URL shows what is on screen
