"""Replaying a training step against a plain PyTorch loop: the same batch, loss, gradients and update, bit for bit."""
from __future__ import annotations

import math

import pytest
import torch

from explorer.data.sample import generate_candles
from explorer.training.features import FeatureSpec, make_features
from explorer.training.models import LEARNING_RATES, OPTIMIZERS, build_model, lower_rate, make_loss, n_outputs_for
from explorer.autograd.journal import preview
from explorer.training.replay import (batch_frame, check_step, param_frame, param_summary, replay_norms,
                                      replay_step, step_graph, update_rule, window_tables)
from explorer.training.callbacks import CHECKPOINTS
from explorer.training.trainer import Trainer, TrainSettings, batch_order

K = 7  # a step inside the second epoch (300 candles → 237 training rows → 4 batches of 64 per epoch)


@pytest.fixture(scope="module")
def data():
    return make_features(generate_candles(300), FeatureSpec(rows=300))


def torch_optimizer(s: TrainSettings, params):
    """The optimiser straight from torch (manual_sgd: None, the update is written out in the loop)."""
    if s.optimizer == "sgd":
        return torch.optim.SGD(params, lr=s.learning_rate, momentum=s.momentum)
    if s.optimizer == "adam":
        return torch.optim.Adam(params, lr=s.learning_rate)
    return None


def bare_step(data, s: TrainSettings, k: int) -> dict:
    """Reference: a plain loop, seeded as the trainer is; what step k saw and did."""
    torch.manual_seed(s.seed)
    model = build_model(s.model, data.x_train.shape[1], n_outputs_for(s.loss), list(s.hidden_sizes), s.activation,
                        s.init)
    loss_fn, gen = make_loss(s.loss), torch.Generator().manual_seed(s.seed)
    opt = torch_optimizer(s, model.parameters())
    step = 0
    while True:
        for idx in batch_order(len(data.x_train), s.batch_size, gen):
            step += 1
            if s.zero_grad and opt is not None:
                opt.zero_grad()
            loss = loss_fn(model(data.x_train[idx]), data.y_train[idx])
            loss.backward()
            before = {n: p.detach().clone() for n, p in model.named_parameters()}
            grads = {n: p.grad.clone() for n, p in model.named_parameters()}
            if opt is not None:
                opt.step()
            else:
                with torch.no_grad():
                    for p in model.parameters():
                        p -= p.grad * s.learning_rate
                        if s.zero_grad:
                            p.grad.zero_()
            if step == k:
                change = {n: p.detach() - before[n] for n, p in model.named_parameters()}
                state = {n: opt.state[p] for n, p in model.named_parameters()} if opt is not None else {}
                return dict(rows=idx.tolist(), loss=loss.item(), grads=grads, before=before, change=change,
                            state=state)


SETTINGS = [
    TrainSettings(optimizer="manual_sgd", epochs=3),
    TrainSettings(optimizer="manual_sgd", zero_grad=False, learning_rate=1e-3, epochs=3),
    TrainSettings(model="linear", optimizer="sgd", epochs=3, seed=3),
    TrainSettings(model="linear", optimizer="sgd", momentum=0.9, loss="huber", epochs=3, seed=2),
    TrainSettings(model="mlp", hidden_sizes=(8, 4), optimizer="adam", learning_rate=3e-3, epochs=3, seed=5),
    TrainSettings(model="mlp", hidden_sizes=(6,), activation="tanh", optimizer="adam", zero_grad=False,
                  learning_rate=1e-3, batch_size=32, epochs=3, seed=1),
]


def test_every_optimiser_is_covered():
    assert {s.optimizer for s in SETTINGS} == set(OPTIMIZERS)


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: f"{s.model}-{s.optimizer}-zg{int(s.zero_grad)}")
def test_replayed_step_equals_a_plain_torch_loop(data, settings):
    ref = bare_step(data, settings, K)
    view = replay_step(data, settings, K)
    assert view.step == K and view.epoch == (K - 1) // math.ceil(len(data.x_train) / settings.batch_size) + 1
    assert view.rows == ref["rows"]
    assert torch.equal(view.xb, data.x_train[ref["rows"]]) and torch.equal(view.yb, data.y_train[ref["rows"]])
    assert view.loss_value == ref["loss"]  # bit for bit
    for p in view.params:
        assert torch.equal(p.before, ref["before"][p.name])
        assert torch.equal(p.grad, ref["grads"][p.name])
        assert torch.equal(p.update, ref["change"][p.name])  # the update shown is the change step() made
        assert torch.allclose(p.predicted, p.update, rtol=1e-5, atol=1e-7)  # the rule shown explains it
        if settings.optimizer == "adam":
            state = ref["state"][p.name]
            assert torch.equal(p.parts["m (exp_avg)"], state["exp_avg"])
            assert torch.equal(p.parts["v (exp_avg_sq)"], state["exp_avg_sq"])
            assert p.parts["step size"].item() == pytest.approx(settings.learning_rate / (1 - 0.9 ** K))
        if settings.momentum:
            assert torch.equal(p.parts["momentum buffer b"], ref["state"][p.name]["momentum_buffer"])


