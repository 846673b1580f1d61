"""Lagged windows, targets, chronological split and normalisation, checked against hand-built pandas/numpy."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from explorer.training.features import (FeatureError, FeatureSpec, build_features, feature_table, lagged_windows,
                               make_features)
from explorer.data.sample import generate_candles

COLUMNS = ["open", "high", "low", "close", "volume"]


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return generate_candles(300)


def test_windows_equal_the_seeds_shift_and_concat(candles):
    # the seed's cells 2-5: shift 3 times, concat oldest first, drop rows with NaN
    df = candles[COLUMNS]
    df_s1, df_s2, df_s3 = (df.shift(k).add_suffix(f"_s{k}") for k in (1, 2, 3))
    expected = pd.concat([df_s3, df_s2, df_s1], axis=1).dropna()
    table = feature_table(candles, COLUMNS, 3, "next_high", "none")
    got = table.drop(columns="target")
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got, expected)
    assert len(table) == len(candles) - 3  # the first 3 rows have missing lags
    # the target is the candle right after the window, as the seed's `high` column was
    np.testing.assert_array_equal(table["target"].to_numpy(), candles["high"].to_numpy()[3:])


def test_windows_never_include_the_predicted_candle(candles):
    table = lagged_windows(candles, ["close"], 2)
    assert table.loc[candles.index[5], "close_s1"] == candles["close"].iloc[4]
    assert table.loc[candles.index[5], "close_s2"] == candles["close"].iloc[3]


@pytest.mark.parametrize("target", ["next_close", "next_return", "next_direction"])
def test_targets(candles, target):
    table = feature_table(candles, ["close"], 1, target, "none")
    close = candles["close"].to_numpy()
    expected = {"next_close": close[1:], "next_return": close[1:] / close[:-1] - 1,
                "next_direction": (close[1:] > close[:-1]).astype(float)}[target]
    np.testing.assert_allclose(table["target"].to_numpy(), expected, rtol=1e-15)


def test_tensors_have_the_seeds_shapes_and_split_is_chronological(candles):
    data = make_features(candles, FeatureSpec(rows=300, lags=3, validation_fraction=0.2))
    n = 300 - 3
    n_valid = round(n * 0.2)
    assert data.x_train.shape == torch.Size([n - n_valid, 15]) and data.y_train.shape == torch.Size([n - n_valid])
    assert data.x_valid.shape == torch.Size([n_valid, 15]) and data.x_train.dtype == torch.float32
    assert data.table.index[: len(data.x_train)].max() < data.valid_index.min()  # no shuffling across time


def test_zscore_uses_training_statistics_only(candles):
    built = build_features(candles, COLUMNS, 3, "next_high", "zscore", 0.25)
    table, cut = built["table"], built["cut"]
    train = table.iloc[:cut].to_numpy()
    mean, std = train.mean(axis=0), train.std(axis=0)
    expected = (table.to_numpy() - mean) / std
    np.testing.assert_allclose(built["x_train"].numpy(), expected[:cut, :-1].astype(np.float32), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(built["x_valid"].numpy(), expected[cut:, :-1].astype(np.float32), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(built["y_valid"].numpy(), expected[cut:, -1].astype(np.float32), rtol=1e-5, atol=1e-5)
    # wildly different validation candles change nothing about the training rows
    shocked = candles.copy()
    shocked.iloc[-40:] *= 10.0
    again = build_features(shocked, COLUMNS, 3, "next_high", "zscore", 0.25)
    assert torch.equal(again["x_train"], built["x_train"]) and torch.equal(again["y_train"], built["y_train"])
    assert not torch.equal(again["x_valid"], built["x_valid"])


def test_minmax_maps_training_rows_into_unit_interval(candles):
    built = build_features(candles, COLUMNS, 2, "next_close", "minmax", 0.2)
    x = built["x_train"]
    assert torch.allclose(x.min(0).values, torch.zeros(x.shape[1]), atol=1e-6)
    assert torch.allclose(x.max(0).values, torch.ones(x.shape[1]), atol=1e-6)


def test_log_returns(candles):
    table = feature_table(candles, ["high", "close", "volume"], 1, "next_high", "log_returns")
    close, high, vol = (candles[c].to_numpy() for c in ("close", "high", "volume"))
    # row t: lag 1 is candle t-1 relative to close t-2; the target is high t relative to close t-1
    np.testing.assert_allclose(table["close_s1"].to_numpy(), np.log(close[1:-1] / close[:-2]))
    np.testing.assert_allclose(table["high_s1"].to_numpy(), np.log(high[1:-1] / close[:-2]))
    np.testing.assert_allclose(table["volume_s1"].to_numpy(), np.log1p(vol[1:-1]))
    np.testing.assert_allclose(table["target"].to_numpy(), np.log(high[2:] / close[1:-1]))
    assert len(table) == len(candles) - 2  # one lag plus the previous close it is measured against


def test_direction_labels_are_not_normalised(candles):
    data = make_features(candles, FeatureSpec(rows=300, target="next_direction", normalisation="zscore"))
    assert set(torch.unique(data.y_train).tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("spec, message", [
    (FeatureSpec(columns=("timestamp", "close")), "Time columns are never features"),
    (FeatureSpec(columns=("close", "spread")), "no column(s) spread"),
    (FeatureSpec(columns=()), "at least one feature column"),
    (FeatureSpec(rows=6, lags=5), "use more rows or fewer lags"),
    (FeatureSpec(target="tomorrow"), "Unknown target"),
])
def test_bad_specs_are_refused_with_a_reason(candles, spec, message):
    with pytest.raises(FeatureError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_features(candles, spec)
