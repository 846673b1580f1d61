"""Graph (seed Part B): y = x @ w.T + b on a candle row — op journal, the autograd graph, backward step by step."""
from __future__ import annotations

import streamlit as st

from explorer.autograd import controls, session, steps, views
from explorer.autograd.gradcheck import check_gradients
from explorer.autograd.lesson import gradient_printout, seed_printout
from explorer.teaching.questions import graph_w_grad
from explorer.teaching.takehome import graph_takehome
from pages._common import current_candles, current_device, publish_state, share_state, show_code
from pages._components import graphviz_chart, light_html, say, take_home
from pages._graph_views import advance_players, large_graph_section, lesson_extra, node_picker, step_view, stepper
from pages._quiz import quiz_ask, quiz_hidden
from pages._state import init_widgets, widgets

st.title("The computational graph, live")
st.markdown(views.INTRO)


frame = current_candles().frame
GRAPH = controls.graph_state(len(frame))
share_state(*GRAPH.spec)  # a shared link's row, seed, expression, step positions and options, checked
init_widgets(controls.first_values(GRAPH))  # the large graph's options get theirs when it shows
c = st.columns([1, 1, 3])
row, seed, text = widgets([c[0], c[1].container(key="secondary_graph_seed"), c[2]], GRAPH, *controls.LESSON_INPUTS)
examples = st.container(key="secondary_graph_examples")
lesson, refused = session.kept_lesson(st.session_state, frame, row, seed, text, current_device())
if refused:  # named; the last good expression stays on screen
    st.error(refused)
steps.start_over(st.session_state, (row, seed, lesson.expression.text))
examples.caption(views.examples_caption(lesson_extra("examples", lambda: views.example_notes(frame, row, seed))))

left, right = st.columns([3, 2])
left.code(lesson_extra("seed", lambda: seed_printout(*lesson.tensors())), language="text", wrap_lines=True)
say(right, views.beside_seed(lesson))  # what a leaf is; every NaN / inf named; where the gradient was stopped
n_ops, n_steps = len(lesson.journal.entries), len(lesson.trace.steps)
for warning in steps.refuse_past_end(st.session_state, {"fwd": n_ops, "bwd": n_steps}):
    st.warning(warning)


@st.fragment  # a step click reruns these steps only, not the page around them (Chromium: 104 -> 77 ms to idle)
def forward_steps() -> None:
    """Step through the op journal as it builds the graph, the current op worked out beside it."""
    k = stepper("fwd", n_ops, default=n_ops)
    step_view(lesson, "fwd", k)
    with st.container(key="secondary_graph_downloads", horizontal=True):
        st.download_button("Download DOT", views.forward_dot(lesson, k), "graph.dot", key="graph_fwd_download",
                           on_click="ignore", help=views.DOT_HELP)
        take_home(graph_takehome(lesson.x, row, seed, lesson.expression.text, current_device()))
    advance_players("fwd", n_ops, GRAPH)


@st.fragment
def backward_steps() -> None:
    """Step through backward(): gradients so far on the graph, the chain-rule step with its numbers."""
    k = stepper("bwd", n_steps, default=0)
    question = graph_w_grad(lesson.w.grad.flatten().tolist(), lesson.expression.text)
    with step_view(lesson, "bwd", k, quiz_hidden(question)):  # w.grad as '?' until predicted, at every step
        answered = k != n_steps or quiz_ask(question)
        if k == n_steps and answered:
            st.code(gradient_printout(lesson.w, lesson.b), language="text", wrap_lines=True)
    if answered:
        with st.expander("Why w.grad and b.grad are what they are", expanded=k == n_steps):
            say(st, views.why_gradients(lesson))
    advance_players("bwd", n_steps, GRAPH)


def classic_toggle(key: str) -> bool:
    """Whether torchviz's picture is asked for, beside a stepper (a secondary control)."""
    return widgets([st.container(key=f"secondary_{key}")], GRAPH, key)[0]


session.settle_view(st.session_state)  # the hidden views' options kept (so is the link), the first view picked
view = widgets([st], GRAPH, "graph_view")[0]
if view in ("fwd", "bwd"):
    node_picker(lesson)  # above the steps' fragment: none of these change with the step
if view == "fwd":
    forward_steps()
    if classic_toggle("graph_classic"):
        st.caption(views.CLASSIC_CAPTION)
        graphviz_chart(views.readable_dot(lesson.classic_before), "graph_classic_chart")  # drawn once a lesson
elif view == "bwd":
    backward_steps()
    if classic_toggle("graph_classic_after"):
        st.warning(views.classic_after_note(lesson.classic_after_error))
elif view == "check":
    report = lesson_extra("gradcheck", lambda: check_gradients(lesson.expression, lesson.x, lesson.w, lesson.b))
    st.markdown(views.gradcheck_intro(report))
    light_html(views.gradcheck_html(report), key="graph_gradcheck")
    say(st, views.gradcheck_verdict(report))  # the verdict, then what a FAIL may mean
else:
    large_graph_section(GRAPH)
if view in views.LESSON_CODE:  # the lesson functions behind the view, below it
    code_key, functions = views.LESSON_CODE[view]
    show_code(*functions, key=code_key)

publish_state(*GRAPH.spec)  # after the widgets: the URL shows what is on screen
