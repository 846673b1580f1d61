"""Training: a small net on lagged candle features, run by a background worker while the loss is drawn live."""
from __future__ import annotations

import streamlit as st

from explorer.training import charts, controls as ctl, live as feed, session
from explorer.training.export import run_downloads
from explorer.training.trainer import describe_model, lessons_run
from explorer.training.worker import TrainingWorker, run_token
from pages._common import current_candles, current_device, show_code
from pages._components import light_html
from pages._quiz import quiz_gate
from pages._state import enter_state, init_widgets, publish_state, widgets
from pages._training_step import compare_runs, step_window

# serve.py's route feeds it while training; it reruns the page when the run stops (live.js)
LIVE_BOARD = st.components.v2.component("live_board", isolate_styles=False, js=feed.SCRIPT)


def train_controls(frame) -> tuple:
    """The settings' widgets, first values from the training section of the config applied on the Config page (else
    the bundled one; a shared link's values win); the run they describe, or why they cannot train on `frame`."""
    section = ctl.training_section(st.session_state.get(ctl.APPLIED))
    state = ctl.training_state(section, len(frame))
    enter_state(state)
    for title, keys in ctl.control_groups(len(frame)):
        with st.expander(title, expanded=True):
            for key in keys:
                widgets([st], state, key, disabled=ctl.greyed_out(key, st.session_state))
    publish_state(*state.spec)
    return ctl.read_run(st.session_state, frame, section)


def live_panel(worker: TrainingWorker, log_y: bool, live: bool) -> None:
    """Play / Pause / Step, progress, metrics and the loss curve from one snapshot, in a fragment: a click reruns
    only it, and while training it re-runs every feed.PANEL_S where serve.py's route does not feed the panel."""
    b = st.columns(3)
    if b[0].button("Play", icon=":material/play_arrow:", key="train_play", type="primary"):
        worker.play()
    if b[1].button("Pause", icon=":material/pause:", key="train_pause"):
        worker.pause()
    if b[2].button("Step", icon=":material/skip_next:", key="train_step",
                   help="one mini-batch: forward, loss, backward, update"):
        worker.step_once()
        st.rerun(scope="app")  # the step window and the compared runs live outside this fragment
    snap, t = worker.snapshot(max_points=charts.MAX_POINTS), worker.trainer
    if snap.status != "running":
        st.progress(snap.progress, text=feed.status_text(snap))  # "paused" shows now, before the page's redraw below
    if live != (snap.status == "running"):
        st.rerun()  # started or stopped: one full run to start or stop ticking
    if snap.status == "running":
        if not feed.served:
            st.markdown(feed.fast_html(snap, t.data, t.settings, log_y), unsafe_allow_html=True)
        return
    for kind, text in feed.panel_notes(snap, t.settings):
        (st.error if kind == "error" else st.info)(text)
    numbers = feed.panel_numbers(snap, t.data)  # last batch, epoch and validation loss; accuracy against chance
    for col, (label, value, delta, hint, gap) in zip(st.columns(len(numbers)), numbers):
        col.metric(label, value, delta=delta, delta_arrow="auto" if gap else "off", help=hint)
    unit = session.unit_of(t)
    st.caption(feed.losses_line(unit))
    event = st.plotly_chart(charts.loss_figure(snap, log_y, unit), key="train_loss_chart", on_select="rerun",
                            selection_mode="points")
    if session.clicked_step(st.session_state, event, t.step_count) is not None:  # a point clicked opens its step below
        st.rerun(scope="app")  # the click reran only the live panel; the window lives outside it


def slow_panel(worker: TrainingWorker) -> None:
    """Validation predictions and the norms: they move slowly, so while training they redraw every feed.SLOW_S."""
    snap = worker.snapshot(max_points=charts.MAX_POINTS)
    if snap.status == "running":
        st.markdown(feed.slow_html(snap, worker.trainer.data), unsafe_allow_html=True)
        return
    left, right = st.columns(2)
    left.plotly_chart(charts.prediction_figure(snap, worker.trainer.data), key="train_pred_chart")
    right.plotly_chart(session.norms_chart(st.session_state, worker, snap), key="train_norm_chart")


def stopped_sections(worker: TrainingWorker) -> None:
    """A stopped run's downloads (each built when clicked), a window into any step, runs compared, tensors, code."""
    t = worker.trainer
    if t.step_count:
        for col, d in zip(st.columns(4), run_downloads(worker)):
            col.download_button(d.label, d.data, d.file, d.mime, key=d.key, on_click="ignore")
    step_window(worker)
    compare_runs(worker)
    st.caption(feed.shapes_line(t.data))
    with st.expander("Tensors and model", expanded=False):
        st.code(describe_model(t.model), language="text")
        light_html(feed.rows_html(t.data), key="train_table")
    show_code(*lessons_run(t.settings))  # the code shown is the code this run uses


st.title("Training")
st.caption(ctl.INTRO)
frame = current_candles().frame
token = run_token(frame, current_device())
controls, main = st.columns([1, 2.6], gap="medium")
with controls:
    spec, settings, problem = train_controls(frame)
with main:
    if problem:
        st.error(problem)
    b = st.columns([1, 1, 3])
    reset = b[0].button("Reset", icon=":material/restart_alt:", key="train_reset", disabled=spec is None,
                        help="a new model with the settings on the left")
    init_widgets(ctl.PLAYBACK.firsts())
    log_y, pace = widgets(b[1:], ctl.PLAYBACK, "train_log_y", "train_pace")
    refused = session.start_run(st.session_state, frame, spec, settings, token, reset)  # the first run, or at Reset
    if refused:
        st.error(refused)
    worker: TrainingWorker | None = st.session_state.get(session.WORKER)
    if worker is not None:
        worker.pace = None if pace == "max" else float(pace)
        if spec is not None and worker.spec != (spec, settings, token):
            st.info(ctl.SETTINGS_CHANGED)
        quiz_gate(session.run_question(worker))
        live = worker.running
        fed = live and feed.served  # the browser polls serve.py's route for the panel: no reruns for it
        st.fragment(run_every=feed.PANEL_S if live and not fed else None)(live_panel)(worker, log_y, live)
        if fed:
            LIVE_BOARD(key="train_live_board", data=feed.board(worker, log_y), on_stopped_change=lambda: None)
        else:
            st.fragment(run_every=feed.SLOW_S if live else None)(slow_panel)(worker)
        if live:  # every element on the page costs the browser time at each redraw, time training would lose
            st.caption(feed.STOPPED_ONLY)
        else:
            stopped_sections(worker)
