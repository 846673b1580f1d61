"""Sample generator, config validation, tensor view, charts, and the library's independence from streamlit."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from explorer.data.charts import candlestick_figure, chart_frame, resample_ohlcv
from explorer.data.config import ConfigError, load_config, parse_config, resolve_data_path
from explorer.data.sample import SAMPLE_PATH, SAMPLE_START, generate_candles, to_seed_format
from explorer.tensors import candles_to_tensor, float32_rounding, summarize

ROOT = Path(__file__).resolve().parents[2]


def test_explorer_never_imports_streamlit():
    for path in (ROOT / "explorer").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "streamlit" for n in names), path


def test_bundled_sample_is_reproducible_from_generator():
    assert SAMPLE_PATH.read_text() == to_seed_format(generate_candles())


def test_sample_is_realistic_candles():
    frame = generate_candles()
    assert frame.index[0] == SAMPLE_START == pd.Timestamp(1502942400, unit="s")
    assert (frame.index.to_series().diff().dropna() == pd.Timedelta(minutes=1)).all()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    assert (frame["volume"] >= 0).all()
    ret = np.log(frame["close"]).diff().dropna()
    assert ret.kurt() > 3                        # heavy tails
    assert ret.abs().autocorr() > 0.05           # volatility clusters
    assert SAMPLE_PATH.stat().st_size < 3_000_000


def test_bundled_config_matches_seed_keys():
    config = load_config()
    assert config.data.separator == "|" and config.data.train_rows == 1000
    assert config.data.features == ["timestamp", "open", "high", "low", "close", "volume"]
    assert resolve_data_path(config) == SAMPLE_PATH


@pytest.mark.parametrize("text, words", [
    ("data: [", "not valid YAML"),
    ("- 1\n- 2", "must be a mapping"),
    ("data: {file_path: data/x.csv, colour: red}", "unknown key `data.colour`"),
    ("training: {}", "missing key `data`"),
    ("data: {file_path: data/x.csv, train_rows: '10'}", "`data.train_rows`"),
    ("data: {file_path: data/x.csv, train_rows: -5}", "greater than 0"),
    ("data: {file_path: data/x.csv}\ntraining: {optimizer: lbfgs}", "`training.optimizer`"),
])
def test_config_errors_name_the_problem(text, words):
    with pytest.raises(ConfigError, match=None) as err:
        parse_config(text)
    assert words in str(err.value)


@pytest.mark.parametrize("path, words", [
    ("../etc/passwd", "inside data/"), ("/etc/passwd", "relative"), ("data/../app.py", "inside data/"),
    ("data/nope.csv", "no such file"), ("data/x\\0.csv", "cannot be used as a file name"),
    ("data/" + "a" * 5000, "cannot be used as a file name"),
])
def test_config_paths_stay_inside_data(path, words):
    config = parse_config(f'data: {{file_path: "{path}"}}')  # double quotes: YAML reads \0 as a NUL byte
    with pytest.raises(ConfigError) as err:
        resolve_data_path(config)
    assert words in str(err.value)


def test_tensor_is_the_seeds_float32_conversion():
    frame = generate_candles(50)
    tensor = candles_to_tensor(frame)
    expected = torch.from_numpy(frame.values.copy()).to(torch.float32)
    assert torch.equal(tensor, expected)
    s = summarize(tensor)
    assert (s.dtype, s.shape, s.device) == ("torch.float32", "torch.Size([50, 5])", "device(type='cpu')")
    table = float32_rounding(frame, rows=1)
    open_row = table[table.column == "open"].iloc[0]
    assert open_row.float32 == float(np.float32(frame["open"].iloc[0]))
    assert open_row.error == pytest.approx(float(np.float32(frame["open"].iloc[0])) - frame["open"].iloc[0])


def test_chart_resamples_big_frames_like_an_exchange():
    frame = generate_candles(600)
    five = resample_ohlcv(frame, "5min")
    first = frame.iloc[:5]
    assert five.iloc[0].tolist() == [first.open.iloc[0], first.high.max(), first.low.min(),
                                     first.close.iloc[-1], pytest.approx(first.volume.sum())]
    drawn, rule = chart_frame(frame, max_candles=100)
    assert rule == "15 min" and len(drawn) <= 100
    assert chart_frame(frame)[1] is None
    fig = candlestick_figure(drawn)
    assert fig.data[0].type == "candlestick" and len(fig.data[0].x) == len(drawn)


def test_deeply_nested_yaml_is_refused():
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_config("[" * 3000 + "]" * 3000)


def test_yaml_alias_bomb_is_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    with pytest.raises(ConfigError, match="alias"):
        parse_config("data: {file_path: data/x.csv}\n" + bomb)
