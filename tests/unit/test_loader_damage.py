"""A damaged line costs only itself: every other row loads, and the report names the line and the reason.
Mixed unix-time units are read value by value or refused; a Date order the data contradicts is refused."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.data.loader import CandleFormatError, load_candles
from tests.unit.test_loader_properties import FAST

HEADER = "time,open,high,low,close,volume"
START = 1_600_000_000
N = 30


def good_rows(n: int = N) -> list[str]:
    return [f"{START + 60 * i},{100 + i},{102 + i},{99 + i},{101 + i},{10 + i}" for i in range(n)]


def expected_frame(n: int = N, skip: tuple[int, ...] = ()) -> pd.DataFrame:
    keep = [i for i in range(n) if i not in skip]
    index = pd.DatetimeIndex(((START + 60 * np.array(keep)) * 1_000_000).astype("datetime64[us]"), name="timestamp")
    base = np.array(keep, dtype="float64")
    return pd.DataFrame({"open": 100 + base, "high": 102 + base, "low": 99 + base, "close": 101 + base,
                         "volume": 10 + base}, index=index)


DAMAGE = {  # kind → (damaged line, reason in the report)
    "extra field": (f"{START + 7},1,2,0.5,1.5,3,99", "too many fields"),
    "short row": (f"{START + 7},1,2", "too few fields"),
    "unclosed quote": (f'{START + 7},"1,2,0.5,1.5,3', "unclosed quote"),
    "repeated header": (HEADER, "the header repeated"),
    "NUL byte": (f"{START + 7},1,2\x00,0.5,1.5,3", "NUL byte in the line"),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
@pytest.mark.parametrize("where", [0, N // 2, N])
def test_damaged_line_costs_only_itself(kind, where):
    bad, reason = DAMAGE[kind]
    rows = good_rows()
    lines = [HEADER, *rows[:where], bad, *rows[where:]]
    data = load_candles(("\n".join(lines) + "\n").encode())
    pd.testing.assert_frame_equal(data.frame, expected_frame(), check_freq=False)
    line = where + 2  # 1-based, after the header
    assert data.report.dropped == {reason: 1}
    assert data.report.dropped_lines == [(line, reason)]
    assert (data.report.rows_read, data.report.rows_kept) == (N + 1, N)
    assert dict(data.report.as_table())["rows dropped"] == f"1 {reason} (line {line})"
    assert any(f"line {line}" in note for note in data.report.notes)


@pytest.mark.parametrize("header", [True, False])
def test_several_damaged_lines_each_named(header):
    rows = good_rows()
    rows[3] = f"{START + 180},1,2"                      # too few fields
    rows[10] = f'{START + 600},"1,2,0.5,1.5,3'          # unclosed quote
    rows[20] = f"{START + 1200},1,2,0.5,1.5,3,4"         # too many fields
    rows[25] = f"{START + 1500},abc,2,0.5,1.5,3"         # right shape, not a price
    lines = ([HEADER] if header else []) + rows
    data = load_candles(("\n".join(lines) + "\n").encode())
    pd.testing.assert_frame_equal(data.frame, expected_frame(skip=(3, 10, 20, 25)), check_freq=False)
    first = 2 if header else 1
    assert data.report.dropped == {"too few fields": 1, "unclosed quote": 1, "too many fields": 1,
                                   "missing or non-numeric price": 1}
    assert data.report.dropped_lines == [(first + 3, "too few fields"), (first + 10, "unclosed quote"),
                                         (first + 20, "too many fields"), (first + 25, "missing or non-numeric price")]


def test_blank_lines_lose_nothing():
    rows = good_rows()
    lines = [HEADER, "", *rows[:10], "", "", *rows[10:], ""]
    data = load_candles(("\n".join(lines) + "\n").encode())
    pd.testing.assert_frame_equal(data.frame, expected_frame(), check_freq=False)
    assert data.report.dropped == {}


def test_unclosed_quote_does_not_swallow_a_large_file():
    rows = good_rows(5000)
    rows[100] = f'{START + 6000},"1,2,0.5,1.5,3'
    data = load_candles(("\n".join([HEADER, *rows]) + "\n").encode())
    assert len(data.frame) == 4999 and data.report.dropped_lines == [(102, "unclosed quote")]


def test_more_than_five_damaged_lines_lists_the_first_five():
    rows = good_rows(60)
    for i in (2, 4, 6, 8, 10, 12, 14):
        rows[i] = f"{START + 60 * i},1,2"
    data = load_candles(("\n".join([HEADER, *rows]) + "\n").encode())
    pd.testing.assert_frame_equal(data.frame, expected_frame(60, skip=(2, 4, 6, 8, 10, 12, 14)), check_freq=False)
    assert data.report.dropped == {"too few fields": 7}
    assert [line for line, _ in data.report.dropped_lines] == [4, 6, 8, 10, 12]
    assert dict(data.report.as_table())["rows dropped"] == "7 too few fields (lines 4, 6, 8, 10, 12 …)"


DAMAGED_LINES = st.sampled_from([d for d, _ in DAMAGE.values()] + ["", "   ", "garbage", ",,,,,", '"', "1,2,3,4,5,6,7,8"])


@FAST
@given(where=st.integers(0, N), bad=DAMAGED_LINES, header=st.booleans(), sep=st.sampled_from([",", ";", "|", "\t"]))
def test_one_damaged_line_anywhere_never_changes_the_other_rows(where, bad, header, sep):
    rows = good_rows()
    lines = ([HEADER] if header else []) + rows[:where] + [bad] + rows[where:]
    data = load_candles(("\n".join(line.replace(",", sep) for line in lines) + "\n").encode())
    pd.testing.assert_frame_equal(data.frame, expected_frame(), check_freq=False)
    assert data.report.rows_kept == N and sum(data.report.dropped.values()) <= 1


def iso_rows() -> list[str]:
    """The same candles with ISO text times: the line-by-line scan's plain (not vectorised) path."""
    return [f"{pd.Timestamp(int(r.split(',')[0]), unit='s'):%Y-%m-%d %H:%M:%S}," + r.split(",", 1)[1] for r in good_rows()]


