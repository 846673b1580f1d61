"""nn.Linear + SGD lab and micro-batch accumulation, against plain PyTorch."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from explorer.labs.microbatch import accumulated_grad, candle_batch, compare_microbatches, full_batch_grad
from explorer.labs.optimizer_lab import OptimizerLab, optimizer_frame, seeded_linear

NAMES = ["open", "high", "low", "close", "volume"]


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    close = 100 + rng.normal(0, 1, 40).cumsum()
    return pd.DataFrame({"open": close - 0.2, "high": close + 0.5, "low": close - 0.6, "close": close,
                         "volume": rng.uniform(0, 3, 40)})


def test_seeded_linear_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a, b = seeded_linear(5, 4), seeded_linear(5, 4)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    assert torch.equal(torch.rand(1), expected_next)


def test_optimizer_step_with_and_without_zero_grad(frame):
    x = torch.tensor(frame.values[:1], dtype=torch.float32)
    lr = 1e-3
    lab = OptimizerLab(x, seed=1, lr=lr)
    for zero in (True, True, False, False):
        lab.train_step(zero_grad=zero)
    # the reference: the same loop written out
    model = seeded_linear(5, 1)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for zero in (True, True, False, False):
        if zero:
            opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    assert torch.allclose(lab.model.weight, model.weight) and torch.allclose(lab.model.bias, model.bias)
    assert [s.bias_grad for s in lab.steps] == [1.0, 1.0, 2.0, 3.0]
    assert [s.bias_delta for s in lab.steps] == pytest.approx([-lr, -lr, -2 * lr, -3 * lr], rel=1e-4)
    assert lab.steps[3].weight_grad == pytest.approx((3 * x).flatten().tolist(), rel=1e-6)
    assert all(s.update_is_minus_lr_grad for s in lab.steps)
    table = optimizer_frame(lab.steps, NAMES)
    assert table["optimizer.zero_grad()"].tolist() == ["called", "called", "forgotten", "forgotten"]
    assert table["bias.grad"].tolist() == [1.0, 1.0, 2.0, 3.0]


def test_optimizer_zero_grad_sets_none():
    lab = OptimizerLab(torch.ones(1, 3), seed=0, lr=0.1)
    lab.train_step(zero_grad=True)
    assert lab.grads_now() == ([1.0, 1.0, 1.0], 1.0)
    lab.optimizer.zero_grad()
    assert lab.grads_now() == (None, None)
    with pytest.raises(ValueError, match="learning rate must be positive"):
        OptimizerLab(torch.ones(1, 3), seed=0, lr=0.0)


def test_candle_batch_targets_are_next_close(frame):
    inputs, target = candle_batch(frame, 3, 6)
    assert inputs.shape == (6, 5) and target.shape == (6, 1)
    assert torch.equal(target.flatten(), torch.tensor(frame["close"].values[4:10], dtype=torch.float32))
    with pytest.raises(ValueError, match="do not fit"):
        candle_batch(frame, 35, 5)


@pytest.mark.parametrize("k", [1, 2, 4, 8])
def test_accumulated_loss_over_k_equals_full_batch(frame, k):
    inputs, target = candle_batch(frame, 0, 16)
    model = seeded_linear(5, 0)
    # the reference: one plain backward over the whole batch
    ref = seeded_linear(5, 0)
    nn.functional.mse_loss(ref(inputs), target).backward()
    ref_grad = torch.cat([ref.weight.grad.flatten(), ref.bias.grad])
    assert torch.allclose(full_batch_grad(model, inputs, target), ref_grad)
    assert torch.allclose(accumulated_grad(model, inputs, target, k), ref_grad, rtol=1e-5)
    assert torch.allclose(accumulated_grad(model, inputs, target, k, divide_by_k=False), k * ref_grad, rtol=1e-5)


def test_compare_microbatches_table(frame):
    result = compare_microbatches(frame, 2, 12, 3, seed=0)
    assert result.max_rel_diff_divided < 1e-5
    assert result.ratio_undivided == pytest.approx(3.0, rel=1e-5)
    assert result.table["(Σ loss_i) / full"].to_numpy() == pytest.approx(np.full(6, 3.0), rel=1e-4)
    assert list(result.table.index)[-1] == "bias.grad"
    with pytest.raises(ValueError, match="does not split into 5 equal micro-batches"):
        compare_microbatches(frame, 2, 12, 5, seed=0)


def test_the_lessons_are_the_tutorial_loop_and_the_loop_without_zero_grad(frame):
    """sgd_step is zero_grad, forward, backward, step; sgd_step_without_zero_grad lacks the first line. Plain torch,
    the same loops written out: the same parameters, bit for bit."""
    from explorer.labs.optimizer_lab import sgd_step, sgd_step_without_zero_grad
    x = torch.tensor(frame.values[3:4], dtype=torch.float32) / 100
    for lesson, zero in ((sgd_step, True), (sgd_step_without_zero_grad, False)):
        model, ref = seeded_linear(5, 2), seeded_linear(5, 2)
        opt, ref_opt = torch.optim.SGD(model.parameters(), lr=0.01), torch.optim.SGD(ref.parameters(), lr=0.01)
        for _ in range(3):
            y = lesson(model, opt, x)
            if zero:
                ref_opt.zero_grad()
            ref_y = ref(x).sum()
            ref_y.backward()
            ref_opt.step()
            assert torch.equal(y, ref_y)
        assert torch.equal(model.weight, ref.weight) and torch.equal(model.bias, ref.bias)
        assert torch.equal(model.bias.grad, ref.bias.grad) and model.bias.grad.item() == (1.0 if zero else 3.0)


def test_lab_for_keeps_the_lab_until_its_inputs_change(frame):
    from explorer.labs.optimizer_lab import lab_for
    x = torch.tensor(frame.values[:1], dtype=torch.float32)
    lab = lab_for(None, x, 1, 1e-3)
    lab.train_step(zero_grad=True)
    assert lab_for(lab, x.clone(), 1, 1e-3) is lab
    assert lab_for(lab, x, 2, 1e-3) is not lab and lab_for(lab, x, 1, 1e-4).steps == []
    assert lab_for(lab, x + 1, 1, 1e-3) is not lab
    lab.reset()
    assert lab.steps == [] and lab.model.weight.grad is None
    assert torch.equal(lab.model.weight, seeded_linear(5, 1).weight)
