"""Plotly figures of candles (pure: return figures, never draw)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

MAX_CANDLES = 3000  # more than this and the browser struggles; coarser candles are drawn instead


def resample_ohlcv(frame: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Aggregate candles to a coarser interval the way exchanges do (first/max/min/last/sum)."""
    agg = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    return frame.resample(rule).agg(agg).dropna(subset=["open"])


# The intervals exchanges and charting tools offer: downsampled candles are drawn at one of these, never "536min".
STANDARD_INTERVALS = [("1min", "1 min"), ("3min", "3 min"), ("5min", "5 min"), ("15min", "15 min"),
                      ("30min", "30 min"), ("1h", "1 h"), ("2h", "2 h"), ("4h", "4 h"), ("6h", "6 h"),
                      ("12h", "12 h"), ("1D", "1 day"), ("3D", "3 days"), ("7D", "1 week"), ("30D", "30 days"),
                      ("91D", "91 days"), ("365D", "365 days")]


def chart_frame(frame: pd.DataFrame, max_candles: int = MAX_CANDLES) -> tuple[pd.DataFrame, str | None]:
    """The candles to draw, and the standard coarser interval used (e.g. '15 min', '4 h') if there were too many
    to draw one by one: the finest standard interval that gives at most `max_candles` candles."""
    if len(frame) <= max_candles:
        return frame, None
    span = frame.index[-1] - frame.index[0]
    for rule, label in STANDARD_INTERVALS:
        step = pd.Timedelta(rule)
        if span // step + 2 <= max_candles:  # +2: the bins at both ends may be partial
            return resample_ohlcv(frame, rule), label
    rule, label = STANDARD_INTERVALS[-1]
    return resample_ohlcv(frame, rule), label


# A rising candle is hollow and a falling one filled (as on paper charts), and its volume bar the same: up and down
# differ by more than colour (teal vs red were 1.2:1 to each other); both colours are 5:1 or more on white.
UP, DOWN, PAPER = "#00796b", "#c62828", "white"


def candlestick_figure(frame: pd.DataFrame, title: str = "Candles") -> go.Figure:
    """Candlestick chart with a volume panel below, sharing the time axis: rising candles (and their volume bars)
    hollow, falling ones filled."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.03)
    fig.add_trace(go.Candlestick(x=frame.index, open=frame["open"], high=frame["high"], low=frame["low"],
                                 close=frame["close"], name="price",
                                 increasing=dict(line=dict(color=UP, width=1.5), fillcolor=PAPER),
                                 decreasing=dict(line=dict(color=DOWN, width=1.5), fillcolor=DOWN)), row=1, col=1)
    up = (frame["close"] >= frame["open"]).tolist()
    fig.add_trace(go.Bar(x=frame.index, y=frame["volume"], name="volume",
                         marker=dict(color=[PAPER if u else DOWN for u in up],
                                     line=dict(color=[UP if u else DOWN for u in up], width=1))), row=2, col=1)
    fig.update_layout(title=dict(text=title, subtitle=dict(text="hollow: closed up (close ≥ open) · filled: closed "
                                                                 "down", font=dict(color="#545454"))),
                      xaxis_rangeslider_visible=False, showlegend=False, height=520,
                      margin=dict(l=10, r=10, t=64, b=10))
    fig.update_yaxes(title_text="price", row=1, col=1)
    fig.update_yaxes(title_text="volume", row=2, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=2, col=1)
    return fig
