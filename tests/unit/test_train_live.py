"""The live panel the browser polls while a run plays (explorer.training.live): what it answers, for whom, and the
light prediction and norm charts in it, checked against the run's own numbers."""
from __future__ import annotations

import gc
import re

import numpy as np
import pytest

from explorer.data.sample import generate_candles
from explorer.training import live
from explorer.training.charts import norms_svg, prediction_svg
from explorer.training.features import FeatureSpec, make_features
from explorer.training.trainer import Trainer, TrainSettings
from explorer.training.worker import TrainingWorker


@pytest.fixture(scope="module")
def data():
    return make_features(generate_candles(300), FeatureSpec(rows=300))


@pytest.fixture
def worker(data):
    w = TrainingWorker(Trainer(data, TrainSettings(model="mlp", hidden_sizes=(4,), epochs=2), norm_every=2))
    yield w
    w.close()


def polylines(svg: str) -> list[list[tuple[float, float]]]:
    return [[tuple(map(float, p.split(","))) for p in m.split()] for m in re.findall(r'points="([^"]*)"', svg)]


def test_a_run_has_one_unguessable_token_and_is_served_under_it_only(worker):
    token = live.publish(worker)
    assert live.publish(worker) == token and len(token) >= 20
    assert live.payload("not-a-token", False, False) is None
    worker.step_once()
    panel = live.payload(token, False, False)
    assert panel["status"] == "paused"
    assert "<b>paused</b> · epoch 1/2 · step 1/" in panel["fast"]
    assert "slow" in panel  # a stopped run's last poll brings the final charts


def test_the_panel_shows_the_runs_numbers(worker):
    for _ in range(3):
        worker.step_once()
    snap = worker.snapshot()
    panel = live.payload(live.publish(worker), False, True)
    assert f"{snap.step_losses[-1]:.4g}" in panel["fast"]  # the last batch loss
    assert f"{snap.valid_loss:.4g}" in panel["fast"]
    assert "Losses are the MSE of z-scored next_high." in panel["fast"]
    assert 'class="live-loss"' in panel["fast"] and 'class="live-pred"' in panel["slow"]


def test_a_run_that_is_gone_is_not_served(data):
    w = TrainingWorker(Trainer(data, TrainSettings(epochs=1)))
    token = live.publish(w)
    w.close()
    del w
    gc.collect()
    assert live.payload(token, False, False) is None


def test_the_board_carries_its_route_and_the_first_panel(worker):
    board = live.board(worker, log_y=True)
    token = live.publish(worker)
    assert board["src"] == f"api/live/{token}?log_y=1" and live.ROUTE.format(token=token) == f"/api/live/{token}"
    polled = live.payload(token, True, True)  # what the first poll brings: the board starts from the same panel
    assert board["first"] == {"fast": polled["fast"], "slow": polled["slow"]} and "live-status" in polled["fast"]
    assert (board["poll_ms"], board["slow_every"]) == (live.POLL_MS, live.SLOW_EVERY)


def test_panel_numbers_compare_accuracy_with_chance():
    candles = generate_candles(300)
    data = make_features(candles, FeatureSpec(rows=300, target="next_direction"))
    w = TrainingWorker(Trainer(data, TrainSettings(loss="bce_logits", epochs=1)))
    try:
        while w.trainer.step_count < w.trainer.total_steps:
            w.step_once()
        snap = w.snapshot()
    finally:
        w.close()
    *_, (label, value, delta, hint, gap) = live.panel_numbers(snap, data)
    up = float(np.mean(data.y_valid.numpy() > 0.5))
    chance, accuracy = max(up, 1 - up), snap.epochs_table[-1]["valid_accuracy"]
    assert label == "Validation accuracy" and value == f"{accuracy:.0%}"
    assert delta == f"{(accuracy - chance) * 100:+.1f} pts vs chance {chance:.0%}"
    assert gap == round((accuracy - chance) * 100, 1)  # the arrow's direction (none for a gap of 0.0)
    assert hint.startswith("Chance: always guessing")


def test_the_prediction_svg_draws_every_validation_row(worker, data):
    worker.step_once()
    snap = worker.snapshot()
    actual, predicted = polylines(prediction_svg(snap, data))
    assert len(actual) == len(predicted) == len(data.y_valid)
    truth = data.to_target_units(data.y_valid.numpy()).ravel()
    both = np.concatenate([truth, data.to_target_units(snap.valid_preds).ravel()])
    drawn = [y for _, y in actual + predicted]  # in the same order: the truth's points, then the predictions'
    assert drawn[int(np.argmax(both))] == pytest.approx(0, abs=0.06)  # the highest value at the top of the box
    assert drawn[int(np.argmin(both))] == pytest.approx(300, abs=0.06)  # the lowest at the bottom


def test_the_norms_svg_draws_each_parameter_in_both_panels_on_a_log_scale(worker):
    for _ in range(4):
        worker.step_once()
    snap = worker.snapshot()
    svg = norms_svg(snap)
    lines = polylines(svg)
    names = list(dict.fromkeys(row[1] for row in snap.norms))
    assert len(lines) == 2 * len(names)  # weight norms, then gradient norms
    assert all(len(line) == len({row[0] for row in snap.norms}) for line in lines)
    weights = [row[2] for row in snap.norms]
    assert f"{max(weights):.3g}" in svg and f"{min(weights):.3g}" in svg  # the axis ends, as values (not logs)
