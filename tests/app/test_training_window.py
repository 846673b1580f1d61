"""AppTest of the Training page's window into a step, the runs compared, the diverged norms and the config defaults.

A click on a plotly point reaches the app as the chart's selection state; AppTest has no API for it, so the test
sends that state itself (the same JSON the browser sends; tests/e2e/test_training_window.py clicks for real)."""
from __future__ import annotations

import base64
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.training.replay import replay_step
from tests.app.apptest import APP, as_shown, click, component_html, light_table, open_app_page


@pytest.fixture
def at() -> AppTest:
    return open_app_page("pages/training.py")


def trainer(at: AppTest):
    return at.session_state["train_worker"].trainer


def chart(at: AppTest, key: str):
    return next(c for c in at.get("plotly_chart") if c.key == key)


def _array(value) -> list:
    """A trace's x or y: plotly sends numpy arrays as {"dtype", "bdata": base64}."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def traces(at: AppTest, key: str) -> list[SimpleNamespace]:
    """The chart's traces: name, mode and decoded x/y."""
    return [SimpleNamespace(name=t.get("name"), mode=t.get("mode"), x=_array(t.get("x", [])), y=_array(t.get("y", [])))
            for t in json.loads(chart(at, key).proto.spec)["data"]]


def click_point(at: AppTest, key: str, x: float | None) -> AppTest:
    """What the browser sends when a point at step x is clicked (None: the selection is cleared)."""
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = chart(at, key).proto.id
    points = [] if x is None else [{"curve_number": 0, "point_number": 0, "point_index": 0, "x": x, "y": 1.0}]
    state.string_value = json.dumps({"selection": {"points": points, "point_indices": [0] * len(points), "box": [],
                                                   "lasso": []}})
    at._run(states)
    assert not at.exception
    return at


