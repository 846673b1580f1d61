"""Candlestick downsampling draws at standard intervals (5 min, 15 min, 1 h, 4 h, 1 day, …), never '536min'."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer.data.charts import STANDARD_INTERVALS, chart_frame, resample_ohlcv
from explorer.data.sample import generate_candles


def minute_candles(n: int) -> pd.DataFrame:
    frame = generate_candles(n)
    frame.index = pd.date_range("2024-01-01", periods=n, freq="1min", name="timestamp")
    return frame


@pytest.mark.parametrize("rows, max_candles, label", [
    (20_000, 3000, "15 min"), (600, 100, "15 min"), (44_640, 3000, "15 min"), (44_640, 500, "2 h"),
    (200_000, 300, "12 h"), (20_000, 20, "1 day"), (3001, 3000, "3 min"),
])
def test_standard_interval_chosen(rows, max_candles, label):
    frame = minute_candles(rows)
    drawn, chosen = chart_frame(frame, max_candles=max_candles)
    assert chosen == label and len(drawn) <= max_candles
    rule = dict((b, a) for a, b in STANDARD_INTERVALS)[label]
    finer = STANDARD_INTERVALS[[b for _, b in STANDARD_INTERVALS].index(label) - 1][0]
    assert len(resample_ohlcv(frame, finer)) > max_candles  # the finest standard interval that fits
    pd.testing.assert_frame_equal(drawn, resample_ohlcv(frame, rule))
    assert np.isclose(drawn["volume"].sum(), frame["volume"].sum())


def test_few_candles_are_drawn_one_by_one():
    frame = minute_candles(3000)
    assert chart_frame(frame)[1] is None and chart_frame(frame)[0] is frame


def test_rising_candles_and_their_volume_are_hollow_falling_ones_filled_not_told_apart_by_colour_alone():
    from explorer.data.charts import DOWN, PAPER, UP, candlestick_figure
    frame = pd.DataFrame({"open": [1.0, 2.0, 3.0], "high": [2.5, 2.5, 3.5], "low": [0.5, 0.5, 1.5],
                          "close": [2.0, 1.0, 3.0], "volume": [10.0, 20.0, 30.0]},
                         index=pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC"))
    candles, volume = candlestick_figure(frame).data
    assert candles.increasing.fillcolor == PAPER and candles.increasing.line.color == UP  # hollow
    assert candles.decreasing.fillcolor == candles.decreasing.line.color == DOWN  # filled
    assert list(volume.marker.color) == [PAPER, DOWN, PAPER]  # up, down, flat (close == open counts as up)
    assert list(volume.marker.line.color) == [UP, DOWN, UP]
    assert "hollow" in candlestick_figure(frame).layout.title.subtitle.text
