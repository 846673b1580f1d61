"""Data sources and limits: shared data links, the row cap, the minimum size, markup escaping, device links."""
from __future__ import annotations

import pytest

from explorer.data.loader import CandleFormatError, load_candles
from explorer.runtime import device_from_link
from explorer.data.sample import SAMPLE_PATH
from explorer.data.sources import (MAX_SAMPLE_ROWS, cap_note, config_from_link, config_link, enough_candles, literal,
                              upload_rows)

SEED_ROWS = SAMPLE_PATH.read_bytes().splitlines(keepends=True)


@pytest.mark.parametrize("link, rows, words", [
    ("sample:250", 250, None), (f"sample:{MAX_SAMPLE_ROWS}", MAX_SAMPLE_ROWS, None), (None, 1000, None),
    ("sample:9", 1000, "cannot be reproduced"), ("sample:²²", 1000, "cannot be reproduced"),
    ("upload", 1000, "cannot travel in a URL"), ("custom-config", 1000, "cannot be reproduced"),
])
def test_data_links(link, rows, words):
    config, message = config_from_link(link)
    assert config.data.train_rows == rows
    assert (message is None) if words is None else (words in message)
    assert config_link(config) == f"sample:{rows}"


def test_row_cap_and_minimum(monkeypatch):
    monkeypatch.setenv("AUTOGRAD_EXPLORER_MAX_ROWS", "30")
    assert (upload_rows(None), upload_rows(20), upload_rows(500)) == (30, 20, 30)
    data = load_candles(b"".join(SEED_ROWS[:100]), nrows=30)
    assert "only the first 30 rows" in cap_note(None, data) and cap_note(30, data) is None
    assert config_from_link("sample:500")[0].data.train_rows == 30
    with pytest.raises(CandleFormatError, match="only 5 usable candle"):
        enough_candles(load_candles(b"".join(SEED_ROWS[:5])))


def test_literal_escapes_markup_but_keeps_code_spans():
    assert literal("<img src=x>*b*_c_.csv") == r"\<img src=x\>\*b\*\_c\_.csv"
    assert literal("use `x_y` not *z*", keep_code=True) == r"use `x_y` not \*z\*"


def test_device_links():
    assert device_from_link(None, ["cpu"]) == ("cpu", None)
    assert device_from_link("cuda", ["cpu", "cuda"]) == ("cuda", None)
    device, message = device_from_link("tpu", ["cpu"])
    assert device == "cpu" and "'tpu'" in message and "available: cpu" in message


def test_settle_device_keeps_a_device_this_machine_has():
    from explorer.runtime import settle_device
    state: dict = {}
    assert settle_device(state, "device", ["cpu"]) is None and state["device"] == "cpu"
    state["device"] = "cuda"
    assert settle_device(state, "device", ["cpu", "cuda"]) is None and state["device"] == "cuda"
    assert "'cuda'" in settle_device(state, "device", ["cpu"]) and state["device"] == "cpu"
