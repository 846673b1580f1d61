"""AppTest of the guided path: one stop at a time, each live result matches PyTorch, the words follow the numbers."""
from __future__ import annotations

import re

import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer import load_candles
from explorer.data.config import load_config, resolve_data_path
from explorer.teaching.tour import STOPS, magnitude_phrase, next_stop, stop_number
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


def test_guided_path_remembers_the_stop():
    """After 'Open Gradient accumulation →' from stop 3, the sidebar's Guided path opens at stop 3 again, not at
    1 · Data (the radio's own state is dropped while another page shows). The link on to the next stop, drawn by the
    router under each lesson page, is clicked in tests/e2e/test_walk.py (AppTest runs a page without the router)."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    for _ in range(2):
        at.button(key="home_next").click().run()
    assert at.subheader[0].value == "3 · Gradient accumulation"
    at.switch_page("pages/accumulation.py").run()  # the stop's page link
    assert not at.exception
    at.switch_page("pages/home.py").run()  # the sidebar's Guided path
    assert not at.exception and at.subheader[0].value == "3 · Gradient accumulation"


def test_each_stop_but_the_last_links_on_to_the_next():
    for number, stop in enumerate(STOPS, start=1):
        assert stop_number(stop.page) == stop_number(stop.page.removeprefix("pages/").removesuffix(".py")) == number
        found = next_stop(stop.page.removeprefix("pages/").removesuffix(".py"))  # the router knows a page's URL path
        assert found == (None if number == len(STOPS) else (number + 1, f"Next on the guided path: "
                                                                         f"{STOPS[number].title} →"))
    assert stop_number("") is None and stop_number("scratchpad") is None and next_stop("errors") is None
