"""Gradient flow: per-layer gradient norms against a plain torch loop, and the page's sentence from the numbers."""
from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explorer.data.sample import generate_candles
from explorer.mechanics import flow
from explorer.mechanics.scripts import flow_script
from explorer.training.features import make_features


@pytest.fixture(scope="module")
def frame():
    return generate_candles(1200)


def plain_mlp(n_in, depth, activation, init, n_rows, width=32):
    """The same MLP written directly in torch (drawn in the same order from the same seed)."""
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
    sizes = [n_in] + [width] * (depth - 1) + [1]
    layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])] if init == "pytorch_default" else []
    for a, b in zip(sizes[:-1], sizes[1:]) if init != "pytorch_default" else ():
        layer = nn.Linear(a, b)
        with torch.no_grad():
            layer.weight.copy_(torch.randn(b, a) / math.sqrt(n_rows if init == "seed_sqrt_rows" else a))
            layer.bias.zero_()
        layers.append(layer)

    def forward(x):
        for i, layer in enumerate(layers):
            x = layer(x)
            if i < len(layers) - 1:
                x = act(x)
        return x.squeeze(1)
    return layers, forward


def plain_norms(layers, forward, x, y):
    for layer in layers:
        layer.weight.grad = layer.bias.grad = None
    F.mse_loss(forward(x), y).backward()
    return [layer.weight.grad.norm().item() for layer in layers]


@pytest.mark.parametrize("activation,init", [("sigmoid", "pytorch_default"), ("relu", "seed_sqrt_n"),
                                             ("tanh", "seed_sqrt_rows")])
def test_layer_norms_equal_a_plain_torch_loop(frame, activation, init):
    run = flow.start_run(frame, flow.FlowSettings(4, activation, init, 10))
    data = make_features(frame, flow.FEATURES)
    x, y = data.x_train, data.y_train
    torch.manual_seed(0)
    layers, forward = plain_mlp(x.shape[1], 4, activation, init, len(x))
    assert run.init_norms == plain_norms(layers, forward, x, y)
    flow.advance(run)  # one tick of the live bars: 10 // 20 -> 1 step
    flow.advance(run, 3)
    flow.advance(run, 50)  # the rest of the 10 steps
    optimizer = torch.optim.SGD([p for layer in layers for p in (layer.weight, layer.bias)], lr=flow.LR)
    for _ in range(10):
        optimizer.zero_grad()
        F.mse_loss(forward(x), y).backward()
        optimizer.step()
    assert run.done == 10 and run.finished
    assert run.norms == plain_norms(layers, forward, x, y)


def test_sigmoid_depth_10_vanishes_and_the_sentence_says_so_from_the_numbers(frame):
    run = flow.start_run(frame, flow.FlowSettings(10, "sigmoid", "pytorch_default", 10))
    first, last = run.init_norms[0], run.init_norms[-1]
    assert len(run.init_norms) == 10 and last / first >= 100
    said = flow.sentences(run)
    assert f"is {flow.times(last / first)} smaller than the last's" in said
    assert f"({first:.2g} vs {last:.2g})" in said


def test_sentences_for_every_case():
    assert "340×" in flow.flow_sentence([0.01, 3.4], "x") and "smaller" in flow.flow_sentence([0.01, 3.4], "x")
    assert "12×" in flow.flow_sentence([1.2, 0.1], "x") and "larger" in flow.flow_sentence([1.2, 0.1], "x")
    assert "about the size" in flow.flow_sentence([1.0, 1.2], "x")
    assert "exactly 0" in flow.flow_sentence([0.0, 1.0], "x")
    assert "one layer" in flow.flow_sentence([2.0], "x")
    assert flow.times(3.4e8) == "340 million×" and flow.times(2.5) == "2.5×" and flow.times(2.2e12) == "2.2e+12×"


def test_bars_draw_every_layer_twice_with_its_number(frame):
    run = flow.start_run(frame, flow.FlowSettings(6, "relu", "pytorch_default", 10))
    assert len(re.findall(r"<title>layer", flow.bars_html(run))) == 6  # before training: the bars at init only
    flow.advance(run, 2)
    html = flow.bars_html(run)
    titles = re.findall(r"<title>layer (\d+), (\w+): ([^<]+)</title>", html)
    assert len(titles) == 12 and "after 2 steps" in html
    assert [float(v) for _, name, v in titles if name == "init"] == [float(f"{v:.3g}") for v in run.init_norms]


def test_run_for_keeps_a_run_until_the_settings_change(frame):
    settings = flow.FlowSettings(3, "tanh", "pytorch_default", 10)
    run = flow.run_for(None, frame, settings)
    assert flow.run_for(run, frame, settings) is run
    assert flow.run_for(run, frame, flow.FlowSettings(4, "tanh", "pytorch_default", 10)) is not run


def test_take_home_prints_the_same_norms(frame, tmp_path):
    run = flow.start_run(frame, flow.FlowSettings(5, "sigmoid", "seed_sqrt_n", 20))
    flow.advance(run)
    flow.advance(run, 5)
    path = tmp_path / "gradient_flow.py"
    path.write_text(flow_script(run, frame))
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"at init: {run.init_norms}" in done.stdout
    assert f"after {run.done} steps: {run.norms}" in done.stdout
