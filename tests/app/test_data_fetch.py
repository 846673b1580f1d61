"""AppTest: the Data page fetches real-format candles from a loopback stand-in of Binance's archive: a progress
bar per file, then the candles; a failure names the day and keeps the data loaded before; a link fetches again."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.apptest import APP, click, light_tables, open_app_page
from tests.unit.archive_server import archive  # noqa: F401 (the fixture)

DAYS = (dt.date(2024, 12, 31), dt.date(2025, 1, 1))  # a millisecond day and a microsecond day
LINK = "binance:ETHUSDT:1h:2024-12-31:2025-01-01"


def ask(at: AppTest, symbol: str = "ETHUSDT", interval: str = "1h", days: tuple = DAYS) -> AppTest:
    at.text_input(key="data_archive_symbol").input(symbol)
    at.selectbox(key="data_archive_interval").select(interval)
    at.date_input(key="data_archive_days").set_value(days)
    return click(at, "data_archive_fetch")


def test_fetching_a_range_shows_progress_per_file_then_the_candles(archive):
    expected = pd.concat([archive.add_day("ETHUSDT", "1h", day) for day in DAYS])
    at = ask(open_app_page("pages/data.py"))
    bars = at.get("progress")
    assert [b.proto.text for b in bars] == ["ETHUSDT-1h-2024-12-31.zip (1 of 2) ✓", "ETHUSDT-1h-2025-01-01.zip (2 of 2) ✓"]
    assert [b.proto.value for b in bars] == [100, 100]
    assert not at.error and "Loaded 48 candles" in at.success[0].value
    pd.testing.assert_frame_equal(at.session_state["candles"].frame, expected, check_freq=False)
    assert at.session_state["candles_source"] == "Binance archive: ETHUSDT 1h, 2024-12-31 → 2025-01-01"
    assert next(m.value for m in at.metric if m.label == "shape") == "([48, 5])"
    assert light_tables(at)[0]["close"].iloc[0] == expected["close"].iloc[0]
    assert at.query_params["data"] == LINK


@pytest.mark.parametrize("case, message", [
    ("missing day", "2025-01-01: not in the archive (HTTP 404)"),
    ("bad checksum", "2024-12-31: the checksum does not match"),
    ("dropped", "2024-12-31: the connection dropped while downloading"),
    ("bad symbol", "The symbol must be 2 to 20 letters or digits"),
])
def test_a_failure_names_the_day_and_keeps_the_loaded_data(archive, case, message):
    archive.add_day("ETHUSDT", "1h", DAYS[0], checksum="0" * 64 if case == "bad checksum" else None)
    if case != "missing day":
        archive.add_day("ETHUSDT", "1h", DAYS[1])
    if case == "dropped":
        archive.drop.add("/data/spot/daily/klines/ETHUSDT/1h/ETHUSDT-1h-2024-12-31.zip")
    at = open_app_page("pages/data.py")
    before = at.session_state["candles"].frame
    at = ask(at, symbol="ETH/USDT" if case == "bad symbol" else "ETHUSDT")
    shown = at.error[0].value.replace("\\", "")  # the markdown source escapes ':' and '(' in the message
    assert message in shown and "The data loaded before is still loaded." in shown
    assert at.session_state["candles"].frame is before and "synthetic sample" in at.session_state["candles_source"]
    assert next(m.value for m in at.metric if m.label == "shape") == "([1000, 5])"


def test_a_shared_link_fetches_the_same_candles_then_from_the_cache(archive):
    expected = pd.concat([archive.add_day("ETHUSDT", "1h", day) for day in DAYS])
    for visit in range(2):
        archive.requests.clear()
        at = AppTest.from_file(str(APP), default_timeout=90)
        at.query_params["data"] = LINK
        at.run()
        at.switch_page("pages/data.py").run()
        assert not at.exception and not at.warning and not at.error
        pd.testing.assert_frame_equal(at.session_state["candles"].frame, expected, check_freq=False)
        assert at.text_input(key="data_archive_symbol").value == "ETHUSDT"
        assert at.date_input(key="data_archive_days").value == DAYS
        assert len(archive.requests) == (4 if visit == 0 else 0)  # the second visit: all from the cache


@pytest.mark.parametrize("link, message", [
    (LINK, "could not be fetched: 2024-12-31: not in the archive"),
    ("binance:ETH-USDT:1h:2024-12-31:2025-01-01", "is not an archive request this app writes"),
    ("binance:ETHUSDT:1h:2015-01-01:2015-01-02", "The archive's days run from 2017-01-01 to today"),
])
def test_a_shared_link_that_cannot_be_fetched_says_so_and_shows_the_sample(archive, link, message):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["data"] = link
    at.run()
    assert not at.exception
    assert message in at.warning[0].value.replace("\\", "")
    assert "synthetic sample" in at.session_state["candles_source"]
    assert at.query_params["data"] == "sample:1000"
