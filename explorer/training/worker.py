"""A per-session background thread that runs a Trainer; the page only reads thread-safe snapshots of it."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.training.trainer import StepMetrics, Trainer

# A session whose page stopped polling (tab closed) should not train on for hours on a shared server.
IDLE_TIMEOUT_S = 300.0


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

    @property
    def loss_steps(self) -> np.ndarray:
        """The step number of each entry of step_losses."""
        return 1 + np.arange(len(self.step_losses)) * self.loss_stride

    @property
    def progress(self) -> float:
        """Share of all steps done, 0-1."""
        return min(1.0, self.step / max(1, self.total_steps))


class TrainingWorker:
    """Play / pause / step / snapshot for one Trainer; training happens in a thread that never calls Streamlit."""

    def __init__(self, trainer: Trainer, spec: object = None, idle_timeout: float = IDLE_TIMEOUT_S):
        self.trainer, self.spec, self.idle_timeout = trainer, spec, idle_timeout
        self._lock = threading.Lock()  # guards the trainer: one step or one snapshot at a time
        self._control = threading.Lock()  # guards starting/stopping the thread
        self._playing = threading.Event()
        self._halt = threading.Event()  # set by pause(): also cuts short the wait between paced steps
        self.pace: float | None = None  # steps per second while playing; None = as fast as possible
        self._thread: threading.Thread | None = None
        self._last_poll = time.monotonic()
        self._rate = (0, time.monotonic(), 0.0)  # (step, time, steps/s) at the last measurement
        self.note: str | None = None

    @property
    def running(self) -> bool:
        """True while the thread is (or is about to be) training."""
        return self._playing.is_set()

    def play(self) -> None:
        """Start (or resume) training in the background thread."""
        with self._control:
            if self.trainer.done:
                return
            self.note = None
            self._last_poll = time.monotonic()
            self._halt.clear()
            self._playing.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="training-worker", daemon=True)
                self._thread.start()

    def pause(self) -> None:
        """Stop after the step in progress (pause takes effect within one step)."""
        self._playing.clear()
        self._halt.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Pause and wait for the thread to finish its step."""
        self.pause()
        self.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the thread stops (training finished, diverged or paused)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def step_once(self) -> list[StepMetrics]:
        """One mini-batch, run right here (only while paused: the thread owns the trainer while playing)."""
        if self.running:
            return []
        with self._lock:
            return self.trainer.step(1)

    def _run(self) -> None:
        while True:
            with self._control:
                idle = time.monotonic() - self._last_poll > self.idle_timeout
                if idle:
                    self.note = f"Paused: nobody looked at this training for {self.idle_timeout:.0f} s."
                if idle or self.trainer.done or not self._playing.is_set():
                    self._playing.clear()
                    self._thread = None
                    return
            with self._lock:
                self.trainer.step(1)
            if self.pace:  # slow motion for watching; pause() wakes this wait at once
                self._halt.wait(1.0 / self.pace)

    def snapshot(self, max_points: int | None = None) -> Snapshot:
        """A copy of the current state, every k-th step only when longer than max_points (charts need no more).

        Polling also tells the worker that someone is still watching."""
        self._last_poll = time.monotonic()
        with self._lock:
            t = self.trainer
            losses, norms = t.history.step_losses, t.history.norms
            stride = 1 if not max_points else max(1, -(-len(losses) // max_points))
            if stride > 1:  # norms come in groups of one row per parameter: thin whole groups
                group = len(list(t.model.parameters()))
                norms = [row for i in range(0, len(norms), group * stride) for row in norms[i:i + group]]
            return Snapshot(self._status(), t.step_count, t.total_steps, t.epoch, t.settings.epochs,
                            losses[::stride], [dict(r) for r in t.history.epochs], list(norms), t.valid_loss,
                            t.valid_preds.copy(), t.divergence or self.note, self._steps_per_second(t.step_count),
                            stride)

    def _status(self) -> str:
        t = self.trainer
        if t.divergence is not None:
            return "diverged"
        if t.step_count >= t.total_steps:
            return "done"
        if self.running:
            return "running"
        return "paused" if t.step_count else "ready"

    def _steps_per_second(self, step: int) -> float:
        last_step, last_time, rate = self._rate
        now = time.monotonic()
        if now - last_time >= 0.5:
            rate = (step - last_step) / (now - last_time)
            self._rate = (step, now, rate)
        return rate

    def state_dict_bytes(self) -> bytes:
        """The trainer's state_dict, read between two steps."""
        with self._lock:
            return self.trainer.state_dict_bytes()


def loss_history_frame(snap: Snapshot) -> pd.DataFrame:
    """One row per step: step, epoch-end train/validation loss where an epoch ended."""
    steps = pd.DataFrame({"step": snap.loss_steps, "train_loss": snap.step_losses})
    if not snap.epochs_table:
        return steps.assign(epoch_train_loss=np.nan, valid_loss=np.nan)
    epochs = pd.DataFrame(snap.epochs_table).rename(columns={"train_loss": "epoch_train_loss"})
    return steps.merge(epochs, on="step", how="left")
