"""AppTest over the Data and Config pages: loading, bad uploads, config validation."""
from __future__ import annotations

import re

import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer.data.sample import SAMPLE_PATH
from tests.app.apptest import APP, light_table, light_tables, open_app_page

SEED_ROWS = SAMPLE_PATH.read_bytes().splitlines(keepends=True)


def make_app(page: str = "pages/data.py") -> AppTest:
    return open_app_page(page)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_data_page_shows_sample_as_tensor():
    at = make_app()
    assert metric(at, "dtype") == "torch.float32"
    assert metric(at, "shape") == "([1000, 5])"
    assert metric(at, "device") == "device(type='cpu')"
    assert "synthetic sample" in at.session_state["candles_source"]
    head = light_tables(at)[0]
    first = SEED_ROWS[0].decode().split("|")
    assert head["open"].iloc[0] == float(first[1]) and head["volume"].iloc[0] == float(first[5])


def test_rounding_table_shows_every_digit_float32_keeps():
    """The float32 column is the tensor's value with every digit Python prints (4,261.47998046875 for 4,261.48)."""
    at = make_app()
    table = light_table(at, "rounding")
    frame = at.session_state["candles"].frame.head(2)
    as32 = torch.tensor(frame.to_numpy(), dtype=torch.float32).double().flatten().tolist()
    assert table["column"].tolist() == list(frame.columns) * 2
    assert table["float64"].tolist() == frame.to_numpy().flatten().tolist()  # exact: no digit dropped
    assert table["float32"].tolist() == as32
    assert table["float32"].iloc[0] == 4261.47998046875 and table["float64"].iloc[0] == 4261.48
    error = [b - a for a, b in zip(frame.to_numpy().flatten().tolist(), as32)]
    assert table["error"].tolist() == [float(f"{e:.2e}") for e in error]


def test_rows_input_reloads_sample():
    at = make_app()
    at.number_input(key="data_rows").set_value(250).run()
    at.button(key="data_load_sample").click().run()
    assert not at.exception
    assert len(at.session_state["candles"].frame) == 250
    assert metric(at, "shape") == "([250, 5])"


def test_upload_good_file_replaces_data():
    at = make_app()
    at.file_uploader(key="data_upload").upload("mine.csv", b"".join(SEED_ROWS[:40]), "text/csv").run()
    assert not at.exception
    assert at.session_state["candles_source"] == "upload: mine.csv"
    assert metric(at, "shape") == "([40, 5])"


@pytest.mark.parametrize("payload", [b"", b"\x00\x01\x02\xff\xfe" * 50, b"hello,world\nfoo,bar\n"])
def test_upload_bad_file_keeps_previous_data(payload):
    at = make_app()
    at.file_uploader(key="data_upload").upload("bad.csv", payload, "text/csv").run()
    assert not at.exception
    assert at.error and "bad.csv" in at.error[0].value and "still loaded" in at.error[0].value
    assert metric(at, "shape") == "([1000, 5])"  # the sample loaded before is still there


def test_config_apply_and_errors():
    at = make_app("pages/config.py")
    text = at.text_area(key="config_yaml").value
    at.text_area(key="config_yaml").set_value(text.replace("train_rows: 1000", "train_rows: 300"))
    at.button(key="config_apply").click().run()
    assert not at.exception and not at.error
    assert len(at.session_state["candles"].frame) == 300
    assert "'train_rows': 300" in at.code[0].value

    for bad, words in [("data: [", "not valid YAML"), (text + "\nextra: 1\n", "unknown key `extra`"),
                       (text.replace("data/BTCUSDT", "../data/BTCUSDT"), "inside data/"),
                       (text.replace("train_rows: 1000", "train_rows: many"), "train_rows")]:
        at.text_area(key="config_yaml").set_value(bad)
        at.button(key="config_apply").click().run()
        assert not at.exception
        assert words in at.error[0].value
        assert len(at.session_state["candles"].frame) == 300  # what was applied before stays


def test_shared_link_reproduces_sample_rows():
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["data"] = "sample:250"
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception and not at.warning
    assert metric(at, "shape") == "([250, 5])"
    assert at.number_input(key="data_rows").value == 250
    assert at.query_params["data"] == "sample:250"


def test_shared_link_with_upload_explains_it_cannot_travel():
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["data"] = "upload"
    at.run()
    assert not at.exception
    assert "cannot travel in a URL" in at.warning[0].value
    at.switch_page("pages/data.py").run()
    assert metric(at, "shape") == "([1000, 5])"
    assert at.query_params["data"] == "upload"  # a reload (another replica) explains the sample again


def test_undecidable_dates_are_settled_by_the_date_order_choice():
    at = make_app()
    rows = "".join(f"03/04/2024 {h:02d}:00,1,2,0.5,1.5,10\n" for h in range(12))  # same day: both readings regular
    csv = ("Date,Open,High,Low,Close,Volume\n" + rows).encode()
    at.file_uploader(key="data_upload").upload("dates.csv", csv, "text/csv").run()
    assert "Date order" in at.error[0].value and metric(at, "shape") == "([1000, 5])"
    at.selectbox(key="data_upload_dayfirst").select("day first (DD/MM/YYYY)").run()
    assert not at.exception and not at.error
    assert at.session_state["candles"].frame.index[0] == pd.Timestamp("2024-04-03 00:00")


def test_downsampled_chart_caption_reads_as_english():
    """Too many candles to draw: the caption names the coarser interval as 'one candle per …' (it read '3 days
    candles' where the interval was 3 days)."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["data"] = "sample:20000"
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    caption = next(c.value for c in at.caption if "too many to draw" in c.value)
    assert re.search(r"shown as one candle per \d+ (min|h|day|days|week)\.$", caption), caption
    assert "s candles" not in caption and " min candles" not in caption