@FAST
@given(where=st.integers(0, N), bad=DAMAGED_LINES, newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_one_damaged_line_among_text_dates_never_changes_the_other_rows(where, bad, newline):
    rows = iso_rows()
    lines = [HEADER, *rows[:where], bad, *rows[where:]]
    data = load_candles((newline.join(lines) + newline).encode())
    pd.testing.assert_frame_equal(data.frame, expected_frame(), check_freq=False)
    assert data.report.rows_kept == N and sum(data.report.dropped.values()) <= 1
    assert all(line == where + 2 for line, _ in data.report.dropped_lines)


# Mixed unix-time units: each value by its size, or refused; never a 1970 or far-future date.
def mixed_file(times: list[int]) -> bytes:
    return ("\n".join([HEADER] + [f"{t},1,2,0.5,1.5,3" for t in times]) + "\n").encode()


@pytest.mark.parametrize("scales", [(1, 1000), (1000, 1), (1, 1_000_000), (1000, 1_000_000), (1_000_000, 1000),
                                    (1, 1_000_000_000)])
def test_mixed_units_each_value_read_by_its_size(scales):
    seconds = [START + 60 * i for i in range(20)]
    times = [t * scales[0] for t in seconds[:7]] + [t * scales[1] for t in seconds[7:]]
    data = load_candles(mixed_file(times))
    np.testing.assert_array_equal(data.frame.index.to_numpy(),
                                  (np.array(seconds) * 1_000_000).astype("datetime64[us]"))
    assert "each value read by its size" in data.report.time_unit
    assert any("mixes units" in note for note in data.report.notes)


def test_mixed_units_with_a_missing_time_drop_only_that_row():
    seconds = [START + 60 * i for i in range(20)]
    lines = [f"{t if i < 7 else t * 1000},1,2,0.5,1.5,3" for i, t in enumerate(seconds)]
    lines[12] = ",1,2,0.5,1.5,3"
    data = load_candles(("\n".join([HEADER, *lines]) + "\n").encode())
    assert data.frame.index.tolist() == [pd.Timestamp(t, unit="s") for i, t in enumerate(seconds) if i != 12]
    assert data.report.dropped_lines == [(14, "unreadable or missing time")]


def test_mixed_units_with_a_value_that_fits_none_is_refused():
    times = [START + 60 * i for i in range(10)] + [(START + 60 * i) * 1000 for i in range(10, 20)] + [5 * 10**10]
    with pytest.raises(CandleFormatError, match=r"mixes units \(seconds and milliseconds\).*50000000000.*cannot tell"):
        load_candles(mixed_file(times))


@pytest.mark.parametrize("stray", [0, 5_000_000, 10**10, 9 * 10**12, -START * 1000])
def test_stray_time_in_one_unit_is_dropped_never_1970_or_far_future(stray):
    times = [(START + 60 * i) * 1000 for i in range(20)]
    times[10] = stray
    data = load_candles(mixed_file(times))
    assert len(data.frame) == 19 and data.report.dropped_lines == [(12, "unreadable or missing time")]
    assert data.frame.index.min().year == 2020 and data.frame.index.max().year == 2020


# A Date order the data contradicts is said, not silently overridden.
def test_date_order_contradicted_by_the_data_is_refused():
    raw = b"Date,Open,High,Low,Close\n01/13/2020,1,2,0.5,1.5\n01/14/2020,1,2,0.5,1.5\n"
    assert load_candles(raw).frame.index[0] == pd.Timestamp("2020-01-13")
    assert load_candles(raw, dayfirst=False).frame.index[0] == pd.Timestamp("2020-01-13")
    with pytest.raises(CandleFormatError, match="You asked for D/M/Y.*'01/13/2020' are impossible.*M/D/Y"):
        load_candles(raw, dayfirst=True)


def test_date_order_contradicted_by_part_of_the_data_is_refused():
    days = [f"{d:02d}/01/2020" for d in range(1, 13)] + ["13/01/2020"]  # one value only fits day-first
    raw = ("Date,Open,High,Low,Close\n" + "".join(f"{d},1,2,0.5,1.5\n" for d in days)).encode()
    assert len(load_candles(raw, dayfirst=True).frame) == 13
    with pytest.raises(CandleFormatError, match="You asked for M/D/Y.*'13/01/2020'.*D/M/Y"):
        load_candles(raw, dayfirst=False)
