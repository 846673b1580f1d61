"""The Trainer against a bare PyTorch loop: same losses, determinism, divergence at the right step."""
from __future__ import annotations

import copy

import math
import warnings

import pytest
import torch

from explorer.data.config import load_config
from explorer.training.features import FeatureSpec, make_features
from explorer.training.models import SettingsError, build_model, make_loss, make_optimizer, n_outputs_for
from explorer.data.sample import generate_candles
from explorer.training.callbacks import EXPLODE_FACTOR
from explorer.training.trainer import MAX_STEPS, Trainer, TrainSettings, batch_order, specs_from_config


@pytest.fixture(scope="module")
def candles():
    return generate_candles(300)


def bare_losses(data, s: TrainSettings, steps: int) -> list[float]:
    """Reference: a plain PyTorch loop over the same seeded model and batches."""
    torch.manual_seed(s.seed)
    model = build_model(s.model, data.x_train.shape[1], n_outputs_for(s.loss), list(s.hidden_sizes), s.activation,
                        s.init)
    loss_fn, gen = make_loss(s.loss), torch.Generator().manual_seed(s.seed)
    opt = make_optimizer(s.optimizer, model.parameters(), s.learning_rate, s.momentum)
    losses = []
    while len(losses) < steps:
        for idx in batch_order(len(data.x_train), s.batch_size, gen):
            opt.zero_grad()
            loss = loss_fn(model(data.x_train[idx]), data.y_train[idx])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses[:steps]


@pytest.mark.parametrize("settings", [
    TrainSettings(epochs=3),
    TrainSettings(model="mlp", hidden_sizes=(8, 8), activation="tanh", optimizer="adam", learning_rate=3e-3,
                  batch_size=32, epochs=3, seed=5, init="seed_sqrt_n"),
    TrainSettings(model="linear", optimizer="sgd", momentum=0.9, loss="huber", epochs=3, seed=2),
    # 10 rows of 15 features: batches gathered per epoch end on unaligned addresses unless padded (Trainer._gather)
    TrainSettings(model="linear", optimizer="sgd", batch_size=10, epochs=3, seed=4),
])
def test_trainer_matches_a_bare_loop(candles, settings):
    data = make_features(candles, FeatureSpec(rows=300))
    trainer = Trainer(data, settings)
    metrics = trainer.step(10_000)
    assert trainer.done and len(metrics) == trainer.total_steps == trainer.steps_per_epoch * 3
    assert trainer.history.step_losses == bare_losses(data, settings, trainer.total_steps)  # bit for bit
    first = trainer.history.epochs[0]
    per_epoch = trainer.history.step_losses[: trainer.steps_per_epoch]
    assert first["train_loss"] == pytest.approx(sum(per_epoch) / len(per_epoch), rel=1e-12)
    with torch.no_grad():
        valid = trainer.loss_fn(trainer.model(data.x_valid), data.y_valid).item()
    assert trainer.history.epochs[-1]["valid_loss"] == valid


def test_same_seed_same_curve_other_seed_other_curve(candles):
    data = make_features(candles, FeatureSpec(rows=300, target="next_direction"))
    s = TrainSettings(model="mlp", loss="cross_entropy", optimizer="adam", learning_rate=1e-2, epochs=2, seed=7)
    a, b, c = Trainer(data, s), Trainer(data, s), Trainer(data, TrainSettings(**{**s.__dict__, "seed": 8}))
    for t in (a, b, c):
        while not t.done:
            t.step(3)  # step sizes do not matter either
    assert a.history.step_losses == b.history.step_losses
    assert a.history.epochs == b.history.epochs
    assert a.history.step_losses != c.history.step_losses
    assert 0.0 <= a.history.epochs[-1]["valid_accuracy"] <= 1.0


