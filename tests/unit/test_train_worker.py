"""The background worker: play/pause/step, pause within one step, consistent snapshots, independent sessions;
the exported script reproduces the run in a fresh Python process."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from explorer.training.export import export_script
from explorer.training.features import FeatureSpec, make_features
from explorer.data.sample import generate_candles
from explorer.training.replay import replay_step
from explorer.training.trainer import Trainer, TrainSettings
from explorer.training.worker import TrainingWorker, loss_history_frame


@pytest.fixture(scope="module")
def candles():
    return generate_candles(300)


def reference(data, settings) -> list[float]:
    trainer = Trainer(data, settings)
    trainer.step(10**6)
    return trainer.history.step_losses


def test_play_runs_in_the_background_and_pause_stops_within_one_step(candles):
    data = make_features(candles, FeatureSpec(rows=300))
    worker = TrainingWorker(Trainer(data, TrainSettings(epochs=10_000)))
    assert worker.snapshot().status == "ready"
    worker.play()
    deadline = time.monotonic() + 10
    while worker.snapshot().step < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.pause()
    at_pause = worker.trainer.step_count
    worker.join(5)
    assert worker.trainer.step_count <= at_pause + 1  # at most the step in flight
    snap = worker.snapshot()
    assert snap.status == "paused" and not worker.running
    time.sleep(0.2)
    assert worker.snapshot().step == snap.step  # nothing runs while paused
    assert [m.step for m in worker.step_once()] == [snap.step + 1]
    worker.play()
    worker.stop()
    assert not worker.running


def test_snapshots_are_consistent_while_training(candles):
    data = make_features(candles, FeatureSpec(rows=300))
    settings = TrainSettings(model="mlp", hidden_sizes=(8,), optimizer="adam", learning_rate=1e-3, epochs=30)
    worker = TrainingWorker(Trainer(data, settings))
    worker.play()
    seen = []
    while worker.running:
        snap = worker.snapshot()
        assert len(snap.step_losses) == snap.step  # never half-way through a step
        assert all(row["step"] <= snap.step for row in snap.epochs_table)
        seen.append(snap.step)
    worker.join(10)
    final = worker.snapshot()
    assert final.status == "done" and final.progress == 1.0 and len(seen) > 1
    assert final.step_losses == reference(data, settings)  # polling does not change the run
    history = loss_history_frame(final)
    assert len(history) == final.step and history["valid_loss"].notna().sum() == settings.epochs


def test_two_sessions_train_independently(candles):
    data = make_features(candles, FeatureSpec(rows=300))
    a_set = TrainSettings(model="mlp", hidden_sizes=(8,), optimizer="adam", epochs=15, seed=1)
    b_set = TrainSettings(model="linear", optimizer="sgd", momentum=0.5, epochs=15, seed=2)
    a, b = TrainingWorker(Trainer(data, a_set)), TrainingWorker(Trainer(data, b_set))
    a.play()
    b.play()
    a.join(30)
    b.join(30)
    assert a.snapshot().step_losses == reference(data, a_set)
    assert b.snapshot().step_losses == reference(data, b_set)


def test_idle_worker_pauses_itself(candles):
    worker = TrainingWorker(Trainer(make_features(candles, FeatureSpec(rows=300)), TrainSettings(epochs=10**4)),
                            idle_timeout=0.05)
    worker.step_once()  # the training process is up (its start-up takes longer than this idle timeout)
    worker.pace = 200.0
    worker.play()
    worker.join(5)
    snap = worker.snapshot()
    assert snap.status == "paused" and "nobody looked" in snap.message


def test_divergence_stops_the_worker_with_the_message(candles):
    data = make_features(candles, FeatureSpec(rows=300, normalisation="none"))
    worker = TrainingWorker(Trainer(data, TrainSettings(learning_rate=0.01)))
    worker.play()
    worker.join(10)
    snap = worker.snapshot()
    assert snap.status == "diverged" and snap.message.startswith("Training stopped at step 2")
    assert all(loss == loss and loss != float("inf") for loss in snap.step_losses)


@pytest.mark.parametrize("spec, settings", [
    (FeatureSpec(rows=300), TrainSettings(epochs=2)),
    (FeatureSpec(rows=300, lags=4, columns=("high", "close", "volume"), target="next_direction",
                 normalisation="log_returns"),
     TrainSettings(model="mlp", hidden_sizes=(8, 4), activation="sigmoid", loss="cross_entropy", optimizer="adam",
                   learning_rate=3e-3, batch_size=16, epochs=2, seed=9, init="seed_sqrt_n", zero_grad=False)),
    (FeatureSpec(rows=300), TrainSettings(model="linear", optimizer="sgd", momentum=0.9, learning_rate=1e-3,
                                          batch_size=50, epochs=2, seed=3, zero_grad=False)),
    (FeatureSpec(rows=300), TrainSettings(learning_rate=1e-3, epochs=2, seed=1, zero_grad=False)),
])
def test_exported_script_reproduces_the_first_epoch_loss(candles, tmp_path, spec, settings):
    """Run with the same settings and seed, the script prints every epoch's train and validation loss exactly as
    the app's Trainer recorded them (repr: every digit), zero_grad on or off."""
    trainer = Trainer(make_features(candles, spec), settings)
    trainer.step(2 * trainer.steps_per_epoch)
    script = tmp_path / "train_run.py"
    script.write_text(export_script(candles, spec, settings))
    out = subprocess.run([sys.executable, str(script), "2"], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)  # cwd: the script must not need the project
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("epoch ")]
    printed = [(float(line.split("train loss ")[1].split()[0]), float(line.split("valid loss ")[1]))
               for line in lines]
    assert trainer.divergence is None and len(trainer.history.epochs) == 2
    assert printed == [(row["train_loss"], row["valid_loss"]) for row in trainer.history.epochs]  # bit for bit
    text = script.read_text()
    assert "explorer" not in text.split('CANDLES_CSV = """')[0]  # standalone: no app imports
    assert ("def train_step_without_zero_grad" in text) == (not settings.zero_grad)
    assert ("def train_step(" in text) == settings.zero_grad


