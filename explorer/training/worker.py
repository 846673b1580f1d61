"""The page's handle on a run that trains in a shared training process (explorer.training.pool); the page only
reads thread-safe snapshots of the server's copy of it (RunView)."""
from __future__ import annotations

import queue
import threading
import time
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.training.callbacks import Checkpoint
from explorer.training.features import make_features
from explorer.training.models import SettingsError
from explorer.training.trainer import History, StepMetrics, Trainer

# A session whose page stopped polling (tab closed) should not train on for hours on a shared server.
IDLE_TIMEOUT_S = 300.0
REPLY_TIMEOUT_S = 60.0  # a command waits at most one step of the run (plus the process's start-up)


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of the training state, safe to read while the worker keeps training."""
    status: str  # ready | running | paused | done | diverged
    step: int
    total_steps: int
    epoch: int
    epochs: int
    step_losses: list[float]  # every step's loss, or every k-th one when the snapshot was thinned
    epochs_table: list[dict]
    norms: list[tuple[int, str, float, float]]
    valid_loss: float
    valid_preds: np.ndarray
    message: str | None
    steps_per_second: float

    loss_stride: int = 1  # step_losses[i] is the loss of step 1 + i * loss_stride
    note: str | None = None  # what the worker has to say besides a divergence (idle pause, what to press)

    @property
    def loss_steps(self) -> np.ndarray:
        """The step number of each entry of step_losses."""
        return 1 + np.arange(len(self.step_losses)) * self.loss_stride

    @property
    def progress(self) -> float:
        """Share of all steps done, 0-1."""
        return min(1.0, self.step / max(1, self.total_steps))


class RunView:
    """The server's copy of a run training in another process: the Trainer's fields the page reads, kept current
    from the process's reports; the model's weights are current whenever the run is stopped."""

    def __init__(self, trainer: Trainer, idle_timeout: float):
        self.data, self.settings, self.model = trainer.data, trainer.settings, trainer.model
        self.norm_every, self.device, self.steps_per_epoch = trainer.norm_every, trainer.device, trainer.steps_per_epoch
        self.total_steps, self.planned_epochs = trainer.total_steps, trainer.planned_epochs
        self.step_count = self.epoch = 0
        self.history, self.divergence = History(), None
        self.valid_loss, self.valid_preds = trainer.valid_loss, trainer.valid_preds
        self.playing, self.note, self.idle_timeout, self.last_poll = False, None, idle_timeout, time.monotonic()
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.stopped.set()
        self.replies: queue.Queue = queue.Queue()
        self.seq = 0

    @property
    def done(self) -> bool:
        """All epochs trained, or stopped by divergence."""
        return self.divergence is not None or self.step_count >= self.total_steps

    def bump(self) -> int:
        """Number the next command: a report counts for play/pause only once the process has read the last one."""
        with self.lock:
            self.seq += 1
            return self.seq

    def apply(self, delta: dict, is_reply: bool, result) -> None:
        """Take in one report (run by the pool's reader thread)."""
        with self.lock:
            self.step_count, self.epoch, self.divergence = delta["step"], delta["epoch"], delta["divergence"]
            self.total_steps, self.planned_epochs = delta["total_steps"], delta["planned_epochs"]
            self.history.step_losses.extend(delta["losses"])
            self.history.epochs.extend(delta["epochs"])
            self.history.norms.extend(delta["norms"])
            self.valid_loss = delta["valid_loss"]
            self.valid_preds = delta.get("valid_preds", self.valid_preds)
            if "weights" in delta:
                self.model.load_state_dict(delta["weights"])
            if delta["seq"] == self.seq:  # older reports may still say "playing" after a pause was sent
                self.playing = delta["playing"]
                (self.stopped.clear if self.playing else self.stopped.set)()
        if is_reply:
            self.replies.put(result)

    def lost(self, message: str) -> None:
        """The training process died: stop, say so, and release whoever waits for a reply."""
        with self.lock:
            self.playing, self.note = False, message
            self.stopped.set()
        self.replies.put(RuntimeError(message))


class TrainingWorker:
    """Play / pause / step / snapshot for one run; the training itself happens in a shared training process."""

    def __init__(self, trainer: Trainer, spec: object = None, idle_timeout: float = IDLE_TIMEOUT_S, pool=None):
        from explorer.training.pool import POOL

        self.trainer, self.spec = RunView(trainer, idle_timeout), spec
        self._pace: float | None = None
        self._rate = (0, time.monotonic(), 0.0)  # (step, time, steps/s) at the last measurement
        self._proc, self._rid = (pool or POOL).open(self.trainer, trainer)
        self._close = weakref.finalize(self, self._proc.close, self._rid)  # session ended: free the copy there

    def close(self) -> None:
        """Drop this run from its training process (Reset replaced it)."""
        self._close()

    @property
    def running(self) -> bool:
        """True while the run is (or is about to be) training."""
        return self.trainer.playing and not self.trainer.done

    @property
    def note(self) -> str | None:
        return self.trainer.note

    @property
    def pace(self) -> float | None:
        """Steps per second while playing; None = as fast as possible."""
        return self._pace

    @pace.setter
    def pace(self, value: float | None) -> None:
        if value != self._pace:
            self._pace = value
            self._proc.send("pace", self._rid, self.trainer.bump(), False, value)

    def _ask(self, kind: str, *args):
        """Send a command, wait for the process's answer (it comes after the run's report)."""
        view = self.trainer
        while not view.replies.empty():
            view.replies.get_nowait()
        self._proc.send(kind, self._rid, view.bump(), True, *args)
        try:
            result = view.replies.get(timeout=REPLY_TIMEOUT_S)
        except queue.Empty:
            result = RuntimeError(f"The training process did not answer {kind!r} within {REPLY_TIMEOUT_S:.0f} s.")
        if isinstance(result, Exception) and not isinstance(result, SettingsError):
            view.note = str(result)
        return result

    def _can_go_on(self) -> bool:
        """After the last epoch, train as many epochs again; after a divergence, say what to press instead."""
        view = self.trainer
        if view.divergence is not None:
            view.note = ("This run diverged and cannot go on: change the settings on the left (see the advice "
                         "above) and press Reset for a new run.")
            return False
        if view.step_count < view.total_steps:
            return True
        more = view.settings.epochs
        result = self._ask("extend", more)
        if isinstance(result, Exception):
            view.note = str(result)
            return False
        view.note = f"Training on: {more} more epochs ({view.planned_epochs} in all)."
        return True

    def play(self) -> None:
        """Start (or resume) training; after the last epoch, train as many epochs again."""
        if self.running:
            return
        self.trainer.note = None  # an old note (idle pause, "training on") is not news any more
        if not self._can_go_on():
            return
        view = self.trainer
        view.last_poll = time.monotonic()
        with view.lock:  # with the command's number: an older report cannot undo it
            view.playing = True
            view.stopped.clear()
            view.seq = seq = view.seq + 1
        self._proc.send("play", self._rid, seq, False)

    def pause(self) -> None:
        """Stop after the step in progress; returns once the process has stopped and reported."""
        self._ask("pause")

    def stop(self, timeout: float = 10.0) -> None:
        """Pause and wait until the run is stopped (kept for callers of the threaded worker)."""
        self.pause()
        self.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the run stops (training finished, diverged or paused)."""
        self.trainer.stopped.wait(timeout)

    def step_once(self) -> list[StepMetrics]:
        """One mini-batch (pauses first; after the last epoch, trains on as play() does)."""
        if self.running:
            self.pause()
        self.trainer.note = None
        if not self._can_go_on():
            return []
        result = self._ask("step")
        return result if isinstance(result, list) else []

    def snapshot(self, max_points: int | None = None) -> Snapshot:
        """A copy of the current state, every k-th step only when longer than max_points (charts need no more).

        Polling also tells the pool that someone is still watching."""
        t = self.trainer
        t.last_poll = time.monotonic()
        with t.lock:
            losses, norms = t.history.step_losses, t.history.norms
            stride = 1 if not max_points else max(1, -(-len(losses) // max_points))
            if stride > 1:  # norms come in groups of one row per parameter: thin whole groups
                group = len(list(t.model.parameters()))
                norms = [row for i in range(0, len(norms), group * stride) for row in norms[i:i + group]]
            return Snapshot(self._status(), t.step_count, t.total_steps, t.epoch, t.planned_epochs,
                            losses[::stride], [dict(r) for r in t.history.epochs], list(norms), t.valid_loss,
                            t.valid_preds.copy(), t.divergence or t.note, self._steps_per_second(t.step_count),
                            stride, t.note)

    def _status(self) -> str:
        t = self.trainer
        if t.divergence is not None:
            return "diverged"
        if t.step_count >= t.total_steps:
            return "done"
        if t.playing:  # (read under the lock with the rest: the page decides from the snapshot alone)
            return "running"
        return "paused" if t.step_count else "ready"

    def _steps_per_second(self, step: int) -> float:
        last_step, last_time, rate = self._rate
        now = time.monotonic()
        if now - last_time >= 0.5:
            rate = (step - last_step) / (now - last_time)
            self._rate = (step, now, rate)
        return rate

    def checkpoint_before(self, step: int) -> Checkpoint | None:
        """The run's latest checkpoint before step `step` (the step window replays from it); None: from step 0."""
        result = self._ask("checkpoint", step)
        return None if isinstance(result, Exception) else result

    def state_dict_bytes(self) -> bytes:
        """The run's state_dict as torch.save writes it, read between two steps."""
        result = self._ask("state_dict")
        if isinstance(result, Exception):
            raise RuntimeError(str(result))
        return result


def new_worker(frame: pd.DataFrame, spec, settings, token: tuple, old: TrainingWorker | None = None) -> TrainingWorker:
    """A fresh run (features, seeded model) training in the shared pool, in place of `old`: that one pauses first,
    and once replaced its copy in the training process goes (not when the garbage collector runs). token: the
    candles and device the run is made for, its last item the device. Raises FeatureError/SettingsError (`old`
    then stays, paused)."""
    if old is not None:
        old.pause()
    trainer = Trainer(make_features(frame, spec), settings, device=token[-1])
    worker = TrainingWorker(trainer, spec=(spec, settings, token))
    if old is not None:
        old.close()
    return worker


def run_token(frame: pd.DataFrame, device: str) -> tuple:
    """What tells one set of candles (and device) from another: a run made for other ones says so."""
    return len(frame), str(frame.index[0]), str(frame.index[-1]), float(frame["close"].iloc[-1]), device


def loss_history_frame(snap: Snapshot) -> pd.DataFrame:
    """One row per step: step, epoch-end train/validation loss where an epoch ended."""
    steps = pd.DataFrame({"step": snap.loss_steps, "train_loss": snap.step_losses})
    if not snap.epochs_table:
        return steps.assign(epoch_train_loss=np.nan, valid_loss=np.nan)
    epochs = pd.DataFrame(snap.epochs_table).rename(columns={"train_loss": "epoch_train_loss"})
    return steps.merge(epochs, on="step", how="left")
