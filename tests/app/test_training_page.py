"""AppTest of the training page: step/reset/play/pause, settings that wait for Reset, refusals and divergence.

`run_every` fragments do not tick in AppTest, so live updates are tested in tests/e2e/test_training.py."""
from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from explorer.data.config import load_config
from explorer.training.models import CROSS_ENTROPY_ON_REGRESSION
from tests.app.apptest import click, light_table, open_app_page


@pytest.fixture
def at() -> AppTest:
    return open_app_page("pages/training.py")


def progress_text(at: AppTest) -> str:
    return at.get("progress")[0].proto.text


def trainer(at: AppTest):
    return at.session_state["train_worker"].trainer


def test_page_opens_with_the_config_defaults(at):
    defaults = load_config().training
    assert at.selectbox(key="train_target").value == defaults.target
    assert at.selectbox(key="train_norm").value == defaults.normalisation
    assert at.select_slider(key="train_lr").value == defaults.learning_rate
    assert progress_text(at).startswith(f"**ready** · epoch 0/{defaults.epochs} · step 0/")
    assert trainer(at).total_steps >= 2_000  # a run to watch: 20 epochs were 260 steps, over in under a second
    assert len(at.get("plotly_chart")) == 3
    assert not at.error
    assert trainer(at).data.shapes()["t_indep (train)"] == "torch.Size([798, 15])"  # 1000 candles, 3 lags x 5


def test_the_feature_rows_show_as_a_light_table(at):
    """Tensors and model: the first five rows of lagged features and target as the candles had them, with times."""
    table, data = light_table(at, "train-table"), trainer(at).data.table.head(5)
    assert table.columns.tolist() == [data.index.name or "index", *data.columns]
    assert table.iloc[:, 0].tolist() == [str(t) for t in data.index]
    for column in data.columns:
        assert table[column].tolist() == data[column].tolist()  # every digit: 4,261.48, not 4,261.4800


def test_step_runs_one_minibatch_and_offers_downloads(at):
    click(at, "train_step")
    assert trainer(at).step_count == 1
    assert f"**paused** · epoch 1/{load_config().training.epochs} · step 1/" in progress_text(at)
    assert at.metric[0].value == f"{trainer(at).history.step_losses[0]:.4g}"
    click(at, "train_step")
    assert trainer(at).step_count == 2
    assert len(at.get("download_button")) == 4  # loss history, state_dict, script, notebook


def test_changed_settings_wait_for_reset(at):
    click(at, "train_step")
    at.select_slider(key="train_lr").set_value(0.1).run()
    assert trainer(at).step_count == 1 and trainer(at).settings.learning_rate == 0.01  # nothing restarted
    assert any("press Reset" in i.value for i in at.info)
    click(at, "train_reset")
    assert trainer(at).step_count == 0 and trainer(at).settings.learning_rate == 0.1
    assert not any("press Reset" in i.value for i in at.info)


def test_other_widgets_do_not_disturb_a_run(at):
    click(at, "train_step")
    worker = at.session_state["train_worker"]
    at.toggle(key="train_log_y").set_value(True).run()
    at.select_slider(key="train_pace").set_value("20").run()
    assert not at.exception
    assert at.session_state["train_worker"] is worker and worker.trainer.step_count == 1
    assert worker.pace == 20.0


def test_play_then_pause(at):
    at.select_slider(key="train_pace").set_value("100").run()
    click(at, "train_play")
    worker = at.session_state["train_worker"]
    assert worker.running
    deadline = time.monotonic() + 20
    while worker.trainer.step_count < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    # while it plays: the light loss curve, and the sections below wait for Pause (they cost the browser time)
    assert any("live-loss" in m.value for m in at.markdown)
    assert "A window into one step" not in [h.value for h in at.subheader]
    assert any("show when training stops" in c.value for c in at.caption)
    click(at, "train_pause")
    assert not worker.running and worker.trainer.step_count > 0
    assert not any("live-loss" in m.value for m in at.markdown)  # the clickable plotly chart is back
    assert "A window into one step" in [h.value for h in at.subheader]
    steps = worker.trainer.step_count
    time.sleep(0.2)
    assert worker.trainer.step_count == steps
    assert "**paused**" in progress_text(at)


