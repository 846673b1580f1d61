"""Deterministic generator of synthetic but realistic 1-minute BTCUSDT-like candles.

The bundled sample in data/ is produced by `write_sample()`; nothing here is real market data.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from explorer.data.columns import PRICES

SAMPLE_START = pd.Timestamp("2017-08-17 04:00:00")  # the seed's first candle (unix 1502942400)
SAMPLE_ROWS = 20_000
SAMPLE_SEED = 2017
SAMPLE_PATH = Path(__file__).resolve().parents[2] / "data" / "BTCUSDT_synthetic_1m.csv"


def _volatility(rng: np.random.Generator, n: int) -> np.ndarray:
    """GARCH(1,1)-style per-minute volatility, so calm and wild stretches cluster."""
    omega, alpha, beta = 2e-8, 0.08, 0.90
    var = np.empty(n)
    var[0] = omega / (1 - alpha - beta)
    shocks = rng.standard_t(df=4, size=n) / np.sqrt(2.0)  # unit-variance, heavy-tailed
    for i in range(1, n):
        var[i] = omega + alpha * var[i - 1] * shocks[i - 1] ** 2 + beta * var[i - 1]
    return np.sqrt(var) * shocks


def generate_candles(n: int = SAMPLE_ROWS, seed: int = SAMPLE_SEED,
                     start: pd.Timestamp = SAMPLE_START, start_price: float = 4261.48) -> pd.DataFrame:
    """Return `n` one-minute OHLCV candles indexed by a UTC (tz-naive) `timestamp`."""
    rng = np.random.default_rng(seed)
    # Slow regime-switching drift gives trends that last hours, not single minutes.
    regime_len = rng.integers(120, 720, size=n // 120 + 2)
    drift = np.repeat(rng.normal(0, 4e-5, size=regime_len.size), regime_len)[:n]
    log_ret = drift + _volatility(rng, n)
    close = start_price * np.exp(np.cumsum(log_ret))
    open_ = np.concatenate([[start_price], close[:-1]])
    # Wicks: the intra-minute range grows with the minute's volatility.
    span = np.abs(log_ret) + np.abs(rng.normal(0, 2e-4, n))
    high = np.maximum(open_, close) * np.exp(span * rng.uniform(0, 0.8, n))
    low = np.minimum(open_, close) * np.exp(-span * rng.uniform(0, 0.8, n))
    # Heavy-tailed volume that rises with the size of the move.
    volume = rng.pareto(2.5, n) * (1 + 2000 * np.abs(log_ret)) * 2.0
    frame = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume},
        index=pd.DatetimeIndex(start + pd.to_timedelta(np.arange(n), unit="min"), name="timestamp"),
    )
    frame[list(PRICES)] = frame[list(PRICES)].round(2)
    frame["high"] = frame[["open", "high", "close"]].max(axis=1)  # rounding must not break OHLC order
    frame["low"] = frame[["open", "low", "close"]].min(axis=1)
    frame["volume"] = frame["volume"].round(6)
    return frame


def to_seed_format(frame: pd.DataFrame) -> str:
    """Render candles as the seed's file: pipe-separated, no header, unix seconds."""
    out = frame.reset_index()
    out["timestamp"] = (out["timestamp"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    return out.to_csv(sep="|", header=False, index=False, lineterminator="\n")


def write_sample(path: Path = SAMPLE_PATH) -> Path:
    """(Re)write the bundled sample file; deterministic for a given numpy version."""
    path.write_text(to_seed_format(generate_candles()))
    return path


if __name__ == "__main__":
    print(write_sample())