@pytest.mark.parametrize("settings", SETTINGS[::2], ids=lambda s: s.optimizer)
def test_replay_gives_the_loss_the_run_recorded(data, settings):
    run = Trainer(data, settings)
    run.step(2 * run.steps_per_epoch + 1)
    for k in (1, run.steps_per_epoch, run.step_count):  # first step, an epoch's last step, the last step run
        assert replay_step(data, settings, k).loss_value == run.history.step_losses[k - 1]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: f"{s.optimizer}-zero_grad={s.zero_grad}")
def test_a_replay_from_a_checkpoint_is_the_replay_from_step_0(data, settings):
    run = Trainer(data, settings)
    run.checkpoints.every = 5  # several checkpoints inside an epoch and one on an epoch's last step
    run.step(run.total_steps)
    assert sorted(run.checkpoints.kept) == list(range(5, run.total_steps, 5))
    for k in (6, run.steps_per_epoch * 2, run.steps_per_epoch * 2 + 1, run.total_steps):
        start = run.checkpoint_before(k)
        assert start.step == (k - 1) // 5 * 5
        fast, slow = replay_step(data, settings, k, start=start), replay_step(data, settings, k)
        assert fast.loss_value == slow.loss_value == run.history.step_losses[k - 1]
        assert fast.rows == slow.rows and fast.epoch == slow.epoch
        for a, b in zip(fast.params, slow.params):
            assert torch.equal(a.before, b.before) and torch.equal(a.grad, b.grad) and torch.equal(a.after, b.after)
            assert a.parts.keys() == b.parts.keys() and all(torch.equal(a.parts[n], b.parts[n]) for n in a.parts)


def test_checkpoints_stay_few_as_a_run_grows(data):
    settings = TrainSettings(model="linear", optimizer="sgd", epochs=200, batch_size=16)
    run = Trainer(data, settings)
    run.checkpoints.every = 2
    run.step(run.total_steps)  # 3,000 steps
    assert len(run.checkpoints.kept) <= CHECKPOINTS and run.checkpoints.every == 32
    assert sorted(run.checkpoints.kept) == list(range(32, run.total_steps, 32))
    assert run.checkpoint_before(1) is None and run.checkpoint_before(32) is None
    assert run.checkpoint_before(33).step == 32 and run.checkpoint_before(run.total_steps).step == 2976


def test_a_step_after_the_planned_epochs_replays(data):
    """Play after done trains on: those steps lie beyond a fresh Trainer's planned total."""
    settings = TrainSettings(model="linear", optimizer="adam", epochs=1)
    run = Trainer(data, settings)
    run.step(run.total_steps)
    run.extend(2)
    run.step(run.total_steps)
    k = run.total_steps
    assert replay_step(data, settings, k).loss_value == run.history.step_losses[k - 1]
    assert replay_step(data, settings, k, start=run.checkpoint_before(k)).loss_value == run.history.step_losses[-1]


def test_sgd_update_is_minus_lr_times_grad(data):
    view = replay_step(data, TrainSettings(model="linear", optimizer="sgd", learning_rate=0.03, epochs=2), 3)
    for p in view.params:
        assert torch.equal(p.predicted, -0.03 * p.grad)
        assert torch.allclose(p.update, -0.03 * p.grad, atol=1e-7)


def test_the_steps_graph_is_the_real_loss_graph_collapsed_by_module(data):
    settings = TrainSettings(model="mlp", hidden_sizes=(8, 8), optimizer="adam", epochs=2)
    view = replay_step(data, settings, 3)
    graph = step_graph(view, collapse=True)
    modules = {n.name for n in graph.nodes.values() if n.kind == "module"}
    assert modules == {"0: Linear", "1: ReLU", "2: Linear", "3: ReLU", "4: Linear", "5: Flatten"}
    assert any(n.name == "MseLossBackward0" for n in graph.nodes.values())
    assert view.loss.grad_fn is not None


