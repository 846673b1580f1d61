"""What the Training page keeps for one learner between reruns, in the session's state (a mapping the page passes
in): the run, the step its window shows, the steps and norms it replayed, and the last runs for comparing; and what
the window and the comparison say."""
from __future__ import annotations

from collections.abc import MutableMapping

import numpy as np
import pandas as pd

from explorer.teaching.questions import untrained_raw_loss
from explorer.teaching.quiz import Question
from explorer.training.charts import RunRecord, compare_labels, loss_unit, norms_figure, run_settings
from explorer.training.controls import SETTINGS_ERRORS
from explorer.training.replay import BLOWUP_STEPS, StepView, check_step, replay_norms, replay_step
from explorer.training.worker import TrainingWorker, new_worker

WORKER = "train_worker"  # the session's run (a TrainingWorker)
PICK = "train_window_step"  # the step number input
FOLLOW = "train_window_follow"  # (worker, step): the step the window chose itself, so it may follow the latest
CLICKED = "train_window_clicked"  # the last step picked on the chart (a click is acted on once)
VIEW = "train_window_view"  # (worker, step, StepView) of the step on screen
BLOWUP = "train_blowup"  # (worker, rows) of a diverged run's replayed norms
RUNS, CURRENT, MAX_RUNS = "train_runs", "train_runs_current", 5
PICK_RUNS, OFFERED = "train_compare_pick", "train_compare_offered"  # runs chosen; runs offered last time

NO_STEP_YET = ("Train a few steps, then click any point of the loss curve (or pick a step here) to see that step "
               "from the inside.")
STEP_HELP = ("Or click a point of the loss curve. The step is rebuilt by replaying the seeded run from the start: "
             "nothing is stored per step.")
BATCH_NOTE = ("Features and target in their own units; `target as trained` and `prediction` are what the loss "
              "compared (after normalisation).")
UPDATE_NOTE = ("`update` is after − before, the change `optimizer.step()` made; `max |rule − change|` is how far the "
               "rule written above, computed from the parts, lands from it (float32 rounding).")
ONE_RUN_YET = (f"Train, change a setting (normalisation none, zero_grad off, Adam …), press Reset and train again: "
               f"the last {MAX_RUNS} runs are overlaid here, labelled by what differs.")


def start_run(state: MutableMapping, frame: pd.DataFrame, spec, settings, token: tuple, reset: bool) -> str | None:
    """The first run, or at Reset a new one in place of the last, in state[WORKER] (none for settings that did not
    read: spec None); or the message saying why these settings cannot be trained (the old run then stays)."""
    if spec is None or (WORKER in state and not reset):
        return None
    try:
        state[WORKER] = new_worker(frame, spec, settings, token, state.get(WORKER))
    except SETTINGS_ERRORS as exc:
        return str(exc)
    return None


def run_question(worker: TrainingWorker) -> Question | None:
    """The quiz before a run's first step on raw prices (None for any other run)."""
    spec, t = worker.spec[0], worker.trainer
    return untrained_raw_loss(spec.normalisation, spec.is_classification, t.step_count, t.valid_loss)


def unit_of(trainer) -> str:
    """What this run's losses are measured in."""
    return loss_unit(trainer.data.spec, trainer.settings.loss)


def clicked_step(state: MutableMapping, event, steps_run: int) -> int | None:
    """The step of a point newly clicked on the loss chart (every trace's x is a step), noted as the window's pick;
    None when nothing new was clicked. A click is acted on once; nothing selected lets the same step count again."""
    points = (event or {}).get("selection", {}).get("points", []) if hasattr(event, "get") else []
    step = int(round(points[0]["x"])) if points and points[0].get("x") is not None else None
    if step is None:
        state.pop(CLICKED, None)
    elif step != state.get(CLICKED) and 1 <= step <= steps_run:
        state[CLICKED] = state[PICK] = step
        return step
    return None


