"""Training page parts: a window into any step (replayed from the seed) and the last runs compared."""
from __future__ import annotations

import streamlit as st

from explorer import svgplot
from explorer.autograd.graph_plot import graph_svg
from explorer.training.charts import compare_figure
from explorer.training.replay import batch_frame, check_step, param_frame, param_summary, step_graph
from explorer.training.session import (MAX_RUNS, PICK, PICK_RUNS, compare_choice, remember, step_headline, step_view,
                                       window_step)
from explorer.training.trainer import step_lesson
from explorer.training.worker import TrainingWorker
from pages._common import show_code
from pages._components import light_html
from pages._graph_views import FONT_PX
from pages._state import PRESENT_KEY


def step_window(worker: TrainingWorker) -> None:
    """A window into one step: its batch, predictions and loss, its autograd graph, each parameter's update."""
    t = worker.trainer
    st.subheader("A window into one step")
    if t.step_count == 0:
        st.caption("Train a few steps, then click any point of the loss curve (or pick a step here) to see that "
                   "step from the inside.")
        return
    window_step(st.session_state, worker)
    k = int(st.number_input("Step", 1, t.step_count, key=PICK, help="Or click a point of the loss curve. The step is "
                            "rebuilt by replaying the seeded run from the start: nothing is stored per step."))
    try:
        check_step(k, t.step_count)
        with st.spinner(f"Replaying the run up to step {k:,}…"):
            view = step_view(st.session_state, worker, k)
    except ValueError as exc:
        st.error(str(exc))
        return
    st.markdown(step_headline(view, t))
    batch, graph, params = st.tabs(["Mini-batch and predictions", "Autograd graph of the loss", "Parameters"])
    with batch, st.container(key="train_window_batch_box"):  # one column per lagged feature: it scrolls in its box
        light_html(svgplot.table(batch_frame(view, t.data).reset_index(), "train-batch"), key="train_window_batch")
        st.caption("Features and target in their own units; `target as trained` and `prediction` are what the "
                   "loss compared (after normalisation).")
    with graph:  # the loss's real autograd graph at this step, one box per module (the Graph page's drawing)
        model = step_graph(view, collapse=True, hide_accumulate=True)
        for note in model.notes:
            st.caption(note)
        light_html(graph_svg(model, FONT_PX[bool(st.session_state.get(PRESENT_KEY))]), key="train_step_graph")
    with params:  # value, grad and the update the optimiser applied, with the rule and its state
        summary = param_summary(view)
        st.markdown("**Update rule:** " + summary["rule"].iloc[0] if len(summary) else "")
        light_html(svgplot.table(summary.drop(columns="rule"), "train-summary", digits=6), key="train_window_summary")
        st.caption("`update` is after − before, the change `optimizer.step()` made; `max |rule − change|` is how "
                   "far the rule written above, computed from the parts, lands from it (float32 rounding).")
        light_html(svgplot.table(param_frame(view).rename_axis("element").reset_index(), "train-params", digits=6),
                   key="train_window_params")
        show_code(step_lesson(t.settings), caption="The code that ran this step (replayed from the seed)")


def compare_runs(worker: TrainingWorker) -> None:
    """The last runs' loss curves overlaid, each labelled with the settings that differ."""
    runs = remember(st.session_state, worker)
    st.subheader("Compare runs")
    if len(runs) < 2:
        st.caption(f"Train, change a setting (normalisation none, zero_grad off, Adam …), press Reset and train "
                   f"again: the last {MAX_RUNS} runs are overlaid here, labelled by what differs.")
        return
    labels, default = compare_choice(st.session_state, runs)
    chosen = st.multiselect("Runs to overlay", list(labels), default, format_func=labels.get, key=PICK_RUNS)
    shown = [r for r in runs if r.number in chosen]
    if shown:
        st.plotly_chart(compare_figure(shown), key="train_compare_chart")
