"""Training: a small net on lagged candle features, run by a background worker while the loss is drawn live."""
from __future__ import annotations

import streamlit as st

from explorer import svgplot
from explorer.training.export import export_script
from explorer.training.features import FeatureError, check_spec, make_features
from explorer.training.models import SettingsError, check_settings
from explorer.training.trainer import Trainer, describe_model, lessons_run
from explorer.training import live as live_feed
from explorer.training.charts import MAX_POINTS, prediction_figure
from explorer.training.live import SCRIPT, board, fast_html, slow_html, status_text
from explorer.training.worker import TrainingWorker, loss_history_frame
from pages._common import current_candles, current_device, show_code
from pages._components import light_html
from pages._training_controls import PACES, train_controls
from pages._quiz import quiz_gate
from explorer.teaching.questions import untrained_raw_loss
from pages._training_step import compare_runs, loss_chart, norms_chart, panel_metrics, step_window

WORKER = "train_worker"
PANEL_S = 0.2  # the live panel redraws 5 times a second while training (where serve.py's route does not feed it)
SLOW_S = 1.0  # the prediction and norm charts, once a second
# serve.py's route feeds it while training; it reruns the page when the run stops (live.js)
LIVE_BOARD = st.components.v2.component("live_board", isolate_styles=False, js=SCRIPT)


def new_worker(frame, spec, settings, token) -> TrainingWorker:
    """A fresh trainer (features, seeded model) wrapped in a worker; raises FeatureError/SettingsError."""
    trainer = Trainer(make_features(frame, spec), settings, device=token[-1])
    return TrainingWorker(trainer, spec=(spec, settings, token))


def start(frame, spec, settings, token) -> TrainingWorker | None:
    """Replace the session's worker with a fresh one, or say why the settings cannot be trained."""
    try:
        st.session_state[WORKER] = new_worker(frame, spec, settings, token)
    except (FeatureError, SettingsError) as exc:
        st.error(str(exc))
        return None
    return st.session_state[WORKER]


def controls_row(worker: TrainingWorker) -> None:
    """Play / Pause / Step, inside the live fragment: a click reruns only the fragment, never waits behind the
    whole page, and the worker stops before its next step."""
    b = st.columns(3)
    if b[0].button("Play", icon=":material/play_arrow:", key="train_play", type="primary"):
        worker.play()
    if b[1].button("Pause", icon=":material/pause:", key="train_pause"):
        worker.pause()
    if b[2].button("Step", icon=":material/skip_next:", key="train_step",
                   help="one mini-batch: forward, loss, backward, update"):
        worker.step_once()
        st.rerun(scope="app")  # the step window and the compared runs live outside this fragment


def live_panel(worker: TrainingWorker, log_y: bool, live: bool) -> None:
    """Buttons, progress, metrics and the loss curve from one snapshot; while training, re-run every PANEL_S where
    serve.py's route does not feed the panel (where it does, the live board draws it and reruns the page when the run
    stops)."""
    controls_row(worker)
    snap = worker.snapshot(max_points=MAX_POINTS)
    if snap.status != "running":
        st.progress(snap.progress, text=status_text(snap))  # "paused" shows now, before the page's redraw below
    if live != (snap.status == "running"):
        st.rerun()  # started or stopped: one full run to start or stop ticking
    if snap.status == "running":
        if not live_feed.served:
            st.markdown(fast_html(snap, worker.trainer.data, worker.trainer.settings, log_y), unsafe_allow_html=True)
        return
    if snap.status == "diverged":
        st.error(snap.message)
    if snap.note:
        st.info(snap.note)
    elif snap.status == "done":
        st.info(f"Done: {snap.epochs} epochs. Play trains {worker.trainer.settings.epochs} more epochs and Step one "
                "more mini-batch; Reset starts a new run with the settings on the left.")
    panel_metrics(snap, worker.trainer)
    loss_chart(snap, log_y, worker.trainer)