def window_step(state: MutableMapping, worker: TrainingWorker) -> None:
    """Put the step input on the latest step until the learner picks one, and inside 1 … the steps run."""
    last = worker.trainer.step_count
    follow = state.get(FOLLOW)
    if follow is None or follow[0] is not worker or state.get(PICK) in (None, follow[1]):
        state[PICK] = last  # nothing picked in this run: show the latest step
        state[FOLLOW] = (worker, last)
    state[PICK] = min(max(1, int(state[PICK])), last)


def step_view(state: MutableMapping, worker: TrainingWorker, k: int) -> StepView:
    """Step k of this run, replayed from the nearest checkpoint (once per step picked); ValueError for a step the
    run has not reached."""
    check_step(k, worker.trainer.step_count)
    cached = state.get(VIEW)
    if cached is None or cached[0] is not worker or cached[1] != k:
        t = worker.trainer
        view = replay_step(t.data, t.settings, k, device=str(t.device), start=worker.checkpoint_before(k))
        state[VIEW] = cached = (worker, k, view)
    return cached[2]


def step_headline(view: StepView, trainer) -> str:
    """The window's line about the step: its epoch, rows and loss, and whether the replay met the recorded loss."""
    losses, k = trainer.history.step_losses, view.step
    recorded = losses[k - 1] if k <= len(losses) else None
    same = "the same number the run recorded" if recorded == view.loss_value else f"the run recorded {recorded}"
    return (f"**Step {k}** (epoch {view.epoch}) · {len(view.rows)} rows · loss = `{view.loss_value:.6g}` "
            f"({unit_of(trainer)}) — {same}.")


def blowup_rows(state: MutableMapping, worker: TrainingWorker) -> list:
    """A diverged run's norms at every one of its last steps, replayed once per run from a checkpoint."""
    t = worker.trainer
    cached = state.get(BLOWUP)
    if cached is None or cached[0] is not worker:
        rows = replay_norms(t.data, t.settings, t.step_count, device=str(t.device),
                            start=worker.checkpoint_before(t.step_count - BLOWUP_STEPS + 1))
        state[BLOWUP] = cached = (worker, rows)
    return cached[1]


def norms_chart(state: MutableMapping, worker: TrainingWorker, snap):
    """Weight and gradient norms; for a diverged run every step up to the blow-up, and the blow-up marked."""
    diverged = snap.status == "diverged"
    return norms_figure(snap, blowup_rows(state, worker) if diverged else None, snap.step if diverged else None)


def record(worker: TrainingWorker, number: int) -> RunRecord:
    """What a run leaves for comparing: its settings and its (thinned) loss curve."""
    snap = worker.snapshot(max_points=1000)
    t = worker.trainer
    return RunRecord(number, run_settings(t.data.spec, t.settings), snap.loss_steps,
                     np.asarray(snap.step_losses), snap.status, unit_of(t))


def remember(state: MutableMapping, worker: TrainingWorker) -> list[RunRecord]:
    """Keep the last MAX_RUNS runs: the one on screen is updated; a replaced one keeps its final curve."""
    runs: list[RunRecord] = state.setdefault(RUNS, [])
    current = state.get(CURRENT)
    if current is not None and current[0] is not worker:  # the run was replaced (Reset): record where it ended
        runs[:] = [r for r in runs if r.number != current[1]]
        if current[0].trainer.step_count:
            runs.append(record(*current))
        current = None
    if current is None:
        current = (worker, max([r.number for r in runs], default=0) + 1)
        state[CURRENT] = current
    runs[:] = [r for r in runs if r.number != current[1]]
    if worker.trainer.step_count:
        runs.append(record(*current))
    del runs[:-MAX_RUNS]
    return runs


def compare_choice(state: MutableMapping, runs: list[RunRecord]) -> tuple[dict[int, str], list[int] | None]:
    """The runs offered for overlaying (number → label) and the default choice (None once the learner has one):
    the learner's choice is kept, and a new run joins it."""
    labels = dict(zip([r.number for r in runs], compare_labels(runs)))
    offered = state.get(OFFERED, [])
    if PICK_RUNS in state:
        kept = [n for n in state[PICK_RUNS] if n in labels]
        state[PICK_RUNS] = kept + [n for n in labels if n not in offered and n not in kept]
    state[OFFERED] = list(labels)
    return labels, None if PICK_RUNS in state else list(labels)
