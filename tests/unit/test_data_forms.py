"""The Data and Config pages' forms apart from Streamlit: widgets as data, the link they carry, and what an upload
or a click decides over the session's state (a plain dict here)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import torch

from explorer.data import forms
from explorer.data.fetch import FIRST_DAY, INTERVALS
from explorer.data.sources import DATE_ORDERS, MAX_SAMPLE_ROWS, SEPARATORS
from explorer.teaching.shareable import Shared, decode, encode


def test_upload_link_is_the_one_the_page_declared_by_hand():
    """Same keys, kinds, ranges, choices; a value at its first stays out of the link, as before."""
    assert forms.UPLOAD.spec == (
        Shared("data_upload_sep", "str", choices=tuple(SEPARATORS), default="detect"),
        Shared("data_upload_rows", "int", 0, 2_000_000, default=0),
        Shared("data_upload_dayfirst", "str", choices=tuple(DATE_ORDERS), default="detect from the data"))
    assert encode(forms.UPLOAD.firsts(), forms.UPLOAD.spec) == {}
    assert encode({"data_upload_sep": "pipe |", "data_upload_rows": 500}, forms.UPLOAD.spec) == {
        "data_upload_sep": "pipe |", "data_upload_rows": "500"}
    values, problems = decode({"data_upload_rows": "2000001", "data_upload_sep": "pipe |"}, forms.UPLOAD.spec)
    assert values == {"data_upload_sep": "pipe |"} and "data_upload_rows" in problems[0]


def test_loading_widgets_keep_their_ranges_and_options():
    rows, symbol, interval, days = forms.LOADERS.controls("data_rows", *forms.ARCHIVE_KEYS)
    assert rows.args == (10, MAX_SAMPLE_ROWS) and rows.more == {"step": 100}
    assert symbol.more == {"max_chars": 20} and interval.args == (INTERVALS,)
    assert days.label == "Days (at most 31)" and days.more == {"format": "YYYY-MM-DD", "min_value": FIRST_DAY}


def test_an_upload_is_read_once_per_file_and_options():
    state: dict = {}
    assert forms.upload_options(state, "f1", "pipe |", 0, "detect from the data") == ("|", None, None)
    assert forms.upload_options(state, "f1", "pipe |", 0, "detect from the data") is None  # a rerun: not again
    assert forms.upload_options(state, "f1", "detect", 250, "day first (DD/MM/YYYY)") == (None, 250, True)
    assert forms.upload_options(state, "f2", "detect", 250, "day first (DD/MM/YYYY)") == (None, 250, True)


def test_archive_form_starts_once_from_a_link_else_the_last_three_days():
    today = dt.date(2025, 3, 10)
    state: dict = {}
    forms.start_archive_form(state, "binance:ETHUSDT:4h:2025-01-01:2025-01-05", today)
    assert [state[k] for k in forms.ARCHIVE_KEYS] == ["ETHUSDT", "4h", (dt.date(2025, 1, 1), dt.date(2025, 1, 5))]
    forms.start_archive_form(state, "sample:1000", today)  # set already: new candles leave what was typed alone
    assert state["data_archive_symbol"] == "ETHUSDT"
    fresh: dict = {}
    forms.start_archive_form(fresh, "sample:1000", today)
    assert [fresh[k] for k in forms.ARCHIVE_KEYS] == ["BTCUSDT", "1h", (dt.date(2025, 3, 7), dt.date(2025, 3, 9))]


@pytest.mark.parametrize("days, answer", [((dt.date(2025, 1, 1),), True), ([dt.date(2025, 1, 1)] * 2, True),
                                          ((), False), (None, False), (dt.date(2025, 1, 1), False)])
def test_a_range_is_picked(days, answer):
    assert forms.is_range(days) is answer


class FakeBar:
    def __init__(self) -> None:
        self.shown: list[tuple[float, str]] = []

    def progress(self, value: float, text: str | None = None) -> None:
        self.shown.append((value, text))


def test_file_progress_draws_a_bar_per_file_when_it_starts():
    made: list[FakeBar] = []
    progress = forms.FileProgress("ETHUSDT", "1h", lambda: made.append(FakeBar()) or made[-1])
    day1, day2 = dt.date(2024, 12, 31), dt.date(2025, 1, 1)
    progress(0, 2, day1, 0.5)
    assert len(made) == 1  # the second file's bar is not drawn before that file starts
    progress(0, 2, day1, 1.0)
    progress(1, 2, day2, 1.0)
    assert [bar.shown for bar in made] == [
        [(0.5, "ETHUSDT-1h-2024-12-31.zip (1 of 2)"), (1.0, "ETHUSDT-1h-2024-12-31.zip (1 of 2) ✓")],
        [(1.0, "ETHUSDT-1h-2025-01-01.zip (2 of 2) ✓")]]


class FakeUpload:
    def __init__(self, file_id: str, raw: bytes) -> None:
        self.file_id, self.raw = file_id, raw

    def getvalue(self) -> bytes:
        return self.raw


def test_config_editor_takes_an_upload_once_then_the_learners_edits():
    state: dict = {}
    forms.start_config_editor(state, None)
    bundled = state[forms.CONFIG_KEY]
    assert "train_rows" in bundled
    upload = FakeUpload("u1", "data: 1\n".encode())
    forms.start_config_editor(state, upload)
    assert state[forms.CONFIG_KEY] == "data: 1\n"
    state[forms.CONFIG_KEY] = "edited"
    forms.start_config_editor(state, upload)  # the same file: the edits stay
    assert state[forms.CONFIG_KEY] == "edited"
    forms.reset_editor(state)
    forms.start_config_editor(state, upload)
    assert state[forms.CONFIG_KEY] == bundled
    forms.start_config_editor(state, FakeUpload("u2", b"\xff"))  # a new file, even undecodable, is taken
    assert state[forms.CONFIG_KEY] == "\ufffd"


def test_sample_rows_follow_a_link_and_the_sample_reads_that_many():
    state: dict = {}
    forms.start_sample_rows(state, "sample:250")
    assert state["data_rows"] == 250
    forms.start_sample_rows(state, "sample:300")  # set already
    assert state["data_rows"] == 250
    asked = []
    data, label, link = forms.load_sample(400, lambda config: asked.append(config.data.train_rows) or "candles")
    assert (asked, data, link) == ([400], "candles", "sample:400") and "first 400 rows" in label


def test_rounding_table_holds_what_float32_keeps():
    frame = pd.DataFrame({"close": [4261.48, 0.1]}, index=pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True))
    html = forms.rounding_table(frame)
    stored = torch.tensor([4261.48, 0.1], dtype=torch.float32).double().tolist()
    assert f">{stored[0]:,}<" in html and ">4,261.48<" in html and f">{stored[1]!r}<" in html  # every digit
    assert f">{stored[0] - 4261.48:.2e}<" in html and f">{stored[1] - 0.1:.2e}<" in html
