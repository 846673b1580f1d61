"""The second seed's mistakes: each lesson reproduces the seed's behaviour, and its fix does not (PyTorch reference)."""
from __future__ import annotations

import math
import warnings

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from explorer.data.config import load_config, resolve_data_path
from explorer.data.sample import generate_candles
from explorer.labs import seed_bugs as bugs
from explorer.labs.modules import NeuralNetwork


@pytest.fixture(scope="module")
def tables():
    t_indep, t_dep = bugs.seed_tables(generate_candles(500))
    coeffs = bugs.seed_coeffs(t_indep.shape[1])
    return t_indep, t_dep, coeffs, (t_indep * coeffs).sum(axis=1)


def test_seed_tables_are_the_seeds_layout(tables):
    t_indep, t_dep, coeffs, _ = tables
    assert t_indep.shape == (497, 19) and t_dep.shape == (497,)  # 3 rows lost to the shifts, 'high' removed
    frame = generate_candles(500)
    assert t_dep[0].item() == pytest.approx(frame["high"].iloc[3], rel=1e-6)
    assert t_indep[0, 0].item() == pytest.approx(frame["open"].iloc[0], rel=1e-6)  # open_s3 of row 3
    assert coeffs.min() >= -0.5 and coeffs.max() < 0.5


def test_per_row_bias_has_shape_n_and_memorises(tables):
    t_indep, t_dep, _, preds = tables
    seed, fixed = bugs.seed_bias(t_indep), bugs.fixed_bias(t_indep)
    assert seed.shape == torch.Size([len(t_indep)]) and fixed.shape == torch.Size([1])
    assert bugs.best_loss_with_bias(preds, t_dep, seed) < 1e-3  # every row's error copied: ~0 training loss
    residual = (t_dep - preds).detach()
    assert bugs.best_loss_with_bias(preds, t_dep, fixed) == pytest.approx(residual.var(unbiased=False).item(),
                                                                           rel=1e-3)
    assert bugs.bias_on_new_rows(preds[:10].detach(), seed).startswith(
        "RuntimeError: The size of tensor a (10) must match the size of tensor b (497)")
    assert bugs.bias_on_new_rows(preds[:10].detach(), fixed) == "works: shape [10]"


def test_mislabelled_mae_prints_the_mse(tables):
    _, t_dep, _, preds = tables
    mse, mae = F.mse_loss(preds, t_dep), F.l1_loss(preds, t_dep)
    assert bugs.seed_losses(preds, t_dep) == f"mean absolute error: {mse}\nmean squared error: {mse}"
    assert bugs.fixed_losses(preds, t_dep) == f"mean absolute error: {mae}\nmean squared error: {mse}"
    assert mae.item() != pytest.approx(mse.item())


def test_xavier_with_rows_shrinks_outputs():
    n, c = 11713, 19
    seed_w = bugs.seed_xavier(n, c, torch.Generator().manual_seed(0))
    fixed_w = bugs.fixed_xavier(n, c, torch.Generator().manual_seed(0))
    raw = torch.randn(c, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(seed_w, raw / math.sqrt(n)) and torch.allclose(fixed_w, raw / math.sqrt(c))
    assert bugs.output_spread(seed_w, 5000) < 0.1  # sqrt(19/11713) ≈ 0.04 of the inputs' spread
    assert 0.5 < bugs.output_spread(fixed_w, 5000) < 2


def test_backward_twice_doubles_the_gradient_and_the_fix_does_not(tables):
    t_indep, t_dep, coeffs, _ = tables
    leaf = coeffs.clone().requires_grad_()
    torch.nn.CrossEntropyLoss()((t_indep * leaf).sum(axis=1), t_dep).backward()
    once = leaf.grad[0].item()
    first, second = bugs.seed_backward_twice(t_indep, t_dep, coeffs)
    assert first == pytest.approx(once, rel=1e-6) and second == pytest.approx(2 * once, rel=1e-6)
    assert bugs.fixed_backward_twice(t_indep, t_dep, coeffs) == pytest.approx((once, once), rel=1e-6)


def test_undefined_device_is_the_real_name_error():
    model = NeuralNetwork()
    with pytest.raises(NameError) as caught:
        bugs.seed_predict(model)
    assert bugs.run_seed_predict(model) == f"NameError: {caught.value}" == "NameError: name 'device' is not defined"
    pred = bugs.fixed_predict(model)
    assert pred.shape == (1,) and 0 <= pred.item() < 512


def torch_readonly_warning() -> str:
    """torch's own text for a non-writable array, read from torch now."""
    array = torch.zeros(2).numpy()
    array.flags.writeable = False
    before = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.from_numpy(array)
    finally:
        torch.set_warn_always(before)
    return str(caught[0].message)


def test_read_only_warning_is_torchs_text_every_time():
    data = bugs.seed_read(str(resolve_data_path(load_config())))
    assert list(data.columns) == ["open", "high", "low", "close", "volume"] and len(data) == 1000
    text = torch_readonly_warning()
    assert text.startswith("The given NumPy array is not writable")
    expected = [f"UserWarning: {text}"]
    for _ in range(2):  # torch warns once per process; the lesson must see it every time
        assert bugs.warnings_from(bugs.one_block_from_numpy, data) == expected
    assert bugs.warnings_from(bugs.fixed_from_numpy, data) == []
    as_read, after_copy = bugs.values_writeable(data)
    assert after_copy is False  # pandas 3 copy-on-write: one block, a read-only view
    assert bugs.warnings_from(bugs.seed_from_numpy, data) == ([] if as_read else expected)
    assert torch.equal(bugs.fixed_from_numpy(data), torch.tensor(data.to_numpy(), dtype=torch.float32))
    assert not torch.is_warn_always_enabled()
    assert pd.__version__.startswith("3")
