"""The loader on the fixture corpus: one small hand-written file per real-world quirk, exact expectations."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.data.loader import COLUMNS, CandleData, load_candles

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "candles"
FIRST = [4261.48, 4262.4, 4259.67, 4260.24, 0.111082]   # 2017-08-17 04:00 UTC, the seed's first minute
LAST = [4265.08, 4266.0, 4262.1, 4263.5, 1.5]           # 2017-08-17 04:03 UTC
T0, T3 = "2017-08-17 04:00:00", "2017-08-17 04:03:00"
BIG = [100.0, 101.0, 99.0, 100.5, 10.0]
BIG_LAST = [102.5, 104.0, 102.0, 103.5, 13.0]
HOURLY_FIRST = [10080.0, 10110.0, 10060.0, 10100.0, 9.0]
HOURLY_LAST = [10150.0, 10200.0, 10100.0, 10180.0, 12.5]

# file: (rows, first timestamp, last timestamp, first row values, last row values)
CASES = {
    "seed_pipe.csv": (4, T0, T3, FIRST, LAST),
    "comma_header.csv": (4, T0, T3, FIRST, LAST),
    "semicolon.csv": (4, T0, T3, FIRST, LAST),
    "tab.tsv": (4, T0, T3, FIRST, LAST),
    "space_aligned.txt": (4, T0, T3, FIRST, LAST),
    "space_datetime.txt": (4, T0, T3, FIRST, LAST),
    "quoted.csv": (4, T0, T3, FIRST, LAST),
    "crlf.csv": (4, T0, T3, FIRST, LAST),
    "no_final_newline.csv": (4, T0, T3, FIRST, LAST),
    "index_column.csv": (4, T0, T3, FIRST, LAST),
    "index_column_noheader.csv": (4, T0, T3, FIRST, LAST),
    "trailing_comma.csv": (4, T0, T3, FIRST, LAST),
    "banner.csv": (4, T0, T3, FIRST, LAST),
    "binance_noheader.csv": (4, T0, T3, FIRST, LAST),
    "binance_header.csv": (4, T0, T3, FIRST, LAST),
    "header_integers.csv": (4, T0, T3, FIRST, LAST),
    "unix_ms.csv": (4, T0, T3, FIRST, LAST),
    "unix_us.csv": (4, T0, T3, FIRST, LAST),
    "float_seconds.csv": (4, T0, "2017-08-17 04:03:00.250", FIRST, LAST),
    "iso_minutes.csv": (4, T0, T3, FIRST, LAST),
    "iso_fraction.csv": (4, T0, "2017-08-17 04:03:00.500", FIRST, LAST),
    "iso_offset_plus.csv": (4, T0, T3, FIRST, LAST),
    "iso_offset_dst.csv": (4, "2020-03-08 05:00", "2020-03-08 08:00", BIG, BIG_LAST),
    "mdy.csv": (4, "2020-01-12 09:30", "2020-01-15 09:30", BIG, BIG_LAST),
    "dmy.csv": (4, "2020-01-12 09:30", "2020-01-15 09:30", BIG, BIG_LAST),
    "dmy_regular.csv": (5, "2020-02-01 22:00", "2020-02-02 02:00", BIG, [103.5, 105.0, 103.0, 104.5, 14.0]),
    "twelve_hour.csv": (4, "2020-09-05 12:00", "2020-09-05 15:00", HOURLY_FIRST, HOURLY_LAST),
    "twelve_hour_only.csv": (4, "2020-09-05 11:00", "2020-09-05 14:00", HOURLY_FIRST, HOURLY_LAST),
    "column_order.csv": (4, T0, T3, FIRST, LAST),
    "bitstamp.csv": (4, T0, T3, FIRST, LAST),
    "yahoo.csv": (4, "2020-01-02", "2020-01-07", [100.0, 101.0, 99.0, 100.5, 1000.0],
                  [102.5, 104.0, 102.0, 103.5, 1300.0]),
    "date_time_columns.csv": (4, T0, T3, FIRST, LAST),
    "close_time_only.csv": (4, "2017-08-17 04:00:59.999", "2017-08-17 04:03:59.999", FIRST, LAST),
    "newest_first.csv": (4, T0, T3, FIRST, LAST),
    "duplicates.csv": (4, T0, T3, FIRST, LAST),
    "missing_prices.csv": (3, T0, "2017-08-17 04:05:00", FIRST, [4263.5, 4265.0, 4262.0, 4264.0, 0.7]),
    "no_volume.csv": (4, T0, T3, FIRST[:4] + [0.0], LAST[:4] + [0.0]),
    "gaps.csv": (6, T0, "2017-08-17 04:08:00", FIRST, [4262.0, 4263.0, 4260.0, 4261.0, 0.7]),
    "inconsistent_ohlc.csv": (4, T0, T3, FIRST, LAST),
    "investing.csv": (4, "2017-08-17", "2017-08-20", [4261.48, 4485.39, 4200.74, 4285.08, 1_210_000.0],
                      [4182.04, 4204.06, 4071.57, 4088.69, 3270.0]),
    "metatrader.tsv": (4, T0, T3, FIRST, LAST),
}


def load(name: str, **options) -> CandleData:
    return load_candles(FIXTURES / name, **options)


def assert_clean_frame(frame: pd.DataFrame) -> None:
    """The contract every loaded frame meets."""
    assert list(frame.columns) == COLUMNS
    assert all(dtype == np.float64 for dtype in frame.dtypes)
    assert frame.index.name == "timestamp"
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.tz is None
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert not frame["volume"].isna().any()


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_loads_exactly(name):
    rows, first, last, first_values, last_values = CASES[name]
    data = load(name)
    frame = data.frame
    assert_clean_frame(frame)
    assert len(frame) == rows == data.report.rows_kept
    assert frame.index[0] == pd.Timestamp(first)
    assert frame.index[-1] == pd.Timestamp(last)
    assert frame.iloc[0].tolist() == first_values
    assert frame.iloc[-1].tolist() == last_values


def test_every_fixture_file_is_covered():
    files = {p.name for p in FIXTURES.iterdir() if not p.name.startswith(".")}
    from tests.unit.test_loader_errors import ERRORS
    assert files == set(CASES) | set(ERRORS)


def test_seed_format_report():
    report = load("seed_pipe.csv", sep="|", names=["timestamp", "open", "high", "low", "close", "volume"]).report
    assert report.format.startswith("the seed's format")
    assert (report.separator, report.header, report.time_unit) == ("|", False, "unix seconds")
    assert report.time_column == "timestamp"
    assert report.interval == pd.Timedelta(minutes=1) and report.gaps == 0
    assert (report.rows_read, report.rows_kept, report.dropped, report.duplicates) == (4, 4, {}, 0)
    assert dict(report.as_table())["candle interval"] == "1 min"


def test_seed_row_is_2017_08_17_0400_utc():
    data = load_candles(b"1502942400|4261.48|4261.48|4261.48|4261.48|1.775183\n", sep="|",
                        names=["timestamp", "open", "high", "low", "close", "volume"])
    assert data.frame.index[0] == pd.Timestamp("2017-08-17 04:00:00")
    assert data.frame.iloc[0].tolist() == [4261.48] * 4 + [1.775183]


@pytest.mark.parametrize("name, sep", [("seed_pipe.csv", "|"), ("comma_header.csv", ","), ("semicolon.csv", ";"),
                                       ("tab.tsv", "\t"), ("space_aligned.txt", " ")])
def test_separator_detected(name, sep):
    assert load(name).report.separator == sep


@pytest.mark.parametrize("name, header", [("seed_pipe.csv", False), ("comma_header.csv", True),
                                          ("binance_noheader.csv", False), ("header_integers.csv", True)])
def test_header_detected(name, header):
    assert load(name).report.header is header


@pytest.mark.parametrize("name, unit", [
    ("seed_pipe.csv", "unix seconds"), ("unix_ms.csv", "unix milliseconds"), ("unix_us.csv", "unix microseconds"),
    ("float_seconds.csv", "unix seconds (with fractions)"), ("iso_minutes.csv", "text, ISO 8601"),
    ("mdy.csv", "text, M/D/Y (%m/%d/%Y %H:%M)"), ("dmy.csv", "text, D/M/Y (%d/%m/%Y %H:%M)"),
    ("twelve_hour_only.csv", "text, Y-M-D (%Y-%m-%d %I-%p)"), ("date_time_columns.csv", "text, Y.M.D (%Y.%m.%d %H:%M)"),
])
def test_time_unit_reported(name, unit):
    assert load(name).report.time_unit == unit


def test_banner_lines_skipped_and_reported():
    report = load("banner.csv").report
    assert report.banner_lines == ["https://www.CryptoDataDownload.com", "Data from Binance, minute candles"]
    assert report.time_column == "unix" and report.time_unit == "unix milliseconds"
    assert "volume ← Volume BTC" in report.columns
    assert "Several volume columns: used 'Volume BTC' (base currency), not 'Volume USDT'." in report.notes
    assert report.format == "CSV with a header row; columns matched by name"


def test_binance_layout_without_and_with_header():
    assert load("binance_header.csv").report.format.startswith("Binance klines")
    assert load("binance_noheader.csv").report.columns == (
        "time ← column 1, open ← column 2, high ← column 3, low ← column 4, close ← column 5, volume ← column 6")
    assert load("header_integers.csv").report.columns == "time ← 0, open ← 1, high ← 2, low ← 3, close ← 4, volume ← 5"
    for name in ("binance_noheader.csv", "header_integers.csv"):
        assert load(name).report.format.startswith("Binance klines")


def test_trailing_separator_and_index_column():
    assert any("empty extra column" in n for n in load("trailing_comma.csv").report.notes)
    assert load("index_column.csv").report.time_column == "timestamp"
    assert any("skipping column 1" in n for n in load("index_column_noheader.csv").report.notes)


def test_utc_offsets_converted():
    plus = load("iso_offset_plus.csv").report
    assert plus.timezone == "UTC offsets +01:00 converted to UTC"
    dst = load("iso_offset_dst.csv")
    assert dst.report.timezone == "UTC offsets -04:00, -05:00 converted to UTC"
    assert any("daylight saving" in n for n in dst.report.notes)
    # 00:00-05:00, 01:00-05:00, 03:00-04:00, 04:00-04:00 are four consecutive UTC hours.
    assert (dst.frame.index.to_series().diff().dropna() == pd.Timedelta(hours=1)).all()
    assert load("iso_fraction.csv").report.timezone == "UTC ('Z' in the values)"


def test_date_order_decided_and_explained():
    assert "impossible as D/M/Y" in " ".join(load("mdy.csv").report.notes)
    assert "impossible as M/D/Y" in " ".join(load("dmy.csv").report.notes)
    notes = " ".join(load("dmy_regular.csv").report.notes)
    assert "Date order decided as D/M/Y" in notes and "evenly spaced" in notes


def test_dayfirst_option_settles_undecidable_dates():
    assert load("dates_undecidable.csv", dayfirst=True).frame.index[0] == pd.Timestamp("2020-02-01 10:00")
    assert load("dates_undecidable.csv", dayfirst=False).frame.index[0] == pd.Timestamp("2020-01-02 10:00")


def test_column_names_in_any_order_adj_close_and_extras_ignored():
    report = load("column_order.csv").report
    assert report.columns == "time ← Date, open ← Open, high ← High, low ← Low, close ← Close, volume ← Vol"
    yahoo = load("yahoo.csv").frame
    assert yahoo["close"].tolist() == [100.5, 101.5, 102.5, 103.5]  # not the Adj Close column
    assert "volume ← Volume_(BTC)" in load("bitstamp.csv").report.columns


def test_close_time_only_said_in_report():
    report = load("close_time_only.csv").report
    assert report.time_column == "Close time"
    assert any("Only a close time" in n for n in report.notes)


def test_newest_first_sorted():
    report = load("newest_first.csv").report
    assert report.order == "newest first in the file; reversed to ascending"
    assert any("newest first" in n for n in report.notes)


def test_duplicates_keep_last_and_counted():
    data = load("duplicates.csv")
    assert data.report.duplicates == 2
    assert data.frame.loc["2017-08-17 04:01"].tolist() == [4260.24, 4271.87, 4258.54, 4267.16, 2.888373]
    assert (data.report.rows_read, data.report.rows_kept) == (6, 4)


def test_missing_and_null_prices_dropped_and_counted():
    report = load("missing_prices.csv").report
    assert report.dropped == {"missing or non-numeric price": 3}
    assert (report.rows_read, report.rows_kept) == (6, 3)
    assert dict(report.as_table())["rows dropped"] == "3 missing or non-numeric price (lines 3, 4, 6)"


def test_no_volume_column_loads_with_zero_volume_and_a_note():
    data = load("no_volume.csv")
    assert (data.frame["volume"] == 0.0).all()
    assert "volume ← (none)" in data.report.columns
    assert any("No volume column" in n for n in data.report.notes)


def test_interval_and_gaps():
    report = load("gaps.csv").report
    # steps: 1, 3, 1, 1, 2 minutes → interval 1 min, two gaps, 2 + 1 missing candles
    assert report.interval == pd.Timedelta(minutes=1)
    assert (report.gaps, report.missing_candles) == (2, 3)
    assert dict(report.as_table())["gaps in the series"] == "2 (3 missing candles)"
    assert load("twelve_hour.csv").report.interval == pd.Timedelta(hours=1)


def test_inconsistent_rows_flagged_not_changed():
    data = load("inconsistent_ohlc.csv")
    assert data.report.inconsistent_rows == 2
    assert data.report.inconsistent_examples == ["2017-08-17 04:01:00", "2017-08-17 04:02:00"]
    assert data.frame.iloc[1].tolist() == [4260.24, 4265.0, 4258.54, 4267.16, 2.888373]  # high < close kept


def test_report_table_lists_every_item_the_issue_asks_for():
    items = dict(load("banner.csv").report.as_table())
    for key in ("format detected", "separator", "header row", "time column", "time zone", "rows read / kept",
                "rows dropped", "duplicate timestamps", "candle interval", "gaps in the series",
                "rows with high/low outside open/close", "lines before the table", "columns used"):
        assert key in items
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in load("seed_pipe.csv").report.as_table())


@pytest.mark.parametrize("time_name", ["Open time", "Date", "Datetime", "Timestamp", "Unix", "time", "open_time",
                                       "Date(UTC)", "Timestamp (UTC)"])
@pytest.mark.parametrize("volume_name", ["Volume", "vol", "Vol", "Volume BTC", "Volume_(BTC)"])
def test_common_spellings(time_name, volume_name):
    raw = (f"Adj Close,{volume_name},Close,Low,High,Open,{time_name}\n"
           "9.9,3,1.5,0.5,2,1,1502942400\n9.9,4,2.5,1.5,3,2,1502942460\n").encode()
    data = load_candles(raw)
    assert data.report.columns == (f"time ← {time_name}, open ← Open, high ← High, low ← Low, close ← Close, "
                                   f"volume ← {volume_name}")
    assert data.frame.iloc[-1].tolist() == [2.0, 3.0, 1.5, 2.5, 4.0]


def test_investing_com_export():
    report = load("investing.csv").report
    assert report.columns.endswith("close ← Price, volume ← Vol.")
    assert "No 'Close' column: 'Price' is used as the close price." in report.notes
    assert report.interval == pd.Timedelta(days=1) and report.time_unit == "text, Mon D, Y (%b %d, %Y)"


def test_metatrader_export():
    report = load("metatrader.tsv").report
    assert report.columns.startswith("time ← <DATE> + <TIME>, open ← <OPEN>")
    assert report.columns.endswith("volume ← <VOL>") and report.separator == "\t"


def test_report_lists_the_columns_it_ignored():
    """A column the loader does not read is named in the report, not dropped in silence."""
    raw = ("Adj Close,Volume,Close,Low,High,Open,Date,Trades\n"
           "9.9,3,1.5,0.5,2,1,1502942400,7\n9.9,4,2.5,1.5,3,2,1502942460,8\n").encode()
    report = load_candles(raw).report
    items = dict(report.as_table())
    assert items["columns ignored"] == "Adj Close, Trades"
    assert dict(load("binance_header.csv").report.as_table())["columns ignored"] == (
        "Close time, Quote asset volume, Number of trades, Taker buy base asset volume, Taker buy quote asset volume, "
        "Ignore")
    assert load("metatrader.tsv").report.ignored == "<TICKVOL>, <SPREAD>"
    assert load("seed_pipe.csv").report.ignored == "none"  # every column read
