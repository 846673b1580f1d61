"""Training page parts: a window into any step (replayed from the seed) and the last runs compared."""
from __future__ import annotations

import streamlit as st

from explorer.autograd.graph_plot import graph_svg
from explorer.training.charts import compare_figure
from explorer.training import replay, session
from explorer.training.trainer import step_lesson
from explorer.training.worker import TrainingWorker
from pages._common import show_code
from pages._components import label_px, light_html


def step_window(worker: TrainingWorker) -> None:
    """A window into one step: its batch, predictions and loss, its autograd graph, each parameter's update."""
    t = worker.trainer
    st.subheader("A window into one step")
    if t.step_count == 0:
        st.caption(session.NO_STEP_YET)
        return
    session.window_step(st.session_state, worker)
    k = int(st.number_input("Step", 1, t.step_count, key=session.PICK, help=session.STEP_HELP))
    try:
        with st.spinner(f"Replaying the run up to step {k:,}…"):
            view = session.step_view(st.session_state, worker, k)
    except ValueError as exc:
        st.error(str(exc))
        return
    st.markdown(session.step_headline(view, t))
    batch_html, summary_html, params_html = replay.window_tables(view, t.data)
    batch, graph, params = st.tabs(["Mini-batch and predictions", "Autograd graph of the loss", "Parameters"])
    with batch, st.container(key="train_window_batch_box"):  # one column per lagged feature: it scrolls in its box
        light_html(batch_html, key="train_window_batch")
        st.caption(session.BATCH_NOTE)
    with graph:  # the loss's real autograd graph at this step, one box per module (the Graph page's drawing)
        model = replay.step_graph(view, collapse=True, hide_accumulate=True)
        for note in model.notes:
            st.caption(note)
        light_html(graph_svg(model, label_px()), key="train_step_graph")
    with params:  # value, grad and the update the optimiser applied, with the rule and its state
        st.markdown(replay.update_rule(view))
        light_html(summary_html, key="train_window_summary")
        st.caption(session.UPDATE_NOTE)
        light_html(params_html, key="train_window_params")
        show_code(step_lesson(t.settings), caption="The code that ran this step (replayed from the seed)")


def compare_runs(worker: TrainingWorker) -> None:
    """The last runs' loss curves overlaid, each labelled with the settings that differ."""
    runs = session.remember(st.session_state, worker)
    st.subheader("Compare runs")
    if len(runs) < 2:
        st.caption(session.ONE_RUN_YET)
        return
    labels, default = session.compare_choice(st.session_state, runs)
    chosen = st.multiselect("Runs to overlay", list(labels), default, format_func=labels.get, key=session.PICK_RUNS)
    shown = [r for r in runs if r.number in chosen]
    if shown:
        st.plotly_chart(compare_figure(shown), key="train_compare_chart")