def slow_panel(worker: TrainingWorker) -> None:
    """Validation predictions and the norms: they move slowly, so while training they redraw every SLOW_S."""
    snap = worker.snapshot(max_points=MAX_POINTS)
    if snap.status == "running":
        st.markdown(slow_html(snap, worker.trainer.data), unsafe_allow_html=True)
        return
    left, right = st.columns(2)
    left.plotly_chart(prediction_figure(snap, worker.trainer.data), key="train_pred_chart")
    norms_chart(right, snap, worker)


def downloads(worker: TrainingWorker) -> None:
    """Loss history CSV, the state_dict and a standalone script; each is built when clicked (deferred)."""
    run_spec, run_settings, _ = worker.spec
    d = st.columns(3)
    d[0].download_button("Loss history (CSV)", lambda: loss_history_frame(worker.snapshot()).to_csv(index=False),
                         "loss_history.csv", "text/csv", key="train_dl_csv", on_click="ignore")
    d[1].download_button("Model state_dict (.pt)", worker.state_dict_bytes, "state_dict.pt",
                         "application/octet-stream", key="train_dl_state", on_click="ignore")
    d[2].download_button("Standalone script (.py)", lambda: export_script(worker.trainer.data.candles, run_spec,
                                                                          run_settings),
                         "train_run.py", "text/x-python", key="train_dl_script", on_click="ignore")


def stopped_sections(worker: TrainingWorker) -> None:
    """What a stopped run offers: downloads, a window into any step, runs compared, its tensors and code."""
    if worker.trainer.step_count:
        downloads(worker)
    step_window(worker)
    compare_runs(worker)
    data = worker.trainer.data
    st.caption(" · ".join(f"`{name}` {shape[11:-1]}" for name, shape in data.shapes().items()))
    with st.expander("Tensors and model", expanded=False):
        st.code(describe_model(worker.trainer.model), language="text")
        light_html(svgplot.table(data.table.head(5).reset_index(), "train-table", digits=None), key="train_table")
    show_code(*lessons_run(worker.trainer.settings))  # the code shown is the code this run uses


st.title("Training")
st.caption("The second seed notebook, live: a linear model from scratch (or nn.Linear / an MLP) on the previous k "
           "candles predicts the next one. Try normalisation `none` to watch the seed's loss explode.")
frame = current_candles().frame
token = (len(frame), str(frame.index[0]), str(frame.index[-1]), float(frame["close"].iloc[-1]), current_device())
controls, main = st.columns([1, 2.6], gap="medium")
with controls:
    try:
        spec, settings = train_controls(len(frame))
        problem = None
        check_settings(spec.is_classification, settings.model, settings.loss, list(settings.hidden_sizes))
        check_spec(frame, spec)  # cheap checks here; building the features waits for Reset
    except (FeatureError, SettingsError) as exc:
        spec = settings = None
        problem = str(exc)

with main:
    if problem:
        st.error(problem)
    worker: TrainingWorker | None = st.session_state.get(WORKER)
    if worker is None and spec is not None:
        worker = start(frame, spec, settings, token)
    b = st.columns([1, 1, 3])
    reset = b[0].button("Reset", icon=":material/restart_alt:", key="train_reset", disabled=spec is None,
                        help="a new model with the settings on the left")
    log_y = b[1].toggle("log y", key="train_log_y")
    pace = b[2].select_slider("Speed (steps per second)", PACES, "max", key="train_pace",
                              help="slow motion to watch each step; changes apply while training")
    if reset and spec is not None:
        old = worker
        if old is not None:
            old.pause()
        worker = start(frame, spec, settings, token) or worker
        if old is not None and worker is not old:
            old.close()  # its copy in the training process goes now, not when the garbage collector runs
    if worker is not None:
        worker.pace = None if pace == "max" else float(pace)
        if spec is not None and worker.spec != (spec, settings, token):
            st.info("The settings (or the loaded candles, or the device) changed: this run keeps its own; press "
                    "Reset to train with the new ones.")
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

