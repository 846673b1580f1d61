"""Lagged candle windows (the seed's shift/concat), targets, a chronological split and normalisation."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from explorer.data.columns import OHLCV

TARGETS = ("next_high", "next_close", "next_return", "next_direction")
NORMALISATIONS = ("none", "minmax", "zscore", "log_returns")
FEATURE_COLUMNS = OHLCV


class FeatureError(ValueError):
    """The features cannot be built from these settings; the message says which one and why."""


def lagged_windows(frame: pd.DataFrame, columns: list[str], lags: int) -> pd.DataFrame:
    """The seed's shift/concat: row t holds candles t-lags … t-1 of `columns` (oldest first, suffix _s<k>)."""
    parts = [frame[list(columns)].shift(k).add_suffix(f"_s{k}") for k in range(lags, 0, -1)]
    return pd.concat(parts, axis=1)


def target_series(frame: pd.DataFrame, target: str) -> pd.Series:
    """What row t predicts: candle t itself, the one right after the window (its high, close, return, direction)."""
    prev_close = frame["close"].shift(1)
    if target == "next_high":
        return frame["high"]
    if target == "next_close":
        return frame["close"]
    if target == "next_return":
        return frame["close"] / prev_close - 1.0
    # NaN where there is no previous close, so the row is dropped like any row with a missing lag
    return (frame["close"] > prev_close).astype("float64").where(prev_close.notna())


def log_return_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Prices as log(price / previous close), volume as log(1 + volume): stationary, around 0, scale-free."""
    prev_close = frame["close"].shift(1)
    out = pd.DataFrame(index=frame.index)
    for col in columns:
        if col == "volume":
            out[col] = np.log1p(frame[col].clip(lower=0))
        else:  # open, high, low, close
            out[col] = np.log(frame[col] / prev_close)
    return out


def log_return_target(frame: pd.DataFrame, target: str) -> pd.Series:
    """The target in log-return units: next high/close as log(x / last close in the window); direction unchanged."""
    prev_close = frame["close"].shift(1)
    if target == "next_high":
        return np.log(frame["high"] / prev_close)
    if target in ("next_close", "next_return"):
        return np.log(frame["close"] / prev_close)
    return target_series(frame, target)


def feature_table(frame: pd.DataFrame, columns: list[str], lags: int, target: str,
                  normalisation: str) -> pd.DataFrame:
    """Lagged features plus a `target` column; rows with any missing lag (or target) are dropped."""
    if normalisation == "log_returns":
        windows = lagged_windows(log_return_frame(frame, columns), columns, lags)
        y = log_return_target(frame, target)
    else:
        windows = lagged_windows(frame, columns, lags)
        y = target_series(frame, target)
    table = windows.assign(target=y).replace([np.inf, -np.inf], np.nan)
    return table.dropna()


def split_point(n_rows: int, validation_fraction: float) -> int:
    """Index of the first validation row: the last fraction of the time series is held out, never shuffled."""
    return n_rows - max(1, int(round(n_rows * validation_fraction)))


def fit_scaler(train: pd.DataFrame, normalisation: str) -> tuple[pd.Series, pd.Series]:
    """Per-column (shift, scale) fitted on the training rows only, so no statistic peeks at validation."""
    if normalisation == "minmax":
        shift, scale = train.min(), train.max() - train.min()
    elif normalisation == "zscore":
        shift, scale = train.mean(), train.std(ddof=0)
    else:
        shift, scale = pd.Series(0.0, index=train.columns), pd.Series(1.0, index=train.columns)
    return shift, scale.where(scale > 0, 1.0)  # a constant column would divide by zero


def build_features(frame: pd.DataFrame, columns: list[str], lags: int, target: str, normalisation: str,
                   validation_fraction: float) -> dict:
    """Candles → float32 tensors t_indep/t_dep for train and validation, scaled with train statistics."""
    table = feature_table(frame, columns, lags, target, normalisation)
    cut = split_point(len(table), validation_fraction)
    shift, scale = fit_scaler(table.iloc[:cut], normalisation)
    if target == "next_direction":  # class labels stay 0/1
        shift["target"], scale["target"] = 0.0, 1.0
    scaled = (table - shift) / scale
    # .contiguous(): pandas hands its columns over one after another; a mini-batch reads whole rows
    x = torch.tensor(scaled.drop(columns="target").to_numpy(), dtype=torch.float32).contiguous()
    y = torch.tensor(scaled["target"].to_numpy(), dtype=torch.float32)
    return {"x_train": x[:cut], "y_train": y[:cut], "x_valid": x[cut:], "y_valid": y[cut:],
            "table": table, "cut": cut, "shift": shift, "scale": scale}


@dataclass(frozen=True)
class FeatureSpec:
    """What to build: rows of candles used, lag count, feature columns, target, normalisation, split."""
    rows: int = 1000
    lags: int = 3
    columns: tuple[str, ...] = FEATURE_COLUMNS
    target: str = "next_high"
    normalisation: str = "zscore"
    validation_fraction: float = 0.2

    @property
    def is_classification(self) -> bool:
        """True for the up/down direction target."""
        return self.target == "next_direction"


@dataclass(frozen=True)
class FeatureSet:
    """Tensors ready to train on, plus the table and the train statistics that made them."""
    spec: FeatureSpec
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_valid: torch.Tensor
    y_valid: torch.Tensor
    table: pd.DataFrame
    stats: pd.DataFrame
    candles: pd.DataFrame  # the raw candles it was built from (for the exported script)

    @property
    def feature_names(self) -> list[str]:
        """Column names of t_indep, e.g. open_s3 … volume_s1."""
        return [c for c in self.table.columns if c != "target"]

    @property
    def valid_index(self) -> pd.Index:
        """Timestamps of the validation rows."""
        return self.table.index[len(self.x_train):]

    def to_target_units(self, values: np.ndarray) -> np.ndarray:
        """Undo the target scaling (z-score/min-max) so predictions read in the target's own units."""
        return np.asarray(values) * self.stats.loc["target", "scale"] + self.stats.loc["target", "shift"]

    def shapes(self) -> dict[str, str]:
        """Shapes as the seed printed them: t_indep [n, c], t_dep [n]."""
        return {"t_indep (train)": str(self.x_train.shape), "t_dep (train)": str(self.y_train.shape),
                "t_indep (valid)": str(self.x_valid.shape), "t_dep (valid)": str(self.y_valid.shape)}


