"""Loader options (sep, nrows, names, dayfirst), sources (path, bytes, upload), large files, the tensor."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from explorer.data.loader import COLUMNS, human_interval, load_candles
from explorer.tensors import candles_to_tensor
from explorer.data.sample import SAMPLE_PATH, generate_candles, to_seed_format

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "candles"
SEED_NAMES = ["timestamp", "open", "high", "low", "close", "volume"]


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return generate_candles(3000)


def test_bundled_sample_like_the_seed():
    """The seed's read_csv(sep='|', nrows=1000, header=None, names=…) and to_datetime(unit='s'), exactly."""
    data = load_candles(SAMPLE_PATH, sep="|", nrows=1000, names=SEED_NAMES)
    seed = pd.read_csv(SAMPLE_PATH, sep="|", nrows=1000, header=None, usecols=range(6), names=SEED_NAMES)
    seed["timestamp"] = pd.to_datetime(seed["timestamp"], unit="s")
    pd.testing.assert_frame_equal(data.frame, seed.set_index("timestamp"), check_freq=False)
    assert data.report.rows_read == 1000


def test_sample_generator_round_trip(candles):
    data = load_candles(to_seed_format(candles).encode())
    pd.testing.assert_frame_equal(data.frame, candles, check_freq=False)
    assert data.report.interval == pd.Timedelta(minutes=1) and data.report.inconsistent_rows == 0


@pytest.mark.parametrize("nrows", [1, 7, 1000, 2500, 5000])
def test_nrows_from_path_bytes_and_upload(tmp_path, candles, nrows):
    path = tmp_path / "c.csv"
    path.write_text(to_seed_format(candles))
    expected = candles.iloc[:nrows]
    for source in (path, path.read_bytes(), io.BytesIO(path.read_bytes())):
        data = load_candles(source, nrows=nrows)
        pd.testing.assert_frame_equal(data.frame, expected, check_freq=False)
        assert data.report.rows_read == min(nrows, len(candles))


def test_nrows_counts_data_rows_after_banner_and_header():
    data = load_candles(FIXTURES / "banner.csv", nrows=2)
    assert data.frame.index[-1] == pd.Timestamp("2017-08-17 04:01:00") and len(data.frame) == 2


def test_upload_like_object():
    class Upload(io.BytesIO):
        name = "my candles.csv"
    data = load_candles(Upload((FIXTURES / "comma_header.csv").read_bytes()))
    assert data.report.source == "my candles.csv" and len(data.frame) == 4


def test_given_names_override_header_words():
    data = load_candles(FIXTURES / "seed_pipe.csv", names=["Date", "o", "h", "l", "c", "v"])
    assert data.report.columns == "time ← Date, open ← o, high ← h, low ← l, close ← c, volume ← v"
    assert data.report.format.startswith("the seed's format")
    assert load_candles(FIXTURES / "comma_header.csv", names=["Date", "o", "h", "l", "c", "v"]).report.format == (
        "CSV with a header row; columns named by you")


def test_fewer_names_than_columns_uses_the_first_ones():
    data = load_candles(FIXTURES / "binance_noheader.csv", names=SEED_NAMES)
    assert data.frame.iloc[0].tolist() == [4261.48, 4262.4, 4259.67, 4260.24, 0.111082]


def test_whitespace_separator_option():
    data = load_candles(FIXTURES / "space_aligned.txt", sep=r"\s+")
    assert data.report.separator == " " and len(data.frame) == 4


def test_utf8_bom_and_latin1():
    raw = (FIXTURES / "comma_header.csv").read_bytes()
    assert len(load_candles(b"\xef\xbb\xbf" + raw).frame) == 4
    latin = "Zeit,Eröffnung,open,high,low,close,volume\n".encode("latin-1") + b"1502942400,1,1,2,0.5,1.5,3\n"
    data = load_candles(latin)
    assert data.frame.iloc[0].tolist() == [1.0, 2.0, 0.5, 1.5, 3.0]
    assert any("Latin-1" in n for n in data.report.notes)
    assert any("'Zeit' was recognised by its values" in n for n in data.report.notes)


BIG_ROWS = 300_000  # ~13 MB: damage at row 250,000 lands far beyond pyarrow's first (type-inference) block


@pytest.fixture(scope="module")
def big_file() -> tuple[list[str], pd.DataFrame]:
    """Lines of a 300k-row seed-format file with one repeated candle, and the frame it should load as."""
    seconds = 1502942400 + 60 * np.arange(BIG_ROWS)
    lines = [f"{t}|4261.48|4262.4|4259.67|4260.24|0.111082" for t in seconds.tolist()]
    index = pd.DatetimeIndex(seconds.astype("datetime64[s]").astype("datetime64[us]"), name="timestamp")
    row = np.array([4261.48, 4262.4, 4259.67, 4260.24, 0.111082])
    frame = pd.DataFrame(np.tile(row, (BIG_ROWS, 1)), columns=COLUMNS, index=index)
    return lines, frame


