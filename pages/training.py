"""Training: a small net on lagged candle features, run by a background worker while the loss is drawn live."""
from __future__ import annotations

import streamlit as st

from explorer import svgplot
from explorer.teaching.questions import untrained_raw_loss
from explorer.training import live as live_feed
from explorer.training.charts import MAX_POINTS, loss_figure, prediction_figure
from explorer.training.controls import PACES, SETTINGS_CHANGED, SETTINGS_ERRORS
from explorer.training.export import export_notebook, export_script
from explorer.training.live import (SCRIPT, board, fast_html, panel_notes, panel_numbers, shapes_line, slow_html,
                                   status_text)
from explorer.training.session import clicked_step, norms_chart, unit_of
from explorer.training.trainer import describe_model, lessons_run
from explorer.training.worker import TrainingWorker, loss_history_frame, new_worker, run_token
from pages._common import current_candles, current_device, show_code
from pages._components import light_html
from pages._quiz import quiz_gate
from pages._training_controls import train_controls
from pages._training_step import compare_runs, step_window

WORKER = "train_worker"
PANEL_S = 0.2  # the live panel redraws 5 times a second while training (where serve.py's route does not feed it)
SLOW_S = 1.0  # the prediction and norm charts, once a second
# serve.py's route feeds it while training; it reruns the page when the run stops (live.js)
LIVE_BOARD = st.components.v2.component("live_board", isolate_styles=False, js=SCRIPT)


def start(frame, spec, settings, token, old: TrainingWorker | None) -> TrainingWorker | None:
    """A fresh run in place of `old`, or `old` and a message saying why the settings cannot be trained."""
    try:
        st.session_state[WORKER] = worker = new_worker(frame, spec, settings, token, old)
    except SETTINGS_ERRORS as exc:
        st.error(str(exc))
        return old
    return worker


def live_panel(worker: TrainingWorker, log_y: bool, live: bool) -> None:
    """Play / Pause / Step, progress, metrics and the loss curve from one snapshot, in a fragment: a click reruns
    only it, and while training it re-runs every PANEL_S where serve.py's route does not feed the panel."""
    b = st.columns(3)
    if b[0].button("Play", icon=":material/play_arrow:", key="train_play", type="primary"):
        worker.play()
    if b[1].button("Pause", icon=":material/pause:", key="train_pause"):
        worker.pause()
    if b[2].button("Step", icon=":material/skip_next:", key="train_step",
                   help="one mini-batch: forward, loss, backward, update"):
        worker.step_once()
        st.rerun(scope="app")  # the step window and the compared runs live outside this fragment
    snap = worker.snapshot(max_points=MAX_POINTS)
    if snap.status != "running":
        st.progress(snap.progress, text=status_text(snap))  # "paused" shows now, before the page's redraw below
    if live != (snap.status == "running"):
        st.rerun()  # started or stopped: one full run to start or stop ticking
    if snap.status == "running":
        if not live_feed.served:
            st.markdown(fast_html(snap, worker.trainer.data, worker.trainer.settings, log_y), unsafe_allow_html=True)
        return
    t = worker.trainer
    for kind, text in panel_notes(snap, t.settings):
        (st.error if kind == "error" else st.info)(text)
    numbers = panel_numbers(snap, t.data)  # last batch, epoch and validation loss; accuracy against chance
    for col, (label, value, delta, hint, gap) in zip(st.columns(len(numbers)), numbers):
        col.metric(label, value, delta=delta, delta_arrow="auto" if gap else "off", help=hint)
    st.caption(f"Losses are the {unit_of(t)}.")
    event = st.plotly_chart(loss_figure(snap, log_y, unit_of(t)), key="train_loss_chart", on_select="rerun",
                            selection_mode="points")
    if clicked_step(st.session_state, event, t.step_count) is not None:  # a point clicked opens its step below
        st.rerun(scope="app")  # the click reran only the live panel; the window lives outside it