def test_divergence_on_raw_prices_with_a_large_learning_rate(candles):
    data = make_features(candles, FeatureSpec(rows=300, normalisation="none"))
    s = TrainSettings(model="linear", optimizer="sgd", learning_rate=1e-4, epochs=5)
    ref = bare_losses(data, s, 20)
    expected = next(i + 1 for i, loss in enumerate(ref)
                    if not math.isfinite(loss) or loss > EXPLODE_FACTOR * ref[0])
    trainer = Trainer(data, s)
    trainer.step(1000)
    assert trainer.done and trainer.step_count == expected > 1
    assert trainer.divergence.startswith(f"Training stopped at step {expected} (epoch 1)")
    assert "Normalise the inputs" in trainer.divergence and "lower the learning rate" in trainer.divergence
    # the exploded (finite) loss is drawn so the learner sees the jump; nothing non-finite reaches the chart
    assert trainer.history.step_losses == [x for x in ref[:expected] if math.isfinite(x)]
    assert trainer.step(5) == []  # it stays stopped


def test_divergence_with_normalised_inputs_suggests_a_lower_rate(candles):
    data = make_features(candles, FeatureSpec(rows=300))
    trainer = Trainer(data, TrainSettings(model="linear", optimizer="sgd", learning_rate=1.0, epochs=50))
    trainer.step(10_000)
    assert trainer.divergence and "Lower the learning rate (try 0.1)" in trainer.divergence


def test_norms_are_recorded_before_the_update(candles):
    data = make_features(candles, FeatureSpec(rows=300))
    s = TrainSettings(model="mlp", hidden_sizes=(4,), epochs=1)
    trainer = Trainer(data, s, norm_every=2)
    torch.manual_seed(0)
    weights = {n: p.detach().norm().item() for n, p in trainer.model.named_parameters()}
    trainer.step(4)
    first = {name: (w, g) for step, name, w, g in trainer.history.norms if step == 1}
    assert set(first) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert all(first[n][0] == pytest.approx(weights[n]) for n in weights)
    assert all(g > 0 for _, g in first.values())
    assert sorted({row[0] for row in trainer.history.norms}) == [1, 2, 4]


@pytest.mark.parametrize("optimizer", ["manual_sgd", "sgd", "adam"])
def test_grad_norms_are_the_gradients_backward_computed(candles, optimizer):
    """The norms noted before the update equal a plain forward/backward on the same batch, parameter by parameter
    (ManualSGD zeroes the gradient inside step(): they must be read before it)."""
    data = make_features(candles, FeatureSpec(rows=300))
    s = TrainSettings(model="mlp", hidden_sizes=(4,), optimizer=optimizer, epochs=1)
    trainer = Trainer(data, s, norm_every=3)
    reference = copy.deepcopy(trainer.model)
    trainer.step(1)
    idx = trainer.batch_indices(1)
    make_loss(s.loss)(reference(data.x_train[idx]), data.y_train[idx]).backward()
    noted = {name: (w, g) for step, name, w, g in trainer.history.norms if step == 1}
    for name, p in reference.named_parameters():
        assert noted[name] == pytest.approx((p.norm().item(), p.grad.norm().item()), rel=1e-6)


def test_refused_settings_never_build_a_trainer(candles):
    data = make_features(candles, FeatureSpec(rows=300))
    with pytest.raises(ValueError, match="Cross-entropy is for classes"):
        Trainer(data, TrainSettings(model="linear", loss="cross_entropy"))


def test_config_section_drives_the_defaults():
    features, settings = specs_from_config(load_config().training, 1000)
    section = load_config().training
    assert features.lags == section.lags and features.target == section.target and features.rows == 1000
    assert settings.learning_rate == section.learning_rate and settings.hidden_sizes == tuple(section.hidden_sizes)


def test_state_dict_round_trips(candles):
    import io
    trainer = Trainer(make_features(candles, FeatureSpec(rows=300)), TrainSettings(epochs=1))
    trainer.step(2)
    state = torch.load(io.BytesIO(trainer.state_dict_bytes()))
    torch.testing.assert_close(state["coeffs"], trainer.model.coeffs.detach())