def assert_same_candles(frame: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Exact equality, compared as arrays (assert_frame_equal walks big DatetimeIndexes element by element)."""
    assert list(frame.columns) == list(expected.columns) and frame.index.dtype == expected.index.dtype
    np.testing.assert_array_equal(frame.index.to_numpy(), expected.index.to_numpy())
    np.testing.assert_array_equal(frame.to_numpy(), expected.to_numpy())


def test_stray_text_deep_in_a_large_file(big_file):
    lines, big = list(big_file[0]), big_file[1]
    lines[250_000] = lines[250_000].split("|")[0] + "|oops|1|1|1|1"
    lines[260_000] = "garbage line without separators"
    data = load_candles(("\n".join(lines) + "\n").encode())
    assert data.report.dropped == {"missing or non-numeric price": 1, "too few fields": 1}
    assert data.report.dropped_lines == [(250_001, "missing or non-numeric price"), (260_001, "too few fields")]
    assert data.report.rows_read == len(big) and data.report.rows_kept == len(big) - 2
    assert data.report.gaps == 2 and data.report.missing_candles == 2
    assert_same_candles(data.frame, big.drop(big.index[[250_000, 260_000]]))


def test_large_file_with_unsorted_duplicates(big_file):
    lines, big = big_file
    lines = lines[1000:] + lines[:1000] + lines[500:510]  # out of order, 10 duplicates at the end
    data = load_candles(("\n".join(lines) + "\n").encode())
    assert_same_candles(data.frame, big)
    assert data.report.duplicates == 10 and data.report.order == "not in time order in the file; sorted ascending"


def test_to_tensor_is_the_seeds_conversion():
    frame = load_candles(FIXTURES / "seed_pipe.csv").frame
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a read-only array would make torch warn
        tensor = candles_to_tensor(frame)
        candles_to_tensor(frame.head(2))  # pandas 3's head() is a read-only block: the copy keeps torch quiet
    expected = torch.tensor(frame.to_numpy(), dtype=torch.float64).to(torch.float32)
    assert tensor.dtype == torch.float32 and tensor.shape == (4, 5)
    assert torch.equal(tensor, expected)
    assert tensor[0, 0].item() == np.float32(4261.48)


def test_frame_columns_are_exactly_ohlcv():
    assert COLUMNS == ["open", "high", "low", "close", "volume"]


@pytest.mark.parametrize("step, text", [(pd.Timedelta(minutes=1), "1 min"), (pd.Timedelta(minutes=15), "15 min"),
                                        (pd.Timedelta(hours=4), "4 h"), (pd.Timedelta(days=1), "1 day"),
                                        (pd.Timedelta(seconds=90), "90 s"), (None, "unknown (fewer than two candles)")])
def test_human_interval(step, text):
    assert human_interval(step) == text


@pytest.mark.parametrize("text, expected, unit, zone", [
    ("2017-08-17 04:00:00 UTC", "2017-08-17 04:00", "text, ISO 8601", "UTC ('UTC' in the values)"),
    ("2017-08-17 04:00 GMT", "2017-08-17 04:00", "text, ISO 8601", "UTC ('GMT' in the values)"),
    ("2017-08-17T04:00Z", "2017-08-17 04:00", "text, ISO 8601", "UTC ('Z' in the values)"),
    ("2017-08-17 06:00:00+0200", "2017-08-17 04:00", "text, ISO 8601", "UTC offsets +0200 converted to UTC"),
    ("2017-08-17", "2017-08-17 00:00", "text, ISO 8601", "none stated; taken as UTC"),
    ("20170817 04:00", "2017-08-17 04:00", "text, YYYYMMDD (%Y%m%d %H:%M)", "none stated; taken as UTC"),
    ("20170817", "2017-08-17 00:00", "text, YYYYMMDD (%Y%m%d)", "none stated; taken as UTC"),
    ("2017.08.17 04:00", "2017-08-17 04:00", "text, Y.M.D (%Y.%m.%d %H:%M)", "none stated; taken as UTC"),
    ("17.08.2017 04:00:00", "2017-08-17 04:00", "text, D.M.Y (%d.%m.%Y %H:%M:%S)", "none stated; taken as UTC"),
    ("8/17/2017 4:00 AM", "2017-08-17 04:00", "text, M/D/Y (%m/%d/%Y %I:%M %p)", "none stated; taken as UTC"),
    ("2017-08-17 04-AM", "2017-08-17 04:00", "text, Y-M-D (%Y-%m-%d %I-%p)", "none stated; taken as UTC"),
    ("1502942400123456789", "2017-08-17 04:00:00.123456", "unix nanoseconds",
     "UTC (unix time counts from 1970-01-01 UTC)"),
])
def test_one_row_time_spellings(text, expected, unit, zone):
    data = load_candles(f"Date (UTC),open,high,low,close,volume\n{text},1,2,0.5,1.5,3\n".encode())
    assert data.frame.index[0] == pd.Timestamp(expected)
    assert (data.report.time_unit, data.report.timezone) == (unit, zone)
    assert data.report.interval is None and dict(data.report.as_table())["candle interval"].startswith("unknown")


def test_date_only_column_is_not_glued_to_prices():
    data = load_candles(b"Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,3\n2020-01-03,2,3,1,2.5,4\n")
    assert data.report.columns.startswith("time ← Date, open ← Open")
    assert data.report.interval == pd.Timedelta(days=1)


def test_stray_zero_time_is_dropped_not_read_as_1970():
    raw = b"timestamp,open,high,low,close,volume\n1502942400,1,2,0.5,1.5,3\n0,1,2,0.5,1.5,3\n1502942460,1,2,0.5,1.5,3\n"
    data = load_candles(raw)
    assert data.frame.index.tolist() == [pd.Timestamp("2017-08-17 04:00"), pd.Timestamp("2017-08-17 04:01")]
    assert data.report.dropped == {"unreadable or missing time": 1}


def test_footer_line_skipped_and_counted():
    raw = b"timestamp,open,high,low,close,volume\n1502942400,1,2,0.5,1.5,3\n1502942460,1,2,0.5,1.5,3\nTotal rows: 2\n"
    data = load_candles(raw)
    assert len(data.frame) == 2 and data.report.separator == ","
    assert data.report.dropped == {"too few fields": 1} and data.report.dropped_lines == [(4, "too few fields")]


@pytest.mark.parametrize("text", ['"Aug 17, 2017"', "17 Aug 2017", "17-Aug-2017"])
def test_month_names(text):
    data = load_candles(f"Date,Open,High,Low,Close\n{text},1,2,0.5,1.5\n".encode())
    assert data.frame.index[0] == pd.Timestamp("2017-08-17")


def test_nrows_with_old_mac_line_endings():
    raw = b"timestamp,open,high,low,close,volume\r" + b"".join(
        f"{1502942400 + 60 * i},1,2,0.5,1.5,3\r".encode() for i in range(5))
    data = load_candles(raw, nrows=2)
    assert len(data.frame) == 2 and data.report.rows_read == 2


def test_candle_data_pickles_for_st_cache_data():
    import pickle
    data = load_candles(FIXTURES / "banner.csv")
    again = pickle.loads(pickle.dumps(data))
    pd.testing.assert_frame_equal(again.frame, data.frame)
    assert again.report == data.report


def test_line_count_matches_pyarrow_despite_unicode_line_separators():
    raw = "Export\u2028by tool\nDate,Open,High,Low,Close\n2017-08-17 04:00,1,2,0.5,1.5\n".encode()
    data = load_candles(raw)
    assert data.report.banner_lines == ["Export\u2028by tool"] and len(data.frame) == 1


def test_text_to_numbers():
    from explorer.data.timeparse import to_numbers
    got = to_numbers(pd.Series(["4,261.48", "1.5K", "2M", "0.5B", "null", "abc", "-3"])).tolist()
    np.testing.assert_array_equal(got, [4261.48, 1500.0, 2e6, 5e8, np.nan, np.nan, -3.0])
    assert to_numbers(pd.Series(["1,5", "2,25"])).isna().all()  # decimal commas are never guessed
    assert to_numbers(pd.Series(["1502942400", "1502942460"])).dtype == np.int64


@pytest.mark.parametrize("name", ["seed_pipe.csv", "iso_minutes.csv", "missing_prices.csv", "newest_first.csv",
                                  "no_volume.csv", "space_aligned.txt"])
def test_frame_can_be_edited_in_place(name):
    first, second = load_candles(FIXTURES / name).frame, load_candles(FIXTURES / name).frame
    first.iloc[0, 0] = -1.0
    first["close"] += 1.0
    first.loc[first.index[-1], "volume"] = 7.0
    assert first.iloc[0, 0] == -1.0 and first["volume"].iloc[-1] == 7.0
    assert second.iloc[0, 0] != -1.0  # two loads never share memory