def slow_panel(worker: TrainingWorker) -> None:
    """Validation predictions and the norms: they move slowly, so while training they redraw every SLOW_S."""
    snap = worker.snapshot(max_points=MAX_POINTS)
    if snap.status == "running":
        st.markdown(slow_html(snap, worker.trainer.data), unsafe_allow_html=True)
        return
    left, right = st.columns(2)
    left.plotly_chart(prediction_figure(snap, worker.trainer.data), key="train_pred_chart")
    right.plotly_chart(norms_chart(st.session_state, worker, snap), key="train_norm_chart")


def stopped_sections(worker: TrainingWorker) -> None:
    """A stopped run's downloads (each built when clicked), a window into any step, runs compared, tensors, code."""
    t, (run_spec, run_settings, _) = worker.trainer, worker.spec
    if t.step_count:
        d = st.columns(4)
        d[0].download_button("Loss history (CSV)", lambda: loss_history_frame(worker.snapshot()).to_csv(index=False),
                             "loss_history.csv", "text/csv", key="train_dl_csv", on_click="ignore")
        d[1].download_button("Model state_dict (.pt)", worker.state_dict_bytes, "state_dict.pt",
                             "application/octet-stream", key="train_dl_state", on_click="ignore")
        d[2].download_button("Standalone script (.py)", lambda: export_script(t.data.candles, run_spec, run_settings),
                             "train_run.py", "text/x-python", key="train_dl_script", on_click="ignore")
        d[3].download_button("Notebook (.ipynb)", lambda: export_notebook(t.data.candles, run_spec, run_settings),
                             "train_run.ipynb", "application/x-ipynb+json", key="train_dl_notebook", on_click="ignore")
    step_window(worker)
    compare_runs(worker)
    st.caption(shapes_line(t.data))
    with st.expander("Tensors and model", expanded=False):
        st.code(describe_model(t.model), language="text")
        light_html(svgplot.table(t.data.table.head(5).reset_index(), "train-table", digits=None), key="train_table")
    show_code(*lessons_run(t.settings))  # the code shown is the code this run uses


st.title("Training")
st.caption("The second seed notebook, live: a linear model from scratch (or nn.Linear / an MLP) on the previous k "
           "candles predicts the next one. Try normalisation `none` to watch the seed's loss explode.")
frame = current_candles().frame
token = run_token(frame, current_device())
controls, main = st.columns([1, 2.6], gap="medium")
with controls:
    spec, settings, problem = train_controls(frame)
with main:
    if problem:
        st.error(problem)
    worker: TrainingWorker | None = st.session_state.get(WORKER)
    b = st.columns([1, 1, 3])
    reset = b[0].button("Reset", icon=":material/restart_alt:", key="train_reset", disabled=spec is None,
                        help="a new model with the settings on the left")
    log_y = b[1].toggle("log y", key="train_log_y")
    pace = b[2].select_slider("Speed (steps per second)", PACES, "max", key="train_pace",
                              help="slow motion to watch each step; changes apply while training")
    if spec is not None and (worker is None or reset):  # the first run, or a new one in place of the last
        worker = start(frame, spec, settings, token, worker)
    if worker is not None:
        worker.pace = None if pace == "max" else float(pace)
        if spec is not None and worker.spec != (spec, settings, token):
            st.info(SETTINGS_CHANGED)
        quiz_gate(untrained_raw_loss(worker.spec[0].normalisation, worker.spec[0].is_classification,
                                     worker.trainer.step_count, worker.trainer.valid_loss))
        live = worker.running
        fed = live and live_feed.served  # the browser polls serve.py's route for the panel: no reruns for it
        st.fragment(run_every=PANEL_S if live and not fed else None)(live_panel)(worker, log_y, live)
        if fed:
            LIVE_BOARD(key="train_live_board", data=board(worker, log_y), on_stopped_change=lambda: None)
        else:
            st.fragment(run_every=SLOW_S if live else None)(slow_panel)(worker)
        if live:  # every element on the page costs the browser time at each redraw, time training would lose
            st.caption("The downloads, the window into a step, the compared runs and the code show when training "
                       "stops: press Pause.")
        else:
            stopped_sections(worker)
