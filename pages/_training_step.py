"""Training page parts: a loss chart you can click, metrics with their units, the norms' blow-up, a window into
any step (replayed from the seed) and the last runs compared."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer import svgplot
from explorer.autograd.graph_plot import graph_svg
from explorer.training.charts import (RunRecord, compare_figure, compare_labels, loss_figure,
                                      loss_unit, norms_figure, run_settings)
from explorer.training.replay import (BLOWUP_STEPS, StepView, batch_frame, check_step, param_frame, param_summary,
                                      replay_norms, replay_step, step_graph)
from explorer.training.trainer import step_lesson
from explorer.training.live import panel_numbers
from explorer.training.worker import Snapshot, TrainingWorker
from pages._common import show_code
from pages._components import light_html
from pages._graph_views import FONT_PX, presenting

PICK = "train_window_step"  # the step number input
FOLLOW = "train_window_follow"  # (worker, step): the step the window chose itself, so it may follow the latest
CLICKED = "train_window_clicked"  # the last step picked on the chart (a click is acted on once)
VIEW = "train_window_view"  # (worker, step, StepView) of the step on screen
BLOWUP = "train_blowup"  # (worker, rows) of a diverged run's replayed norms
RUNS, CURRENT, MAX_RUNS = "train_runs", "train_runs_current", 5
PICK_RUNS, OFFERED = "train_compare_pick", "train_compare_offered"  # runs chosen; runs offered last time


def unit_of(trainer) -> str:
    """What this run's losses are measured in."""
    return loss_unit(trainer.data.spec, trainer.settings.loss)


def clicked_step(event) -> int | None:
    """The step of the point clicked on the loss chart (every trace's x is a step), if any."""
    points = (event or {}).get("selection", {}).get("points", []) if hasattr(event, "get") else []
    return int(round(points[0]["x"])) if points and points[0].get("x") is not None else None


def loss_chart(snap: Snapshot, log_y: bool, trainer) -> None:
    """The loss curve; clicking a point opens that step in the window below."""
    event = st.plotly_chart(loss_figure(snap, log_y, unit_of(trainer)), key="train_loss_chart", on_select="rerun",
                            selection_mode="points")
    step = clicked_step(event)
    if step is None:
        st.session_state.pop(CLICKED, None)  # nothing selected now: the next click counts, even on the same step
    elif step != st.session_state.get(CLICKED) and 1 <= step <= trainer.step_count:
        st.session_state[CLICKED] = st.session_state[PICK] = step
        st.rerun(scope="app")  # the click reran only the live panel; the window lives outside it


def panel_metrics(snap: Snapshot, trainer) -> None:
    """Last batch, epoch and validation loss, in their units; the direction target's accuracy against chance."""
    numbers = panel_numbers(snap, trainer.data)
    for col, (label, value, delta, hint, gap) in zip(st.columns(len(numbers)), numbers):
        col.metric(label, value, delta=delta, delta_arrow="auto" if gap else "off", help=hint)
    st.caption(f"Losses are the {unit_of(trainer)}.")


def blowup_rows(worker: TrainingWorker) -> list:
    """A diverged run's norms at every one of its last steps, replayed once per run from a checkpoint."""
    t = worker.trainer
    cached = st.session_state.get(BLOWUP)
    if cached is None or cached[0] is not worker:
        rows = replay_norms(t.data, t.settings, t.step_count, device=str(t.device),
                            start=worker.checkpoint_before(t.step_count - BLOWUP_STEPS + 1))
        st.session_state[BLOWUP] = cached = (worker, rows)
    return cached[1]


def norms_chart(where, snap: Snapshot, worker: TrainingWorker) -> None:
    """Weight and gradient norms; for a diverged run every step up to the blow-up, and the blow-up marked."""
    diverged = snap.status == "diverged"
    figure = norms_figure(snap, blowup_rows(worker) if diverged else None, snap.step if diverged else None)
    where.plotly_chart(figure, key="train_norm_chart")


def step_view(worker: TrainingWorker, k: int) -> StepView:
    """Step k of this run, replayed (once per step picked)."""
    cached = st.session_state.get(VIEW)
    if cached is None or cached[0] is not worker or cached[1] != k:
        t = worker.trainer
        with st.spinner(f"Replaying the run up to step {k:,}…"):
            view = replay_step(t.data, t.settings, k, device=str(t.device), start=worker.checkpoint_before(k))
        st.session_state[VIEW] = cached = (worker, k, view)
    return cached[2]


