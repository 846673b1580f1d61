"""Bad input gives a CandleFormatError (a ValueError) whose message names the problem in plain words."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from explorer.data.loader import CandleFormatError, load_candles

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "candles"

# file: words the message must contain
ERRORS = {
    "empty.csv": "The file is empty",
    "blank_lines.csv": "The file is empty",
    "binary.png": "binary data",
    "no_time_column.csv": "No time column found",
    "no_price_columns.csv": "No price columns for open, high, low, close",
    "prices_not_numbers.csv": "The open column holds values like 'abc' that are not numbers",
    "all_rows_invalid.csv": "No valid candles: all 3 rows were dropped (3 missing or non-numeric price (lines 2, 3, 4))",
    "header_only.csv": "header but no data rows",
    "dates_undecidable.csv": "Cannot tell whether dates like '01/02/2020 10:00' are month/day/year or day/month/year",
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_file_raises_a_clear_error(name):
    with pytest.raises(CandleFormatError, match=ERRORS[name].replace("(", r"\(").replace(")", r"\)")):
        load_candles(FIXTURES / name)


def test_error_is_a_value_error():
    assert issubclass(CandleFormatError, ValueError)


@pytest.mark.parametrize("raw, words", [
    (b"", "empty"),
    (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "compressed"),
    (b"PK\x03\x04\x14\x00\x06\x00", "compressed"),
    (b"\xff\xfet\x00i\x00m\x00e\x00", "UTF-16"),
    (b"hello world\n", "header but no data rows"),
    (b"just some words\nand then more words\n", "No time column"),
    (b"a\nb,c\nd;e;f\ng|h|i|j\n", "Could not find a column separator"),
    (b"<!DOCTYPE html><html><body>Not found</body></html>\n", "web page"),
    (b'[{"t": 1502942400, "o": 1}]', "JSON"),
    (b"Date,Open,High,Low,Close\n42964.1667,1,2,0.5,1.5\n", "Excel serial dates"),
    (b"time,price\n2020-01-01,1\n2020-01-02,2\n", "No price columns"),
    (b"time,open,high,low,close\nfoo,1,2,0,1\nbar,1,2,0,1\n", "neither unix times nor a date format I know"),
    (b"time,open,high,low,close\n12,1,2,0,1\n13,1,2,0,1\n", "too small or too large to be unix time"),
    (b"Date;Open;High;Low;Close\n2020-01-01;4261,48;4262,4;4259,67;4260,24\n", "decimal commas are not supported"),
    (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml xl/workbook.xml", "Excel workbook"),
])
def test_bad_bytes(raw, words):
    with pytest.raises(CandleFormatError, match=words):
        load_candles(raw)


def test_missing_path():
    with pytest.raises(CandleFormatError, match="There is no file at"):
        load_candles("/nonexistent/candles.csv")


@pytest.mark.parametrize("options, words", [
    ({"nrows": 0}, "positive whole number"),
    ({"nrows": -5}, "positive whole number"),
    ({"sep": "||"}, "single character"),
    ({"names": ["a", "b", "c", "d", "e", "f", "g"]}, "named 7 columns but the rows have only 6"),
])
def test_bad_options(options, words):
    with pytest.raises(CandleFormatError, match=words):
        load_candles(FIXTURES / "seed_pipe.csv", **options)


def test_wrong_separator_given():
    with pytest.raises(CandleFormatError, match="separator ';'"):
        load_candles(FIXTURES / "seed_pipe.csv", sep=";")


def test_unexpected_failures_are_wrapped(monkeypatch):
    import explorer.data.loader as loader

    def boom(*args, **kwargs):
        raise KeyError("internal")
    monkeypatch.setattr(loader, "read_table", boom)
    with pytest.raises(CandleFormatError, match="could not be read as candles"):
        load_candles(FIXTURES / "seed_pipe.csv")


def test_file_like_upload_can_be_read_twice():
    upload = io.BytesIO((FIXTURES / "comma_header.csv").read_bytes())
    assert len(load_candles(upload).frame) == 4
    assert len(load_candles(upload).frame) == 4  # a rerun gets the same upload object back, already read


def _unix_rows(values: list[bytes]) -> bytes:
    return b"timestamp,open,high,low,close,volume\n" + b"".join(
        b"%d,%s\n" % (1_600_000_000 + 60 * i, v) for i, v in enumerate(values))


def test_implausible_prices_are_dropped_and_counted():
    good = b"100,101,99,100.5,2"
    data = load_candles(_unix_rows([good] * 5 + [b"inf,101,99,100,2", b"-5,101,99,100,2", b"0,1,0,1,2",
                                                  b"100,101,99,100,-1", b"100,101,99,100,inf"]))
    assert len(data.frame) == 5
    assert data.report.dropped == {"infinite price": 1, "price zero or negative": 2,
                                   "missing, negative or infinite volume": 2}


def test_all_implausible_rows_is_an_error_naming_why():
    with pytest.raises(CandleFormatError, match="30 price zero or negative"):
        load_candles(_unix_rows([b"-100,-99,-101,-100.5,5"] * 30))


def test_future_timestamps_are_kept_with_a_note():
    data = load_candles(b"time,open,high,low,close,volume\n" + b"".join(
        b"9999-12-31 00:%02d:00,1,2,0.5,1.5,3\n" % i for i in range(12)))
    assert len(data.frame) == 12
    assert any("12 candle(s) are dated in the future (the last one: 9999-12-31 00:11:00)" in n
               for n in data.report.notes)