def window_text(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Step "))


def test_clicking_a_point_of_the_loss_curve_shows_that_step(at):
    for _ in range(4):
        click(at, "train_step")
    assert window_text(at).startswith("**Step 4** (epoch 1)")  # the last step until one is picked
    click_point(at, "train_loss_chart", 2)
    t = trainer(at)
    assert at.number_input(key="train_window_step").value == 2
    view = replay_step(t.data, t.settings, 2)
    assert window_text(at).startswith(f"**Step 2** (epoch 1) · 64 rows · loss = `{view.loss_value:.6g}`")
    assert "the same number the run recorded" in window_text(at)
    assert view.loss_value == t.history.step_losses[1]
    batch = light_table(at, "train-batch")
    assert list(batch["row"]) == view.rows
    assert batch["target as trained"].tolist() == [as_shown(y) for y in view.yb.tolist()]
    assert batch["prediction"].tolist() == [as_shown(p) for p in view.preds.tolist()]
    assert batch["timestamp"].tolist() == [str(ts) for ts in t.data.table.index[view.rows]]
    summary = light_table(at, "train-summary")
    assert summary["parameter"].tolist() == [p.name for p in view.params]
    assert summary["‖grad‖"].tolist() == [as_shown(p.grad.norm().item(), 6) for p in view.params]
    assert "p ← p − lr·g  (lr = 0.01)" in next(m.value for m in at.markdown if "Update rule" in m.value)
    svg = component_html(at, "MseLossBackward0")  # the Graph page's drawing
    assert "MulBackward0" in svg and "loss" in svg


def test_a_typed_step_then_the_same_point_clicked_again(at):
    for _ in range(4):
        click(at, "train_step")
    click_point(at, "train_loss_chart", 2)
    at.number_input(key="train_window_step").set_value(4).run()
    assert window_text(at).startswith("**Step 4**")  # the chart's old selection does not override a typed step
    click_point(at, "train_loss_chart", None)  # plotly clears a selection clicked again
    click_point(at, "train_loss_chart", 2)
    assert window_text(at).startswith("**Step 2**")


def test_picking_a_step_number_of_an_mlp_with_adam(at):
    at.selectbox(key="train_model").select("mlp").run()
    at.selectbox(key="train_optimizer").select("adam").run()
    click(at, "train_reset")
    for _ in range(3):
        click(at, "train_step")
    at.number_input(key="train_window_step").set_value(3).run()
    t = trainer(at)
    view = replay_step(t.data, t.settings, 3)
    params = light_table(at, "train-params").set_index("element")
    assert {"m (exp_avg)", "v (exp_avg_sq)", "update (after − before)"} <= set(params.columns)
    first = view.params[0]
    parts = [(k, v) for k, v in first.parts.items() if v.numel() > 1]  # per element (a scalar step size is not)
    for column, value in (*parts, ("update (after − before)", first.update), ("grad", first.grad)):
        assert params.loc["0.weight[0, 0]", column] == as_shown(value[0, 0].item(), 6)
    svg = component_html(at, "MseLossBackward0")
    assert "0: Linear" in svg and "1: ReLU" in svg  # collapsed by module


def test_two_runs_are_overlaid_with_the_settings_that_differ(at):
    click(at, "train_step")
    click(at, "train_step")
    at.selectbox(key="train_norm").select("none").run()
    click(at, "train_reset")
    click(at, "train_step")
    lines = traces(at, "train_compare_chart")
    assert [t.name for t in lines] == ["#1 norm zscore", "#2 norm none"]
    assert list(lines[0].y) == trainer_losses_of_run_1(at) and len(lines[0].y) == 2 and len(lines[1].y) == 1
    at.selectbox(key="train_optimizer").select("adam").run()
    at.checkbox(key="train_zero_grad").uncheck().run()
    click(at, "train_reset")
    click(at, "train_step")
    names = [t.name for t in traces(at, "train_compare_chart")]
    assert names == ["#1 norm zscore · manual_sgd · zero_grad on", "#2 norm none · manual_sgd · zero_grad on",
                     "#3 norm none · adam · zero_grad off"]
    at.multiselect(key="train_compare_pick").set_value([1, 3]).run()
    names = [t.name for t in traces(at, "train_compare_chart")]
    assert names == ["#1 norm zscore · manual_sgd · zero_grad on", "#3 norm none · adam · zero_grad off"]


def trainer_losses_of_run_1(at: AppTest) -> list[float]:
    return [r for r in at.session_state["train_runs"] if r.number == 1][0].losses.tolist()


def test_a_diverged_runs_norms_chart_shows_the_blow_up(at):
    at.selectbox(key="train_norm").select("none").run()
    click(at, "train_reset")
    click(at, "train_step")
    click(at, "train_step")  # raw prices: the loss explodes at step 2
    assert trainer(at).divergence
    lines = traces(at, "train_norm_chart")
    weights, grads = lines[0], lines[1]
    assert list(weights.x) == [1, 2] and list(grads.x) == [1, 2]  # every step up to the blow-up, and the blow-up
    assert all(math.isfinite(v) for v in [*weights.y, *grads.y])
    assert grads.y[1] > 100 * grads.y[0]
    assert grads.mode == "lines+markers"  # a lone point drawn as a line would be invisible
    recorded = trainer(at).history.norms[0]  # the run's own norms at step 1
    assert (weights.y[0], grads.y[0]) == pytest.approx(recorded[2:], rel=1e-6)
    layout = json.loads(chart(at, "train_norm_chart").proto.spec)["layout"]
    assert layout["yaxis"]["type"] == "log" and layout["yaxis"]["dtick"] == 1
    assert layout["yaxis"]["exponentformat"] == "e"


def test_metrics_name_their_unit(at):
    click(at, "train_step")
    assert any(c.value == "Losses are the MSE of z-scored next_high." for c in at.caption)
    title = json.loads(chart(at, "train_loss_chart").proto.spec)["layout"]["yaxis"]["title"]["text"]
    assert title == "loss (MSE of z-scored next_high)"


def config_text(**training) -> str:
    from explorer.data.config import DEFAULT_CONFIG
    text = DEFAULT_CONFIG.read_text()
    for key, value in training.items():
        start = text.index(f"  {key}:")
        end = text.index("\n", start)
        text = text[:start] + f"  {key}: {value}" + text[end:]
    return text


def test_config_training_section_sets_the_training_defaults(at):
    assert at.slider(key="train_lags").value == 3
    at.switch_page("pages/config.py").run()
    at.text_area(key="config_yaml").set_value(config_text(lags=7, epochs=5, optimizer="adam",
                                                          learning_rate=0.003)).run()
    click(at, "config_apply")
    at.switch_page("pages/training.py").run()
    assert not at.exception
    assert at.slider(key="train_lags").value == 7
    assert at.number_input(key="train_epochs").value == 5
    assert at.selectbox(key="train_optimizer").value == "adam"
    assert at.select_slider(key="train_lr").value == 0.003
    click(at, "train_reset")
    s = trainer(at).settings
    assert (trainer(at).data.spec.lags, s.epochs, s.optimizer, s.learning_rate) == (7, 5, "adam", 0.003)


def test_a_links_value_wins_over_the_config():
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["train_lags"] = "4"
    at.run()
    at.switch_page("pages/config.py").run()
    at.text_area(key="config_yaml").set_value(config_text(lags=7, epochs=5)).run()
    click(at, "config_apply")
    at.switch_page("pages/training.py").run()
    assert not at.exception
    assert at.slider(key="train_lags").value == 4  # from the link
    assert at.number_input(key="train_epochs").value == 5  # from the config