def step_window(worker: TrainingWorker) -> None:
    """A window into one step: its batch, predictions and loss, its autograd graph, each parameter's update."""
    t = worker.trainer
    st.subheader("A window into one step")
    if t.step_count == 0:
        st.caption("Train a few steps, then click any point of the loss curve (or pick a step here) to see that "
                   "step from the inside.")
        return
    last = t.step_count
    follow = st.session_state.get(FOLLOW)
    if follow is None or follow[0] is not worker or st.session_state.get(PICK) in (None, follow[1]):
        st.session_state[PICK] = last  # nothing picked in this run: show the latest step
        st.session_state[FOLLOW] = (worker, last)
    st.session_state[PICK] = min(max(1, int(st.session_state[PICK])), last)
    k = int(st.number_input("Step", 1, last, key=PICK, help="Or click a point of the loss curve. The step is "
                            "rebuilt by replaying the seeded run from the start: nothing is stored per step."))
    try:
        check_step(k, t.step_count)
        view = step_view(worker, k)
    except ValueError as exc:
        st.error(str(exc))
        return
    recorded = t.history.step_losses[k - 1] if k <= len(t.history.step_losses) else None
    same = "the same number the run recorded" if recorded == view.loss_value else f"the run recorded {recorded}"
    st.markdown(f"**Step {k}** (epoch {view.epoch}) · {len(view.rows)} rows · loss = `{view.loss_value:.6g}` "
                f"({unit_of(t)}) — {same}.")
    batch, graph, params = st.tabs(["Mini-batch and predictions", "Autograd graph of the loss", "Parameters"])
    with batch, st.container(key="train_window_batch_box"):  # one column per lagged feature: it scrolls in its box
        light_html(svgplot.table(batch_frame(view, t.data).reset_index(), "train-batch"), key="train_window_batch")
        st.caption("Features and target in their own units; `target as trained` and `prediction` are what the "
                   "loss compared (after normalisation).")
    with graph:
        graph_tab(view)
    with params:
        step_params(view, t.settings)


def graph_tab(view: StepView) -> None:
    """The loss's real autograd graph at this step, one box per module (the Graph page's drawing)."""
    model = step_graph(view, collapse=True, hide_accumulate=True)
    for note in model.notes:
        st.caption(note)
    light_html(graph_svg(model, FONT_PX[presenting()]), key="train_step_graph")


def step_params(view: StepView, settings) -> None:
    """For each parameter: value, grad and the update the optimiser applied, with the rule and its state."""
    summary = param_summary(view)
    st.markdown("**Update rule:** " + summary["rule"].iloc[0] if len(summary) else "")
    light_html(svgplot.table(summary.drop(columns="rule"), "train-summary", digits=6), key="train_window_summary")
    st.caption("`update` is after − before, the change `optimizer.step()` made; `max |rule − change|` is how far "
               "the rule written above, computed from the parts, lands from it (float32 rounding).")
    light_html(svgplot.table(param_frame(view).rename_axis("element").reset_index(), "train-params", digits=6),
               key="train_window_params")
    show_code(step_lesson(settings), caption="The code that ran this step (replayed from the seed)")


def record(worker: TrainingWorker, number: int) -> RunRecord:
    """What a run leaves for comparing: its settings and its (thinned) loss curve."""
    snap = worker.snapshot(max_points=1000)
    t = worker.trainer
    return RunRecord(number, run_settings(t.data.spec, t.settings), snap.loss_steps,
                     np.asarray(snap.step_losses), snap.status, unit_of(t))


def remember(worker: TrainingWorker) -> list[RunRecord]:
    """Keep the last MAX_RUNS runs: the one on screen is updated; a replaced one keeps its final curve."""
    runs: list[RunRecord] = st.session_state.setdefault(RUNS, [])
    current = st.session_state.get(CURRENT)
    if current is not None and current[0] is not worker:  # the run was replaced (Reset): record where it ended
        runs[:] = [r for r in runs if r.number != current[1]]
        if current[0].trainer.step_count:
            runs.append(record(*current))
        current = None
    if current is None:
        current = (worker, max([r.number for r in runs], default=0) + 1)
        st.session_state[CURRENT] = current
    runs[:] = [r for r in runs if r.number != current[1]]
    if worker.trainer.step_count:
        runs.append(record(*current))
    del runs[:-MAX_RUNS]
    return runs


def compare_runs(worker: TrainingWorker) -> None:
    """The last runs' loss curves overlaid, each labelled with the settings that differ."""
    runs = remember(worker)
    st.subheader("Compare runs")
    if len(runs) < 2:
        st.caption(f"Train, change a setting (normalisation none, zero_grad off, Adam …), press Reset and train "
                   f"again: the last {MAX_RUNS} runs are overlaid here, labelled by what differs.")
        return
    labels = dict(zip([r.number for r in runs], compare_labels(runs)))
    offered = st.session_state.get(OFFERED, [])
    if PICK_RUNS in st.session_state:  # keep the learner's choice; a new run joins it
        kept = [n for n in st.session_state[PICK_RUNS] if n in labels]
        st.session_state[PICK_RUNS] = kept + [n for n in labels if n not in offered and n not in kept]
    st.session_state[OFFERED] = list(labels)
    chosen = st.multiselect("Runs to overlay", list(labels), None if PICK_RUNS in st.session_state else list(labels),
                            format_func=labels.get, key=PICK_RUNS)
    shown = [r for r in runs if r.number in chosen]
    if shown:
        st.plotly_chart(compare_figure(shown), key="train_compare_chart")
