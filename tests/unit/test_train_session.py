"""The Training page's decisions, apart from its widgets: settings read from widget values, what a click on the
loss chart picks, which step the window follows, which runs are offered for comparing, what a stopped panel says."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from explorer.data.config import load_config
from explorer.training.charts import RunRecord
from explorer.training.controls import read_settings, training_section, widget_defaults
from explorer.training.live import panel_notes
from explorer.training.models import SettingsError
from explorer.training.session import CLICKED, PICK, PICK_RUNS, clicked_step, compare_choice, window_step
from explorer.training.trainer import TrainSettings, specs_from_config


def test_the_widgets_first_values_read_back_as_the_configs_settings():
    section = training_section(None)
    assert section == load_config().training
    values = widget_defaults(section, 1000)
    assert read_settings(values, 1000, section) == specs_from_config(section, 1000)
    spec, settings = read_settings({**values, "train_rows": 999}, 40, section)  # no slider under 50 candles
    assert spec.rows == 40 and settings == specs_from_config(section, 40)[1]


def test_hidden_sizes_are_read_for_the_mlp_only():
    section = training_section(None)
    values = {**widget_defaults(section, 1000), "train_hidden": "8, x"}
    assert read_settings(values, 1000, section)[1].hidden_sizes == tuple(section.hidden_sizes)  # not an MLP
    with pytest.raises(SettingsError, match="could not read 'x'"):
        read_settings({**values, "train_model": "mlp"}, 1000, section)
    _, settings = read_settings({**values, "train_model": "mlp", "train_hidden": "8, 4"}, 1000, section)
    assert settings.hidden_sizes == (8, 4)


def test_a_click_on_the_loss_chart_picks_its_step_once():
    state = {}
    event = {"selection": {"points": [{"x": 6.8}]}}
    assert clicked_step(state, event, 10) == 7 and state[PICK] == state[CLICKED] == 7
    assert clicked_step(state, event, 10) is None  # the same selection again: already acted on
    assert clicked_step(state, {"selection": {"points": []}}, 10) is None and CLICKED not in state
    assert clicked_step(state, event, 10) == 7  # nothing selected in between: the same step counts again
    assert clicked_step({}, {"selection": {"points": [{"x": 11}]}}, 10) is None  # not part of the run


def test_the_window_follows_the_latest_step_until_one_is_picked():
    worker, state = SimpleNamespace(trainer=SimpleNamespace(step_count=3)), {}
    window_step(state, worker)
    assert state[PICK] == 3
    worker.trainer.step_count = 5
    window_step(state, worker)
    assert state[PICK] == 5  # followed the run
    state[PICK] = 2  # the learner picks step 2
    worker.trainer.step_count = 9
    window_step(state, worker)
    assert state[PICK] == 2
    state[PICK] = 40
    window_step(state, worker)
    assert state[PICK] == 9  # kept inside the steps run


def test_compared_runs_keep_the_learners_choice_and_a_new_run_joins_it():
    def run(n, lr):
        return RunRecord(n, {"learning_rate": lr}, np.arange(1, 3), np.ones(2), "done", "MSE")
    state = {}
    labels, default = compare_choice(state, [run(1, 0.1), run(2, 0.01)])
    assert labels == {1: "#1 lr 0.1", 2: "#2 lr 0.01"} and default == [1, 2]
    state[PICK_RUNS] = [2]  # the learner leaves run 1 out
    labels, default = compare_choice(state, [run(1, 0.1), run(2, 0.01), run(3, 0.3)])
    assert default is None and state[PICK_RUNS] == [2, 3]


def test_a_stopped_panel_says_what_happened_and_what_to_press():
    snap = SimpleNamespace(status="diverged", message="Training stopped at step 2", note=None, epochs=1)
    assert panel_notes(snap, TrainSettings()) == [("error", "Training stopped at step 2")]
    done = SimpleNamespace(status="done", message=None, note=None, epochs=20)
    assert panel_notes(done, TrainSettings(epochs=20)) == [("info", "Done: 20 epochs. Play trains 20 more epochs and "
                                                           "Step one more mini-batch; Reset starts a new run with the "
                                                           "settings on the left.")]
    noted = SimpleNamespace(status="done", message=None, note="Training on: 1 more epochs (2 in all).", epochs=2)
    assert panel_notes(noted, TrainSettings()) == [("info", "Training on: 1 more epochs (2 in all).")]
