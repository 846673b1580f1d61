"""The Training page's decisions, apart from its widgets: settings read from widget values, what a click on the
loss chart picks, which step the window follows, which runs are offered for comparing, what a stopped panel says."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from explorer.data.config import load_config
from explorer.data.sample import generate_candles
from explorer.teaching.shareable import Shared
from explorer.training.charts import RunRecord
from explorer.training.controls import (RATES, control_groups, greyed_out, read_run, read_settings, training_section,
                                        training_state)
from explorer.training.export import export_notebook, export_script, run_downloads
from explorer.training.features import FEATURE_COLUMNS, NORMALISATIONS, TARGETS
from explorer.training.live import panel_notes
from explorer.training.models import (ACTIVATIONS, CROSS_ENTROPY_ON_REGRESSION, INITS, LOSSES, MODELS, OPTIMIZERS,
                                      SettingsError)
from explorer.training.session import (CLICKED, PICK, PICK_RUNS, WORKER, clicked_step, compare_choice, start_run,
                                       window_step)
from explorer.training.trainer import TrainSettings, specs_from_config


def test_a_link_carries_every_setting_with_the_widgets_range():
    """The link parameters, in order, as the page has always written and read them."""
    section = training_section(None)
    assert training_state(section, 1000).spec == (
        Shared("train_rows", "int", 50, 1000), Shared("train_lags", "int", 1, 30),
        Shared("train_columns", "list", choices=tuple(FEATURE_COLUMNS)),
        Shared("train_target", "str", choices=tuple(TARGETS)),
        Shared("train_norm", "str", choices=tuple(NORMALISATIONS)), Shared("train_valid", "float", 0.05, 0.5),
        Shared("train_model", "str", choices=tuple(MODELS)), Shared("train_hidden", "str", max_len=40),
        Shared("train_activation", "str", choices=tuple(ACTIVATIONS)),
        Shared("train_init", "str", choices=tuple(INITS)), Shared("train_loss", "str", choices=tuple(LOSSES)),
        Shared("train_optimizer", "str", choices=tuple(OPTIMIZERS)), Shared("train_zero_grad", "bool"),
        Shared("train_lr", "float", choices=tuple(RATES)), Shared("train_momentum", "float", 0.0, 0.99),
        Shared("train_batch", "int", 1, 100_000), Shared("train_epochs", "int", 1, 10_000),
        Shared("train_seed", "int", 0, 2**31 - 1))
    assert training_state(section, 40).spec[0] == Shared("train_rows", "int", 50, 50)  # (no slider: all 40 used)
    own = section.model_copy(update={"learning_rate": 0.02})  # a config's own rate is a stop of the slider
    assert 0.02 in training_state(own, 1000).controls("train_lr")[0].values


def test_the_controls_column_draws_every_setting_once_and_greys_out_what_does_not_apply():
    keys = [item.key for item in training_state(training_section(None), 1000).items]
    assert [k for _, group in control_groups(1000) for k in group] == keys
    assert [k for _, group in control_groups(50) for k in group] == keys[1:]  # no "Candles used" slider
    values = {"train_model": "linear", "train_optimizer": "adam"}
    assert [k for k in keys if greyed_out(k, values)] == ["train_hidden", "train_activation", "train_momentum"]
    assert not any(greyed_out(k, {"train_model": "mlp", "train_optimizer": "sgd"}) for k in keys)


def test_settings_that_cannot_train_come_back_as_the_reason():
    section, frame = training_section(None), generate_candles(300)
    values = training_state(section, len(frame)).firsts()
    assert read_run(values, frame, section) == (*specs_from_config(section, 300), None)
    assert read_run({**values, "train_loss": "cross_entropy"}, frame, section) == (None, None,
                                                                                    CROSS_ENTROPY_ON_REGRESSION)


def test_a_run_starts_on_the_first_visit_and_at_reset_only():
    old = object()
    state = {WORKER: old}
    assert start_run(state, None, "spec", "settings", ("token",), reset=False) is None and state[WORKER] is old
    assert start_run(state, None, None, None, ("token",), reset=True) is None and state[WORKER] is old  # no settings


def test_a_stopped_run_downloads_its_history_weights_script_and_notebook():
    frame = generate_candles(300)
    spec, settings = specs_from_config(training_section(None), 300)
    worker = SimpleNamespace(trainer=SimpleNamespace(data=SimpleNamespace(candles=frame)), spec=(spec, settings, ()),
                             state_dict_bytes=lambda: b"weights")
    files = run_downloads(worker)
    assert [(d.file, d.mime, d.key) for d in files] == [
        ("loss_history.csv", "text/csv", "train_dl_csv"),
        ("state_dict.pt", "application/octet-stream", "train_dl_state"),
        ("train_run.py", "text/x-python", "train_dl_script"),
        ("train_run.ipynb", "application/x-ipynb+json", "train_dl_notebook")]
    assert files[1].data() == b"weights"
    assert files[2].data() == export_script(frame, spec, settings)
    assert files[3].data() == export_notebook(frame, spec, settings)


def test_the_widgets_first_values_read_back_as_the_configs_settings():
    section = training_section(None)
    assert section == load_config().training
    values = training_state(section, 1000).firsts()
    assert read_settings(values, 1000, section) == specs_from_config(section, 1000)
    spec, settings = read_settings({**values, "train_rows": 999}, 40, section)  # no slider under 50 candles
    assert spec.rows == 40 and settings == specs_from_config(section, 40)[1]


def test_hidden_sizes_are_read_for_the_mlp_only():
    section = training_section(None)
    values = {**training_state(section, 1000).firsts(), "train_hidden": "8, x"}
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