def test_thinned_snapshots_for_long_runs(candles):
    data = make_features(candles, FeatureSpec(rows=300))
    worker = TrainingWorker(Trainer(data, TrainSettings(model="mlp", hidden_sizes=(4,), batch_size=8, epochs=4),
                                    norm_every=1))
    worker.play()
    worker.join(30)
    full, thin = worker.snapshot(), worker.snapshot(max_points=50)
    assert full.step == len(full.step_losses) == 120 and thin.loss_stride == 3
    assert thin.step_losses == full.step_losses[::3] and list(thin.loss_steps[:3]) == [1, 4, 7]
    assert sorted({row[0] for row in thin.norms}) == list(range(1, 121, 3))
    assert len(thin.norms) == 40 * 4  # whole groups: 4 parameters per recorded step


def test_play_and_step_after_done_train_on(candles):
    data = make_features(candles, FeatureSpec(rows=300))
    settings = TrainSettings(model="mlp", hidden_sizes=(8,), optimizer="adam", epochs=1)
    worker = TrainingWorker(Trainer(data, settings))
    worker.play()
    worker.join(30)
    first = worker.snapshot()
    assert first.status == "done" and first.epochs == 1
    worker.play()  # after the last epoch: as many epochs again
    worker.join(30)
    snap = worker.snapshot()
    assert snap.status == "done" and snap.epochs == 2 and snap.step == 2 * first.step
    assert snap.note == "Training on: 1 more epochs (2 in all)."
    assert [m.step for m in worker.step_once()] == [snap.step + 1]
    assert worker.snapshot().total_steps == 3 * first.step
    assert worker.snapshot().step_losses == reference(data, TrainSettings(**{**settings.__dict__, "epochs": 3}))[
        : snap.step + 1]