def test_cross_entropy_on_a_price_is_refused_with_the_reason(at):
    click(at, "train_step")
    at.selectbox(key="train_loss").select("cross_entropy").run()
    assert not at.exception
    assert at.error[0].value == CROSS_ENTROPY_ON_REGRESSION
    assert at.button(key="train_reset").disabled
    assert trainer(at).step_count == 1  # the run that was there stays
    at.selectbox(key="train_target").select("next_direction").run()
    at.selectbox(key="train_model").select("linear").run()
    assert not at.error
    click(at, "train_reset")
    assert trainer(at).settings.loss == "cross_entropy" and trainer(at).step_count == 0


@pytest.mark.parametrize("setup, message", [
    (lambda at: at.multiselect(key="train_columns").set_value([]), "at least one feature column"),
    (lambda at: (at.selectbox(key="train_model").select("mlp").run(),
                 at.text_input(key="train_hidden").input("16, x")), "could not read 'x'"),
    (lambda at: at.selectbox(key="train_loss").select("bce_logits"), "BCE-with-logits expects labels 0 or 1"),
])
def test_bad_input_names_the_problem(at, setup, message):
    setup(at)
    at.run()
    assert not at.exception
    assert message in at.error[0].value
    assert len(at.get("plotly_chart")) == 3  # the page keeps working


def test_raw_prices_diverge_with_a_message_not_a_traceback(at):
    at.selectbox(key="train_norm").select("none").run()
    click(at, "train_reset")
    for _ in range(3):
        click(at, "train_step")
    assert trainer(at).step_count == 2
    assert at.error[0].value.startswith("Training stopped at step 2 (epoch 1): the loss exploded")
    assert "Normalise the inputs" in at.error[0].value
    assert "**diverged**" in progress_text(at)


def test_direction_target_reports_accuracy_after_an_epoch(at):
    at.selectbox(key="train_target").select("next_direction").run()
    at.selectbox(key="train_model").select("linear").run()
    at.selectbox(key="train_loss").select("bce_logits").run()
    at.number_input(key="train_batch").set_value(400).run()
    click(at, "train_reset")
    click(at, "train_step")
    click(at, "train_step")  # 798 rows / 400 = 2 steps: one epoch
    row = trainer(at).history.epochs[0]
    accuracy = at.metric[3]  # compared with chance: always guessing the commoner direction on these rows
    up = float((trainer(at).data.y_valid > 0.5).float().mean())
    chance = max(up, 1 - up)
    assert accuracy.label == "Validation accuracy" and accuracy.value == f"{row['valid_accuracy']:.0%}"
    assert accuracy.proto.delta == f"{round((row['valid_accuracy'] - chance) * 100, 1):+.1f} pts vs chance {chance:.0%}"


def test_forgotten_zero_grad_shows_the_code_that_skips_it(at):
    at.selectbox(key="train_optimizer").select("sgd").run()
    at.checkbox(key="train_zero_grad").uncheck().run()
    click(at, "train_reset")
    click(at, "train_step")
    assert trainer(at).settings.zero_grad is False
    code = "\n".join(c.value for c in at.code)
    assert "def train_step_without_zero_grad" in code and "zero_grad()" not in code


def test_new_candles_wait_for_reset_then_train_on_them(at):
    from explorer.data.loader import load_candles
    from explorer.data.sample import generate_candles

    click(at, "train_step")
    at.session_state["candles"] = load_candles(generate_candles(300).to_csv().encode())  # as an upload would
    at.run()
    assert not at.exception
    assert trainer(at).step_count == 1 and len(trainer(at).data.candles) == 1000  # the run keeps its data
    assert any("press Reset" in i.value for i in at.info)
    click(at, "train_reset")
    assert len(trainer(at).data.candles) == 300 and trainer(at).step_count == 0
    assert at.slider(key="train_rows").max == 300


def test_a_run_over_the_step_cap_is_refused_and_the_old_run_stays(at):
    click(at, "train_step")
    at.number_input(key="train_batch").set_value(1).run()
    at.number_input(key="train_epochs").set_value(10_000).run()
    click(at, "train_reset")
    assert "one run may take at most" in at.error[0].value
    assert trainer(at).step_count == 1 and trainer(at).settings.epochs != 10_000
