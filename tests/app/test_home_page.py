"""AppTest of the guided path: every lesson's live result is computed and matches PyTorch's behaviour."""
from __future__ import annotations


import torch
from streamlit.testing.v1 import AppTest
from tests.app.apptest import APP


def test_home_shows_each_stop_with_live_results():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception
    assert [h.value for h in at.subheader] == ["1 · Data", "2 · Graph", "3 · Gradient accumulation",
                                               "4 · retain_graph", "5 · Training", "6 · Modules and shapes"]
    live = [c.value for c in at.code if c.language == "text"][1::2]  # (seed output, live) pairs per stop
    assert live[0] == "(torch.float32, torch.Size([1000, 5]), device(type='cpu'))"
    assert live[1].endswith("torch.equal(w.grad, x) and b.grad == 1: True")
    assert "tensor([3.])" in live[2]
    assert "pnl.grad -6 → -12" in live[3] and "Trying to backward through the graph a second time" in live[3]
    raw, scaled = (float(line.rsplit("= ", 1)[1]) for line in live[4].splitlines())
    assert raw > 1e6 and scaled < 100
    flat_times_ones = torch.tensor([[1., 1., 1., 2.], [2., 2., 2., 2.], [3., 3., 3., 3.]]) @ torch.ones(2, 4).T
    assert str(flat_times_ones)[:-1] in live[5] and live[5].endswith("linear_layer): True")  # "]]" then grad_fn


def test_home_live_results_follow_the_loaded_rows():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["data"] = "sample:300"
    at.run()
    live = [c.value for c in at.code if c.language == "text"][1::2]
    assert live[0] == "(torch.float32, torch.Size([300, 5]), device(type='cpu'))"