def check_spec(frame: pd.DataFrame, spec: FeatureSpec) -> None:
    """Raise FeatureError naming the setting that cannot work with this data."""
    if spec.target not in TARGETS:
        raise FeatureError(f"Unknown target {spec.target!r}; choose one of {', '.join(TARGETS)}.")
    if spec.normalisation not in NORMALISATIONS:
        raise FeatureError(f"Unknown normalisation {spec.normalisation!r}; choose one of {', '.join(NORMALISATIONS)}.")
    if not spec.columns:
        raise FeatureError("Choose at least one feature column.")
    if "timestamp" in spec.columns or "time" in spec.columns:
        raise FeatureError("Time columns are never features: the model would learn the calendar, not the market.")
    missing = [c for c in {*spec.columns, "high", "close"} if c not in frame.columns]
    if missing:
        raise FeatureError(f"The candles have no column(s) {', '.join(sorted(missing))}.")
    if spec.lags < 1:
        raise FeatureError(f"lags must be at least 1 (got {spec.lags}).")
    if not 0 < spec.validation_fraction < 0.9:
        raise FeatureError(f"validation fraction must be between 0 and 0.9 (got {spec.validation_fraction}).")


def make_features(frame: pd.DataFrame, spec: FeatureSpec) -> FeatureSet:
    """Build the FeatureSet for `spec` from the first `spec.rows` candles."""
    check_spec(frame, spec)
    used = frame.iloc[: spec.rows]
    built = build_features(used, list(spec.columns), spec.lags, spec.target, spec.normalisation,
                           spec.validation_fraction)
    n_train, n_valid = len(built["x_train"]), len(built["x_valid"])
    if n_train < 2 or n_valid < 1:
        raise FeatureError(f"{spec.rows} candles with {spec.lags} lags leave {n_train} training and {n_valid} "
                           "validation rows; use more rows or fewer lags.")
    stats = pd.DataFrame({"shift": built["shift"], "scale": built["scale"]})
    return FeatureSet(spec, built["x_train"], built["y_train"], built["x_valid"], built["y_valid"],
                      built["table"], stats, used)
