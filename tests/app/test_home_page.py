"""AppTest of the guided path: one stop at a time, each live result matches PyTorch, the words follow the numbers."""
from __future__ import annotations

import re

import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer import load_candles
from explorer.data.config import load_config, resolve_data_path
from explorer.teaching.tour import STOPS, magnitude_phrase
from explorer.training.features import FeatureSpec, make_features
from explorer.training.trainer import Trainer, TrainSettings
from tests.app.apptest import APP


def live_printout(at: AppTest) -> str:
    return [c.value for c in at.code if c.language == "text"][1]  # (seed output, live) of the stop shown


def look_at(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Look at:**"))


def walk(at: AppTest) -> list[tuple[str, str, str]]:
    """(title, look at, live printout) of every stop, reached with the 'next stop' button."""
    stops = []
    for n in range(len(STOPS)):
        stops.append((at.subheader[0].value, look_at(at), live_printout(at)))
        if n < len(STOPS) - 1:
            at.button(key="home_next").click().run()
            assert not at.exception
    return stops


def test_home_steps_through_each_stop_with_live_results():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception and at.button(key="home_prev").disabled
    stops = walk(at)
    assert [title for title, _, _ in stops] == ["1 · Data", "2 · Graph", "3 · Gradient accumulation",
                                                "4 · retain_graph", "5 · Training",
                                                "6 · Modules and shapes"]
    live = [printout for _, _, printout in stops]
    assert live[0] == "(torch.float32, torch.Size([1000, 5]), device(type='cpu'))"
    assert live[1].endswith("torch.equal(w.grad, x) and b.grad == 1: True")
    assert "tensor([3.])" in live[2]
    assert "pnl.grad -6 → -12" in live[3] and "Trying to backward through the graph a second time" in live[3]
    raw, scaled = (float(line.rsplit("= ", 1)[1]) for line in live[4].splitlines())
    assert raw > 1e6 and scaled < 100
    flat_times_ones = torch.tensor([[1., 1., 1., 2.], [2., 2., 2., 2.], [3., 3., 3., 3.]]) @ torch.ones(2, 4).T
    assert str(flat_times_ones)[:-1] in live[5] and live[5].endswith("linear_layer): True")  # "]]" then grad_fn
    assert at.button(key="home_next").disabled and at.query_params["home_stop"] == "6"
    at.button(key="home_prev").click().run()
    assert at.subheader[0].value == "5 · Training"


def test_stop_words_come_from_the_numbers():
    """Stop 5 names the loss's order of magnitude that PyTorch computes on the loaded candles, not a fixed phrase."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["home_stop"] = "5"
    at.run()
    assert at.subheader[0].value == "5 · Training"
    config = load_config()
    frame = load_candles(str(resolve_data_path(config)), sep=config.data.separator, nrows=config.data.train_rows,
                         names=list(config.data.features)).frame
    raw = Trainer(make_features(frame, FeatureSpec(rows=len(frame), normalisation="none")),
                  TrainSettings(init="seed_sqrt_n", seed=0)).valid_loss  # the reference, built apart from the page
    words = look_at(at)
    assert f"a loss {magnitude_phrase(raw)} on raw prices ({raw:.3g})" in words
    printed = float(re.search(r"'none': MSE before training = (\S+)", live_printout(at)).group(1))
    assert printed == pytest.approx(raw, rel=1e-4) and magnitude_phrase(printed) in words


def test_accumulation_stop_quotes_torchs_gradients():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["home_stop"] = "3"
    at.run()
    config = load_config()
    frame = load_candles(str(resolve_data_path(config)), sep=config.data.separator, nrows=config.data.train_rows,
                         names=list(config.data.features)).frame
    x0 = torch.tensor(frame.values[100], dtype=torch.float32)[0]
    growth = " → ".join(f"{(k * x0).item():,.2f}" for k in (1, 2, 3))
    assert f"w.grad[0] {growth}, b.grad 1 → 2 → 3." in look_at(at)


def test_home_live_results_follow_the_loaded_rows():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["data"] = "sample:300"
    at.run()
    assert live_printout(at) == "(torch.float32, torch.Size([300, 5]), device(type='cpu'))"
    assert "shape (300, 5)" in look_at(at)