@pytest.mark.parametrize("optimizer", ["manual_sgd", "sgd"])
def test_forgetting_zero_grad_accumulates_gradients(candles, optimizer):
    # the seed's trap: without zeroing, step k applies the SUM of all k gradients so far
    data = make_features(candles, FeatureSpec(rows=300))
    s = TrainSettings(model="linear", optimizer=optimizer, zero_grad=False, learning_rate=0.01, epochs=1)
    trainer = Trainer(data, s)
    torch.manual_seed(0)
    ref = build_model("linear", data.x_train.shape[1], 1, [], "relu", "pytorch_default")
    ref.load_state_dict(trainer.model.state_dict())
    gen = torch.Generator().manual_seed(0)
    total = [torch.zeros_like(p) for p in ref.parameters()]
    for idx in batch_order(len(data.x_train), s.batch_size, gen)[:3]:
        grads = torch.autograd.grad(make_loss("mse")(ref(data.x_train[idx]), data.y_train[idx]),
                                    list(ref.parameters()))
        with torch.no_grad():
            for p, g, t in zip(ref.parameters(), grads, total):
                t += g
                p -= 0.01 * t
    trainer.step(3)
    for p, q in zip(trainer.model.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q)


def test_forgetting_zero_grad_is_named_in_the_divergence_fix(candles):
    data = make_features(candles, FeatureSpec(rows=300))
    trainer = Trainer(data, TrainSettings(model="linear", optimizer="sgd", zero_grad=False, learning_rate=0.3,
                                          epochs=50))
    trainer.step(10_000)
    assert trainer.divergence and "never zeroed" in trainer.divergence


