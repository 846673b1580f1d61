"""The seed's from-scratch model against nn.Linear, the manual update against torch.optim.SGD, refusals."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explorer.training.features import FeatureSpec, make_features
from explorer.training.models import (CROSS_ENTROPY_ON_REGRESSION, ManualSGD, ScratchLinear, SettingsError, build_model,
                             calc_loss, calc_preds, check_settings, make_loss, parse_hidden_sizes)
from explorer.data.sample import generate_candles


@pytest.fixture(scope="module")
def data():
    return make_features(generate_candles(200), FeatureSpec(rows=200, normalisation="zscore"))


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_scratch_model_and_nn_linear_agree_on_loss_and_gradients(data, loss):
    torch.manual_seed(3)
    scratch = ScratchLinear(data.x_train.shape[1])
    linear = nn.Linear(data.x_train.shape[1], 1, bias=False)
    with torch.no_grad():
        linear.weight.copy_(scratch.coeffs.detach().unsqueeze(0))  # nn.Linear stores [out_features, in_features]
    loss_fn = make_loss(loss)
    ours = loss_fn(scratch(data.x_train), data.y_train)
    ref = loss_fn(linear(data.x_train).squeeze(1), data.y_train)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(scratch.coeffs.grad, linear.weight.grad.squeeze(0))


def test_calc_loss_is_the_seeds_mean_absolute_error(data):
    coeffs = (torch.rand(data.x_train.shape[1]) - 0.5).requires_grad_()
    preds = calc_preds(coeffs, data.x_train)
    torch.testing.assert_close(preds, data.x_train @ coeffs)
    loss = calc_loss(coeffs, data.x_train, data.y_train)
    torch.testing.assert_close(loss, F.l1_loss(data.x_train @ coeffs, data.y_train))


def test_manual_update_equals_torch_sgd_and_zero_grad_zeroes_the_gradient(data):
    torch.manual_seed(0)
    a = ScratchLinear(data.x_train.shape[1])
    b = ScratchLinear(data.x_train.shape[1])
    b.load_state_dict(a.state_dict())
    manual, sgd = ManualSGD(a.parameters(), 0.1), torch.optim.SGD(b.parameters(), lr=0.1)
    for _ in range(3):
        for model, opt in ((a, manual), (b, sgd)):
            opt.zero_grad()
            F.mse_loss(model(data.x_train), data.y_train).backward()
            before = model.coeffs.detach().clone() - 0.1 * model.coeffs.grad
            opt.step()
            torch.testing.assert_close(model.coeffs.detach(), before)
        assert torch.equal(manual.params[0].grad, a.coeffs.grad) and torch.count_nonzero(a.coeffs.grad) > 0
        manual.zero_grad()
        assert torch.count_nonzero(a.coeffs.grad) == 0  # the seed's coeffs.grad.zero_()
    torch.testing.assert_close(a.coeffs, b.coeffs)


def test_seed_init_scales_by_one_over_sqrt_fan_in():
    torch.manual_seed(11)
    model = build_model("linear", 16, 1, [], "relu", "seed_sqrt_n")
    torch.manual_seed(11)
    nn.Linear(16, 1)  # the layer's own default init draws first
    expected = torch.randn(1, 16) / math.sqrt(16)
    torch.testing.assert_close(model[0].weight.detach(), expected)
    assert torch.count_nonzero(model[0].bias) == 0


def test_pytorch_default_init_matches_nn_linear_bound():
    # nn.Linear: kaiming_uniform_(a=sqrt(5)), bound = gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in)
    bound = nn.init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3 / 25)
    assert bound == pytest.approx(1 / 5, rel=1e-12)
    torch.manual_seed(0)
    coeffs = ScratchLinear(25).coeffs.detach()
    torch.manual_seed(0)
    torch.testing.assert_close(coeffs, torch.empty(25).uniform_(-bound, bound), rtol=0, atol=1e-7)
    torch.manual_seed(0)
    wide = ScratchLinear(10_000).coeffs.detach()
    torch.manual_seed(0)
    reference = nn.Linear(10_000, 1).weight.detach()  # the same U(-1/100, 1/100) as nn.Linear's weight
    for values in (wide, reference):
        assert values.abs().max() <= 1 / 100 and values.max() > 0.99 / 100 and values.min() < -0.99 / 100


def test_mlp_shape_and_output(data):
    model = build_model("mlp", 15, 1, [8, 4], "tanh", "pytorch_default")
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Flatten"]
    assert model(data.x_train).shape == data.y_train.shape
    assert build_model("mlp", 15, 2, [8], "relu", "pytorch_default")(data.x_train).shape == (len(data.x_train), 2)


def test_the_seeds_cross_entropy_was_a_one_example_many_classes_loss():
    # what the refusal explains: 1-D float preds/targets are read as ONE example with class probabilities
    preds, prices = torch.tensor([27100.0, 26950.0, 27010.0]), torch.tensor([27084.0, 27113.9, 27159.0])
    seeds_loss = F.cross_entropy(preds, prices)
    torch.testing.assert_close(seeds_loss, -(prices * torch.log_softmax(preds, 0)).sum())
    assert seeds_loss > 1e6  # enormous, and it says nothing about how far the prices are off
    with pytest.raises(SettingsError) as err:
        check_settings(False, "mlp", "cross_entropy", [16])
    assert str(err.value) == CROSS_ENTROPY_ON_REGRESSION
    assert "F.cross_entropy(preds, t_dep)" in str(err.value) and "MSE" in str(err.value)


@pytest.mark.parametrize("args, message", [
    ((False, "linear", "bce_logits", []), "BCE-with-logits expects labels 0 or 1"),
    ((True, "scratch_linear", "cross_entropy", []), "one score per class"),
    ((True, "mlp", "bce_logits", []), "at least one hidden layer"),
    ((False, "mlp", "mse", [0]), "between 1 and 1024"),
])
def test_settings_that_cannot_work_are_refused(args, message):
    with pytest.raises(SettingsError, match=message):
        check_settings(*args)
    check_settings(True, "linear", "cross_entropy", [])  # the direction target takes cross-entropy


def test_direction_cross_entropy_takes_class_indices():
    logits, labels = torch.tensor([[2.0, -1.0], [0.0, 3.0]]), torch.tensor([0.0, 1.0])
    torch.testing.assert_close(make_loss("cross_entropy")(logits, labels), F.cross_entropy(logits, labels.long()))


def test_parse_hidden_sizes():
    assert parse_hidden_sizes("16, 8 4") == (16, 8, 4)
    with pytest.raises(SettingsError, match="could not read '1.5'"):
        parse_hidden_sizes("16, 1.5")