def test_the_graph_shows_the_values_the_forward_used_and_their_grads(data):
    view = replay_step(data, TrainSettings(optimizer="manual_sgd", epochs=2), 3)
    coeffs = view.params[0]
    after, grad_after = view.model.coeffs.detach().clone(), view.model.coeffs.grad.clone()
    graph = step_graph(view)
    node = next(n for n in graph.nodes.values() if n.kind == "parameter")
    assert node.value == preview(coeffs.before) != preview(after)
    assert node.grad == preview(coeffs.grad) and coeffs.grad.abs().sum() > 0
    assert torch.equal(view.model.coeffs.detach(), after) and torch.equal(view.model.coeffs.grad, grad_after)  # put back


def test_tables_show_the_batch_and_every_parameter(data):
    view = replay_step(data, TrainSettings(optimizer="adam", model="linear", epochs=2), 2)
    batch = batch_frame(view, data)
    assert len(batch) == 64 and list(batch["row"]) == view.rows
    assert batch["target as trained"].tolist() == view.yb.tolist()
    assert batch.index.equals(data.table.index[view.rows])
    params = param_frame(view)
    assert list(params.columns) == ["value before", "grad", "update (after − before)", "m (exp_avg)",
                                    "v (exp_avg_sq)"]
    assert params.loc["0.weight[0, 3]", "grad"] == view.params[0].grad[0, 3].item()
    summary = param_summary(view)
    assert summary["parameter"].tolist() == ["0.weight", "0.bias"]
    assert (summary["max |rule − change|"] < 1e-6).all()
    assert update_rule(view) == f"**Update rule:** {summary['rule'].iloc[0]}" and "β1·m" in update_rule(view)
    batch_html, summary_html, params_html = window_tables(view, data)  # the rule is said once, above the tables
    assert 'train-batch' in batch_html and "train-summary" in summary_html and "train-params" in params_html
    assert "β1·m" not in summary_html and "0.weight[0, 3]" in params_html


def test_steps_outside_the_run_are_refused():
    with pytest.raises(ValueError, match="pick a step from 1 to 5"):
        check_step(6, 5)
    with pytest.raises(ValueError, match="pick a step from 1 to 5"):
        check_step(0, 5)


def test_replayed_norms_show_the_blow_up(data):
    raw = make_features(generate_candles(300), FeatureSpec(rows=300, normalisation="none"))
    settings = TrainSettings(epochs=2)
    run = Trainer(raw, settings)
    run.step(100)
    assert run.divergence is not None
    rows = replay_norms(raw, settings, run.step_count)
    assert [r[0] for r in rows] == list(range(1, run.step_count + 1))  # every step, the diverging one included
    assert rows[0][2:] == pytest.approx(next(r[2:] for r in run.history.norms if r[0] == 1), rel=1e-6)
    assert all(math.isfinite(r[2]) for r in rows) and rows[-1][3] > 100 * rows[0][3]
    last = replay_norms(raw, settings, run.step_count, last=10, start=run.checkpoint_before(run.step_count - 9))
    assert last == [r for r in rows if r[0] > run.step_count - 10]


def test_lower_rate_names_only_rates_the_slider_offers():
    assert lower_rate(0.01, 10) == 1e-3
    assert lower_rate(0.01, 100) == 1e-4
    assert lower_rate(1e-4, 100) == 1e-6  # the lowest offered
    assert lower_rate(3e-6, 100) == 1e-6  # lr / 100 is below the slider: its lowest rate instead
    assert lower_rate(1e-6, 10) is None
    assert all(lower_rate(r, f) in (None, *LEARNING_RATES) for r in LEARNING_RATES for f in (10, 100))


def test_divergence_advice_stays_on_the_slider():
    raw = make_features(generate_candles(300), FeatureSpec(rows=300, normalisation="none"))
    run = Trainer(raw, TrainSettings(learning_rate=1e-5, epochs=2))
    run.step(100)
    assert "(try 1e-06)" in run.divergence  # 1e-5 / 100 = 1e-7 is not on the slider
    low = Trainer(raw, TrainSettings(learning_rate=1e-6, epochs=2))
    low.step(100)
    assert low.divergence.endswith("The learning rate 1e-06 is already the lowest the slider offers.")
