"""Training processes shared by all sessions of one server; each trains many sessions' runs, one step each in turn.

Why a process and not a thread: a training thread in the server shares one GIL with Streamlit's reruns, the
figure building and the full garbage collections, and a tiny model's step releases and re-takes the GIL dozens of
times, waiting behind whatever Python the server runs each time (measured in the browser: 25 steps/s against a
bare loop's 1,550). The process owns the Trainer; the server keeps a copy of what the page reads (RunView),
updated from the reports the process sends, and a click on Pause reaches the loop before its next step.
"""
from __future__ import annotations

import importlib
import os
import pickle
import select
import socket
import subprocess
import sys
import threading
import time
import traceback
from itertools import count
from multiprocessing.connection import Connection
from pathlib import Path

import torch

from explorer.training.models import SettingsError
from explorer.training.trainer import Trainer

PUSH_S = 0.05  # a playing run reports its new steps this often (the page redraws every 0.2 s)
SLICE_S = 0.002  # commands are read between slices of training this long: a pause waits at most that (+ a turn)
TURN = 8  # steps a run at full speed takes per turn: the loop's own Python then costs an eighth per step
# One process per two cores by default; torch's intra-op threads only slow a tiny model's step down.
PROCESSES = int(os.environ.get("AUTOGRAD_EXPLORER_TRAIN_PROCESSES", max(1, (os.cpu_count() or 1) // 2)))
# A run also keeps its latest state every RECENT_EVERY steps: Pause opens the step window on the latest step, which
# then replays at most that many steps, not up to a kept checkpoint's spacing (200, then 400 … on long runs; an MLP
# replaying 189 steps took 0.12 s of the pause's redraw, 24 steps 0.01 s). A copy costs a linear model 90 µs and an
# MLP + Adam 200 µs: every 25 steps that was 2 % and 1.4 % of their runs, every 100 it is a quarter of that.
RECENT_EVERY = 100
THREADS = int(os.environ.get("AUTOGRAD_EXPLORER_TRAIN_THREADS", 1))


class _Run:
    """One session's Trainer inside a training process, and what it has reported so far."""

    def __init__(self, trainer: Trainer):
        self.trainer, self.playing, self.pace, self.due, self.seq = trainer, False, None, 0.0, 0
        self.sent = (0, 0, 0)  # step losses, epoch rows and norm rows already reported
        self.recent = []  # the run's states at its last two multiples of RECENT_EVERY (the last: after its step)
        trainer.add_callback(self._keep_recent, RECENT_EVERY)

    def _keep_recent(self, trainer: Trainer, metrics) -> None:
        if trainer.divergence is None:  # at a kept checkpoint's step (every other time, at first) it shares that copy
            cp = trainer.checkpoints.kept.get(trainer.step_count) or trainer.checkpoint()
            self.recent = [*self.recent[-1:], cp]

    def checkpoint_before(self, step: int):
        """The latest state from which step `step` is still to come: a recent one, or the trainer's nearest."""
        kept = self.trainer.checkpoint_before(step)
        recent = [cp for cp in self.recent if cp.step < step and (kept is None or cp.step > kept.step)]
        return recent[-1] if recent else kept

    def step(self, n: int = 1) -> list:
        """Up to n mini-batches; an exception ends the play and is reported, never lost."""
        try:
            return self.trainer.step(n)
        except Exception as exc:  # noqa: BLE001 - a run must not take the process (and other sessions) down
            self.playing, self.trainer.divergence = False, f"Training failed: {type(exc).__name__}: {exc}"
            return []

    def report(self) -> dict:
        """What changed since the last report; the weights too when the run is stopped (the page may read them)."""
        t, (n_loss, n_epoch, n_norm) = self.trainer, self.sent
        h = t.history
        delta = {"seq": self.seq, "playing": self.playing, "step": t.step_count, "epoch": t.epoch,
                 "total_steps": t.total_steps, "planned_epochs": t.planned_epochs, "divergence": t.divergence,
                 "losses": h.step_losses[n_loss:], "epochs": h.epochs[n_epoch:], "norms": h.norms[n_norm:],
                 "valid_loss": t.valid_loss}
        if len(h.epochs) != n_epoch:
            delta["valid_preds"] = t.valid_preds
        if not self.playing:
            delta["weights"] = t.model.state_dict()
        self.sent = (len(h.step_losses), len(h.epochs), len(h.norms))
        return delta


def _handle(runs: dict[int, _Run], kind: str, rid: int, seq: int, args: tuple):
    """Apply one command from the server; returns the reply's result (or None)."""
    if kind == "open":
        runs[rid] = _Run(Trainer(*args))
        return None
    run = runs.get(rid)
    if run is None or kind == "close":
        runs.pop(rid, None)
        return None
    run.seq = seq
    if kind == "pace":
        run.pace = args[0]
    elif kind == "play":
        run.playing, run.due = not run.trainer.done, time.monotonic()
    elif kind == "pause":
        run.playing = False
    elif kind == "step":
        run.playing = False
        return run.step()
    elif kind == "extend":
        try:
            run.trainer.extend(args[0])
        except SettingsError as exc:
            return exc
    elif kind == "state_dict":
        return run.trainer.state_dict_bytes()
    elif kind == "checkpoint":
        return run.checkpoint_before(args[0])
    return None


def _send(conn, *message) -> None:
    conn.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


def _train_due(runs: dict[int, _Run], conn) -> None:
    """Steps of the playing runs whose turn has come (pace), a turn each in turn (one step in slow motion, TURN at
    full speed), for up to SLICE_S; a run that stops reports at once."""
    end = time.monotonic() + SLICE_S
    while True:
        now = time.monotonic()
        due = [(rid, run) for rid, run in runs.items() if run.playing and run.due <= now]
        for rid, run in due:
            run.step(1 if run.pace else TURN)
            if run.pace:  # slow motion: the next step waits its turn (no burst after a long wait)
                run.due = max(run.due + 1.0 / run.pace, now - 1.0)
            if run.trainer.done:
                run.playing = False
                _send(conn, "update", rid, run.report(), False, None)
        if not due or time.monotonic() >= end:
            return


def serve(conn, threads: int = THREADS) -> None:
    """The training process: read commands between steps, train the playing runs, report every PUSH_S."""
    torch.set_num_threads(threads)
    importlib.import_module("torch._dynamo")  # torch's optimizers import it on first use (0.6 s): here, not in a run
    commands = select.poll()  # conn.poll(0) costs 5 µs, this 0.4: it runs between every two slices
    commands.register(conn.fileno(), select.POLLIN)
    runs: dict[int, _Run] = {}
    pushed = 0.0
    while True:
        playing = [r.due for r in runs.values() if r.playing]
        wait = None if not playing else max(0.0, min(playing) - time.monotonic())
        try:  # checked between slices: a pause is never more than SLICE_S and a step late
            while commands.poll(None if wait is None else wait * 1000):  # (a closed pipe reads as ready: EOFError)
                kind, rid, seq, reply, args = pickle.loads(conn.recv_bytes())
                try:
                    result = _handle(runs, kind, rid, seq, args)
                except Exception as exc:  # noqa: BLE001 - reported to the session that asked; others train on
                    result = exc
                if rid in runs and kind not in ("open", "close", "pace"):  # the server learns what changed
                    _send(conn, "update", rid, runs[rid].report(), reply, result)
                wait = 0.0
        except (EOFError, OSError):  # the server is gone
            return
        _train_due(runs, conn)
        if time.monotonic() - pushed >= PUSH_S:
            pushed = time.monotonic()
            for rid, run in runs.items():
                if run.playing:
                    _send(conn, "update", rid, run.report(), False, None)


class TrainingProcess:
    """One training process, seen from the server: commands go down a pipe, a reader thread applies reports."""

    def __init__(self) -> None:
        # a plain `python -m` child: multiprocessing's spawn would re-import the server's main script in it
        here, there = socket.socketpair()
        self.process = subprocess.Popen([sys.executable, "-m", "explorer.training.pool", str(there.fileno())],
                                        pass_fds=[there.fileno()], cwd=Path(__file__).resolve().parents[2])
        there.close()
        self.conn, self._send_lock, self.views = Connection(here.detach()), threading.Lock(), {}
        self._reader = threading.Thread(target=self._read, name="training-reports", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, kind: str, rid: int, seq: int = 0, reply: bool = False, *args) -> None:
        """A command for run rid; with reply=True the process answers with the run's report."""
        with self._send_lock:
            _send(self.conn, kind, rid, seq, reply, args)

    def _read(self) -> None:
        while True:
            try:
                if self.conn.poll(1.0):
                    _, rid, delta, is_reply, result = pickle.loads(self.conn.recv_bytes())
                    view = self.views.get(rid)
                    if view is not None:
                        view.apply(delta, is_reply, result)
                self._pause_unwatched()
            except (EOFError, OSError):
                break
            except Exception:  # noqa: BLE001 - one bad report must not stop the reports of every session
                traceback.print_exc()
        code = self.process.poll()
        for view in list(self.views.values()):
            view.lost(f"The training process stopped unexpectedly (exit code {code}). Press Reset to start a "
                      "new run.")

    def _pause_unwatched(self) -> None:
        """A run nobody has polled for idle_timeout (tab closed) pauses: it must not hold a core for hours."""
        now = time.monotonic()
        for rid, view in list(self.views.items()):
            if view.playing and now - view.last_poll > view.idle_timeout:
                view.note = f"Paused: nobody looked at this training for {view.idle_timeout:.0f} s."
                view.last_poll = now
                self.send("pause", rid, view.bump())

    def close(self, rid: int) -> None:
        """Forget run rid here and there (its session ended or was reset)."""
        self.views.pop(rid, None)
        try:
            self.send("close", rid)
        except OSError:
            pass


class TrainingPool:
    """The server's training processes, started on first use; a new run goes to the one with fewest runs."""

    def __init__(self, processes: int = PROCESSES) -> None:
        self.size, self._lock, self._procs, self._ids = max(1, processes), threading.Lock(), [], count(1)

    def open(self, view, trainer: Trainer) -> tuple[TrainingProcess, int]:
        """Start a copy of trainer (rebuilt from its seed: the same numbers) in a process; view gets its reports."""
        with self._lock:
            self._procs = [p for p in self._procs if p.alive]
            if len(self._procs) < self.size:
                self._procs.append(TrainingProcess())
            proc = min(self._procs, key=lambda p: len(p.views))
            rid = next(self._ids)
        proc.views[rid] = view
        proc.send("open", rid, 0, False, trainer.data, trainer.settings, trainer.norm_every, str(trainer.device))
        return proc, rid


POOL = TrainingPool()


if __name__ == "__main__":  # the training process: python -m explorer.training.pool <socket fd>
    serve(Connection(int(sys.argv[1])))