def test_a_run_longer_than_the_step_cap_is_refused(candles):
    data = make_features(candles, FeatureSpec(rows=300))  # 238 training rows
    Trainer(data, TrainSettings(batch_size=1, epochs=MAX_STEPS // 238))  # just under the cap: fine
    with pytest.raises(SettingsError, match=f"one run may take at most {MAX_STEPS:,}"):
        Trainer(data, TrainSettings(batch_size=1, epochs=MAX_STEPS // 238 + 1))


def test_batch_indices_are_the_seeded_order_the_run_used(candles):
    data = make_features(candles, FeatureSpec(rows=300))
    s = TrainSettings(batch_size=50, epochs=3, seed=4)
    trainer = Trainer(data, s)
    gen = torch.Generator().manual_seed(s.seed)
    used = [idx for _ in range(3) for idx in batch_order(len(data.x_train), s.batch_size, gen)]
    assert len(used) == trainer.total_steps
    for k in (1, trainer.steps_per_epoch, trainer.steps_per_epoch + 1, trainer.total_steps):
        assert torch.equal(trainer.batch_indices(k), used[k - 1])
    # the run fed exactly those rows: replayed up to step k, the model's loss on them is the loss step k recorded
    trainer.step(trainer.total_steps)
    k = trainer.steps_per_epoch + 1
    replay = Trainer(data, s)
    replay.step(k - 1)
    with torch.no_grad():
        loss = replay.loss_fn(replay.model(data.x_train[replay.batch_indices(k)]), data.y_train[used[k - 1]])
    assert loss.item() == trainer.history.step_losses[k - 1]


def test_callbacks_get_every_steps_metrics(candles):
    trainer = Trainer(make_features(candles, FeatureSpec(rows=300)), TrainSettings(epochs=2))
    seen = []
    trainer.add_callback(lambda t, m: seen.append((t.step_count, m)))
    returned = trainer.step(trainer.steps_per_epoch + 2)
    assert [m for _, m in seen] == returned and [k for k, _ in seen] == [m.step for m in returned]
    assert returned[trainer.steps_per_epoch - 1].epoch_end and returned[trainer.steps_per_epoch - 1].valid_loss


def test_extend_trains_on_exactly_as_a_longer_run(candles):
    data = make_features(candles, FeatureSpec(rows=300))
    s = TrainSettings(model="mlp", hidden_sizes=(8,), optimizer="adam", learning_rate=1e-3, epochs=1)
    short = Trainer(data, s)
    short.step(10_000)
    assert short.done
    short.extend(2)
    assert not short.done and short.planned_epochs == 3
    short.step(10_000)
    longer = Trainer(data, TrainSettings(**{**s.__dict__, "epochs": 3}))
    longer.step(10_000)
    assert short.history.step_losses == longer.history.step_losses
    with pytest.raises(SettingsError, match="Press Reset"):
        short.extend(MAX_STEPS)


def test_the_loop_a_learner_reads_is_the_five_lines():
    import inspect

    from explorer.training.trainer import train_step
    body = [line.strip() for line in inspect.getsource(train_step).splitlines()[2:]]
    assert body == ["optimizer.zero_grad()", "loss = loss_fn(model(xb), yb)", "loss.backward()", "optimizer.step()",
                    "return loss.item()"]


@pytest.mark.parametrize("optimizer", ["manual_sgd", "sgd", "adam"])
def test_without_zero_grad_the_losses_are_a_plain_loop_without_zero_grad(candles, optimizer):
    """zero_grad off runs train_step_without_zero_grad with the plain optimizer: every loss equals (==) that of a
    plain torch loop that never zeroes the gradients (same seed, same batches)."""
    data = make_features(candles, FeatureSpec(rows=300))
    s = TrainSettings(model="mlp", hidden_sizes=(8,), optimizer=optimizer, zero_grad=False, learning_rate=1e-3,
                      epochs=3, seed=6)
    trainer = Trainer(data, s)
    trainer.step(10_000)
    torch.manual_seed(s.seed)
    model = torch.nn.Sequential(torch.nn.Linear(data.x_train.shape[1], 8), torch.nn.ReLU(), torch.nn.Linear(8, 1),
                                torch.nn.Flatten(0))
    params = list(model.parameters())
    plain = {"sgd": lambda: torch.optim.SGD(params, lr=1e-3), "adam": lambda: torch.optim.Adam(params, lr=1e-3)}
    opt = plain[optimizer]() if optimizer in plain else None
    generator, losses = torch.Generator().manual_seed(s.seed), []
    for _ in range(s.epochs):
        for idx in torch.randperm(len(data.x_train), generator=generator).split(s.batch_size):
            loss = torch.nn.functional.mse_loss(model(data.x_train[idx]), data.y_train[idx])
            loss.backward()  # no zero_grad anywhere: the gradients pile up
            if opt is None:
                with torch.no_grad():
                    for p in params:
                        p -= 1e-3 * p.grad
            else:
                opt.step()
            losses.append(loss.item())
    assert trainer.divergence is None and len(losses) == trainer.total_steps
    assert trainer.history.step_losses == losses  # bit for bit
    assert trainer.lesson.__name__ == "train_step_without_zero_grad"
    assert all(torch.equal(p, q) for p, q in zip(trainer.model.parameters(), params))


def test_the_loop_without_zero_grad_is_the_same_lines_less_that_one():
    import inspect

    from explorer.training.trainer import train_step_without_zero_grad
    body = [line.strip() for line in inspect.getsource(train_step_without_zero_grad).splitlines()
            if not line.startswith(("def ", '    """', "    gradients")) and line.strip()]
    assert body == ["loss = loss_fn(model(xb), yb)", "loss.backward()", "optimizer.step()", "return loss.item()"]


def test_a_restore_mid_epoch_trains_on_exactly_and_never_resizes_the_epoch_buffers(candles):
    """Restored mid-epoch, the Trainer gathers only the epoch's remaining rows (into the first rows of its epoch
    buffers: resizing an out= tensor is deprecated and warns) and goes on bit for bit, through the next epoch."""
    data = make_features(candles, FeatureSpec(rows=300))
    s = TrainSettings(model="mlp", hidden_sizes=(8,), optimizer="adam", epochs=3)
    trainer = Trainer(data, s)
    trainer.step(trainer.steps_per_epoch + 1)
    cp = trainer.checkpoint()
    trainer.step(10_000)
    again = Trainer(data, s)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again.restore(cp)
        again.step(10_000)
    assert again._x_epoch.shape == data.x_train.shape and again._y_epoch.shape == data.y_train.shape
    assert again.history.step_losses == trainer.history.step_losses[cp.step:] == bare_losses(
        data, s, trainer.total_steps)[cp.step:]
