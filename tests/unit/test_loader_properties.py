"""Property tests: any valid candle table written in any supported way loads back to the same frame;
any junk either loads or raises CandleFormatError — never another exception."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.data.loader import COLUMNS, CandleFormatError, load_candles

# LOADER_EXAMPLES=1000 for a longer hunt; 50 keeps the suite fast.
FAST = settings(max_examples=int(os.environ.get("LOADER_EXAMPLES", "50")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
STEPS = [60, 300, 900, 3600, 86400]


@st.composite
def candle_frames(draw) -> pd.DataFrame:
    """A clean candle frame: regular UTC times, 2-decimal prices with consistent high/low, positive volume."""
    n = draw(st.integers(1, 25))
    start = draw(st.integers(1_300_000_000, 1_900_000_000))
    step = draw(st.sampled_from(STEPS))
    cents = st.integers(1, 10_000_000)
    rows = []
    for _ in range(n):
        o, c = draw(cents) / 100, draw(cents) / 100
        h = max(o, c) + draw(st.integers(0, 5000)) / 100
        l = max(0.01, min(o, c) - draw(st.integers(0, 5000)) / 100)
        v = draw(st.integers(0, 10**12)) / 10**6
        rows.append((o, h, l, c, v))
    index = pd.DatetimeIndex((start + step * np.arange(n)).astype("datetime64[s]").astype("datetime64[us]"),
                             name="timestamp")
    return pd.DataFrame(rows, columns=COLUMNS, index=index)


def render_time(ts: pd.Timestamp, unit: str) -> str:
    seconds = int(ts.value // 10**9) if ts.unit == "ns" else int((ts - pd.Timestamp(0)) // pd.Timedelta(seconds=1))
    return {"s": str(seconds), "ms": str(seconds * 1000), "us": str(seconds * 10**6),
            "float": f"{seconds}.0", "iso": ts.strftime("%Y-%m-%d %H:%M:%S"),
            "iso_z": ts.strftime("%Y-%m-%dT%H:%M:%SZ")}[unit]


def render(frame: pd.DataFrame, sep: str, header: bool, unit: str, quoted: bool, newline: str,
           final_newline: bool, reverse: bool) -> bytes:
    """Write the frame as a file the way some exporter might."""
    q = (lambda s: f'"{s}"') if quoted else (lambda s: s)
    lines = [sep.join(q(h) for h in ["timestamp", *COLUMNS])] if header else []
    body = [sep.join(q(x) for x in [render_time(ts, unit), *map(repr, row)])
            for ts, row in zip(frame.index, frame.itertuples(index=False))]
    lines += body[::-1] if reverse else body
    text = newline.join(lines) + (newline if final_newline else "")
    return text.encode()


@FAST
@given(frame=candle_frames(), sep=st.sampled_from([",", "|", ";", "\t"]), header=st.booleans(),
       unit=st.sampled_from(["s", "ms", "us", "float", "iso", "iso_z"]), quoted=st.booleans(),
       newline=st.sampled_from(["\n", "\r\n"]), final_newline=st.booleans(), reverse=st.booleans())
def test_round_trip(frame, sep, header, unit, quoted, newline, final_newline, reverse):
    raw = render(frame, sep, header, unit, quoted, newline, final_newline, reverse)
    data = load_candles(raw)
    pd.testing.assert_frame_equal(data.frame, frame, check_freq=False)
    assert data.report.separator == sep and data.report.rows_kept == len(frame)
    assert data.report.header is header


@FAST
@given(frame=candle_frames(), sep=st.sampled_from([",", "|", ";", "\t", " "]))
def test_round_trip_with_explicit_options(frame, sep):
    raw = render(frame, sep, False, "s", False, "\n", True, False)
    data = load_candles(raw, sep=sep, names=["timestamp", *COLUMNS], nrows=len(frame))
    pd.testing.assert_frame_equal(data.frame, frame, check_freq=False)


@FAST
@given(junk=st.binary(max_size=3000))
def test_junk_bytes_load_or_raise_candle_format_error(junk):
    try:
        data = load_candles(junk)
    except CandleFormatError:
        return
    assert list(data.frame.columns) == COLUMNS and len(data.frame) > 0


@FAST
@given(frame=candle_frames(), edits=st.lists(st.tuples(st.floats(0, 1), st.text(max_size=4)), max_size=6))
def test_damaged_files_load_or_raise_candle_format_error(frame, edits):
    text = render(frame, ",", True, "s", False, "\n", True, False).decode()
    for where, insert in edits:  # splice random text into random places
        at = int(where * len(text))
        text = text[:at] + insert + text[at:]
    try:
        data = load_candles(text.encode("utf-8", "surrogatepass"))
    except CandleFormatError:
        return
    frame = data.frame
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert all(frame.dtypes == np.float64) and not frame["volume"].isna().any()


@FAST
@given(text=st.text(alphabet="0123456789,|;\t .-:/\r\nabcdehlnopstvTZAPM\"", max_size=1500))
def test_csv_like_noise_loads_or_raises_candle_format_error(text):
    try:
        data = load_candles(text.encode())
    except CandleFormatError:
        return
    assert list(data.frame.columns) == COLUMNS and data.frame.index.is_unique


TOKENS = st.one_of(
    st.integers(-10, 2 * 10**18).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "null", "NaN", "open", "Date", "time", "volume", "close", "high", "low", "Adj Close",
                     "2020-01-01 00:00", "01/02/2020 10:00", "13/01/2020 9:30", "2020-09-05 02-PM", "10:00",
                     "2020-03-08 01:00:00-05:00", "2017.08.17", "\"1,5\"", "1e400", "-0"]))


@FAST
@given(rows=st.lists(st.lists(TOKENS, min_size=1, max_size=8), min_size=1, max_size=12),
       sep=st.sampled_from([",", "|", ";", "\t", " "]))
def test_table_shaped_noise_loads_or_raises_candle_format_error(rows, sep):
    raw = "\n".join(sep.join(row) for row in rows).encode()
    try:
        data = load_candles(raw)
    except CandleFormatError:
        return
    frame = data.frame
    assert list(frame.columns) == COLUMNS and frame.index.is_unique and frame.index.is_monotonic_increasing
    assert not frame["volume"].isna().any() and len(frame) == data.report.rows_kept


@FAST
@given(frame=candle_frames(), day_first=st.booleans(), step=st.sampled_from([900, 3600, 6 * 3600, 86400]))
def test_slash_dates_round_trip_or_refuse_to_guess(frame, day_first, step):
    frame.index = pd.DatetimeIndex(frame.index[0].floor("min") + pd.to_timedelta(np.arange(len(frame)) * step, "s"),
                                   name="timestamp").as_unit("us")
    fmt = "%d/%m/%Y %H:%M" if day_first else "%m/%d/%Y %H:%M"
    lines = ["Date,open,high,low,close,volume"] + [
        ",".join([ts.strftime(fmt), *map(repr, row)]) for ts, row in zip(frame.index, frame.itertuples(index=False))]
    raw = ("\n".join(lines) + "\n").encode()
    try:
        data = load_candles(raw)
    except CandleFormatError as err:
        assert "Cannot tell whether dates" in str(err)
        assert (frame.index.day <= 12).all()  # only refused when every date reads both ways
        return
    pd.testing.assert_frame_equal(data.frame, frame, check_freq=False)