def test_the_step_window_replays_from_the_training_process_checkpoints(candles):
    """A run that trained 716 steps hands over its recent state at step 700: the replay runs 15 steps, not 715 (nor
    115 from its kept checkpoint at step 600)."""
    data = make_features(candles, FeatureSpec(rows=300))
    settings = TrainSettings(model="mlp", hidden_sizes=(8,), optimizer="adam", epochs=179)  # 4 batches an epoch
    worker = TrainingWorker(Trainer(data, settings))
    worker.play()
    worker.join(30)
    assert worker.snapshot().status == "done" and worker.trainer.step_count == 716
    start = worker.checkpoint_before(716)
    assert start.step == 700 and start.epoch == 175
    assert worker.checkpoint_before(100) is None
    view = replay_step(data, settings, 716, start=start)
    assert view.loss_value == worker.snapshot().step_losses[-1] == reference(data, settings)[715]
    worker.close()


def test_a_diverged_run_says_what_to_press(candles):
    worker = TrainingWorker(Trainer(make_features(candles, FeatureSpec(rows=300, normalisation="none")),
                                    TrainSettings(learning_rate=0.01)))
    worker.play()
    worker.join(10)
    worker.play()
    assert worker.step_once() == []
    snap = worker.snapshot()
    assert snap.status == "diverged" and snap.step == 2 and "press Reset" in snap.note


def test_a_dead_training_process_is_reported_and_replaced(candles):
    from explorer.training.pool import TrainingPool

    pool = TrainingPool(1)  # its own process: killing the shared one would disturb other tests
    data = make_features(candles, FeatureSpec(rows=300))
    worker = TrainingWorker(Trainer(data, TrainSettings(epochs=10_000)), pool=pool)
    worker.play()
    worker._proc.process.kill()
    worker.join(30)
    snap = worker.snapshot()
    assert not worker.running and "training process stopped unexpectedly" in snap.message
    again = TrainingWorker(Trainer(data, TrainSettings(epochs=1)), pool=pool)
    assert [m.step for m in again.step_once()] == [1]


def test_closing_a_run_forgets_it(candles):
    worker = TrainingWorker(Trainer(make_features(candles, FeatureSpec(rows=300)), TrainSettings()))
    proc, rid = worker._proc, worker._rid
    assert proc.views[rid] is worker.trainer
    worker.close()
    assert rid not in proc.views


def test_the_window_on_the_latest_step_replays_a_few_steps_not_hundreds(candles):
    """Pause shows the latest step in the window, rebuilt from the run's nearest checkpoint: the run keeps a recent
    one, so that is at most RECENT_EVERY steps back (it was up to 200, or 400 on a 26,000-step run: 1.3 s to settle)."""
    from explorer.training.pool import RECENT_EVERY, _handle
    data = make_features(candles, FeatureSpec(rows=300))
    settings = TrainSettings(epochs=400)  # 1,600 steps
    runs = {}
    _handle(runs, "open", 1, 0, (data, settings))
    runs[1].step(1_000)
    for last in (1_000, 1_013):
        start = _handle(runs, "checkpoint", 1, 0, (last,))
        assert start is not None and last - RECENT_EVERY <= start.step < last, (last, start and start.step)
        view = replay_step(data, settings, last, start=start)
        assert view.loss_value == runs[1].trainer.history.step_losses[last - 1]  # the same step, exactly
        runs[1].step(13)
    assert _handle(runs, "checkpoint", 1, 0, (450,)).step == 400  # older steps: the kept ones, as before


def test_the_recent_state_shares_a_kept_checkpoint_taken_at_the_same_step(candles):
    """At a step where the run keeps a checkpoint anyway, its recent state is that same copy (not a second one); in
    between it copies its own, and either replays the run exactly."""
    from explorer.training.pool import RECENT_EVERY, _handle
    from explorer.training.callbacks import CHECKPOINT_EVERY
    data = make_features(candles, FeatureSpec(rows=300))
    settings = TrainSettings(epochs=400)
    runs = {}
    _handle(runs, "open", 1, 0, (data, settings))
    run = runs[1]
    run.step(CHECKPOINT_EVERY + RECENT_EVERY)
    shared, own = run.recent
    run.step(1)
    assert shared is run.trainer.checkpoints.kept[CHECKPOINT_EVERY]
    assert own.step == CHECKPOINT_EVERY + RECENT_EVERY and own.step not in run.trainer.checkpoints.kept
    for cp in (shared, own):
        view = replay_step(data, settings, cp.step + 1, start=cp)
        assert view.loss_value == run.trainer.history.step_losses[cp.step]
