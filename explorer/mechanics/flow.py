"""Gradient flow across depth (PyTorch's "Visualizing Gradients" tutorial): the gradient norm of each layer of a
deep MLP on lagged candle features, at init and while it trains.

The lessons (top) are plain torch: the page shows them and the take-home script is made of them. The instrument
below keeps a run, steps it a few steps at a time for the live bars, draws the bars and says what they show.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, MutableMapping

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from explorer import svgplot
from explorer.tensors import seeded
from explorer.training.features import FeatureSpec, make_features


def make_deep_mlp(n_in, depth, activation, init, n_rows, width=32):
    """`depth` nn.Linear layers (the last gives one number) with the activation between them."""
    act = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[activation]
    sizes = [n_in] + [width] * (depth - 1) + [1]
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layer = nn.Linear(fan_in, fan_out)  # PyTorch's default: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))
        if init != "pytorch_default":  # the seed's randn / sqrt(n): n is the fan-in, or the rows as the seed had it
            n = n_rows if init == "seed_sqrt_rows" else fan_in
            with torch.no_grad():
                layer.weight.copy_(torch.randn(fan_out, fan_in) / math.sqrt(n))
                layer.bias.zero_()
        layers += [layer, act()]
    return nn.Sequential(*layers[:-1])  # no activation after the last layer


def layer_grad_norms(model, x, y):
    """One forward and backward of the MSE; the norm of each layer's weight gradient, first layer first."""
    model.zero_grad()
    loss = F.mse_loss(model(x).squeeze(1), y)
    loss.backward()
    return [layer.weight.grad.norm().item() for layer in model if isinstance(layer, nn.Linear)]


def train_steps(model, optimizer, x, y, steps):
    """The usual loop, `steps` times: zero_grad, forward, MSE, backward, step."""
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x).squeeze(1), y)
        loss.backward()
        optimizer.step()
    return loss.item()


# --- the instrument: a run kept between reruns, stepped a chunk at a time; the bars and the sentence --------------

ACTIVATIONS = ("sigmoid", "tanh", "relu")
INITS = {"pytorch_default": "PyTorch's default", "seed_sqrt_n": "the seed's randn / sqrt(fan-in)",
         "seed_sqrt_rows": "the seed as written: randn / sqrt(rows)"}
FEATURES = FeatureSpec(rows=1000, lags=3, target="next_return", normalisation="zscore")
LR = 0.1
TICKS = 20  # a run of k steps is drawn this many times while it trains
TICK_SECONDS = 0.3
STEPS = (10, 20, 50, 100, 200, 500)  # the training-steps slider's stops
COLORS = {"init": "#9aa5b1", "now": "#1f5fd6"}
INTRO = ("PyTorch's *Visualizing Gradients* tutorial on the candles: a deep MLP reads 3 lagged candles and predicts "
         "the next return. On its way back each layer multiplies the gradient by its weights and its activation's "
         "slope; the bars show each layer's ‖∂loss/∂W‖ (log scale).")
HELP = {"depth": "How many nn.Linear layers (the last one gives the prediction).",
        "activation": "Between the layers: sigmoid's slope is at most 0.25, tanh's at most 1, relu's 0 or 1.",
        "init": "How each weight is drawn: nn.Linear's own uniform(±1/sqrt(fan-in)), or the seed's "
                "torch.randn(c) / math.sqrt(n) with n the layer's fan-in, or the number of rows as the seed wrote it.",
        "steps": f"How many steps of plain SGD (lr {LR}) the Train button runs, drawn as it goes.",
        "train": "Train the MLP, redrawing the bars as it goes.", "reset": "A fresh MLP (same seed): back to init."}


@dataclass(frozen=True)
class FlowSettings:
    """What the page's widgets choose: depth (1-20 layers), activation, init, training steps, seed."""
    depth: int = 10
    activation: str = "sigmoid"
    init: str = "pytorch_default"
    steps: int = 100
    seed: int = 0


@dataclass
class FlowRun:
    """A model, its data and optimizer, the norms at init and now, and how many steps it has taken."""
    settings: FlowSettings
    model: nn.Module
    optimizer: torch.optim.Optimizer
    x: torch.Tensor
    y: torch.Tensor
    init_norms: list[float]
    norms: list[float]
    done: int = 0
    losses: list[float] = field(default_factory=list)
    data_key: tuple = ()  # which candles it was built from

    @property
    def finished(self) -> bool:
        return self.done >= self.settings.steps


def start_run(frame: pd.DataFrame, settings: FlowSettings) -> FlowRun:
    """The lagged, z-scored features of the first candles, a fresh seeded MLP and its norms at init."""
    data = make_features(frame, FEATURES)
    x, y = data.x_train, data.y_train
    with seeded(settings.seed):
        model = make_deep_mlp(x.shape[1], settings.depth, settings.activation, settings.init, len(x))
    norms = layer_grad_norms(model, x, y)
    return FlowRun(settings, model, torch.optim.SGD(model.parameters(), lr=LR), x, y, norms, list(norms),
                   data_key=(id(frame), len(frame)))


def run_for(run: FlowRun | None, frame: pd.DataFrame, settings: FlowSettings) -> FlowRun:
    """`run` while it was built from these candles and settings, else a fresh one."""
    if run is not None and run.settings == settings and run.data_key == (id(frame), len(frame)):
        return run
    return start_run(frame, settings)


RUN_KEY = "flow_run"  # the session's run: a live model, kept between reruns, rebuilt when the settings change
PLAYING_KEY = "flow_playing"  # the Train button was clicked and the run has steps left


def session_run(state: MutableMapping[str, Any], frame: pd.DataFrame, settings: FlowSettings) -> FlowRun:
    """The session's run for these candles and settings; a new one (new settings) starts at rest, until Train."""
    run = run_for(state.get(RUN_KEY), frame, settings)
    if run is not state.get(RUN_KEY):
        state[PLAYING_KEY] = False
    state[RUN_KEY] = run
    return run


def start_over(state: MutableMapping[str, Any], frame: pd.DataFrame) -> FlowRun:
    """A fresh model with the same settings (and seed), at rest: back to init."""
    state[RUN_KEY], state[PLAYING_KEY] = start_run(frame, state[RUN_KEY].settings), False
    return state[RUN_KEY]


def play(state: MutableMapping[str, Any]) -> bool:
    """While the run plays, one tick's steps; True when that was its last (it stops playing)."""
    if not state.get(PLAYING_KEY):
        return False
    advance(state[RUN_KEY])
    state[PLAYING_KEY] = not state[RUN_KEY].finished
    return not state[PLAYING_KEY]


def sentences(run: FlowRun) -> str:
    """What the bars show, at init and (once it trained) now, one line each."""
    lines = [flow_sentence(run.init_norms, "At init")]
    if run.done:
        lines.append(flow_sentence(run.norms, f"After {run.done} steps"))
    return "  \n".join(lines)


def advance(run: FlowRun, steps: int | None = None) -> None:
    """Train up to `steps` more steps (default: one tick's share), then measure the norms again."""
    n = min(steps or max(1, run.settings.steps // TICKS), run.settings.steps - run.done)
    if n <= 0:
        return
    run.losses.append(train_steps(run.model, run.optimizer, run.x, run.y, n))
    run.done += n
    run.norms = layer_grad_norms(run.model, run.x, run.y)


def times(ratio: float) -> str:
    """A ratio as words read it: 2.5×, 340×, 340 million×, 2.2e+12×."""
    if ratio >= 1e9:
        return f"{ratio:.1e}×"
    if ratio >= 1e6:
        return f"{ratio / 1e6:,.0f} million×"
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def flow_sentence(norms: list[float], when: str) -> str:
    """What the bars show, from the numbers: how much smaller (or larger) the first layer's gradient is."""
    first, last = norms[0], norms[-1]
    if len(norms) == 1:
        return f"{when}: one layer, gradient norm {first:.3g}. Add layers to see the gradient change on its way back."
    if first == 0 or last == 0:
        which = "first" if first == 0 else "last"
        return f"{when}: the {which} layer's gradient is exactly 0: no signal reaches it (dead units pass none)."
    ratio = last / first
    if 1 / 1.5 < ratio < 1.5:
        return (f"{when}: the first layer's gradient ({first:.2g}) is about the size of the last's ({last:.2g}): "
                f"it reaches the input through all {len(norms)} layers.")
    word, r = ("smaller", ratio) if ratio > 1 else ("larger", 1 / ratio)
    return (f"{when}: the first layer's gradient is {times(r)} {word} than the last's ({first:.2g} vs {last:.2g}), "
            f"after {len(norms) - 1} layers on its way back.")


def bars_html(run: FlowRun) -> str:
    """Each layer's gradient norm at init and now, as bars on a log scale (light SVG: redrawn while it trains)."""
    series = {"init": run.init_norms, "now": run.norms} if run.done else {"init": run.init_norms}
    logs = [math.log10(v) for s in series.values() for v in s if v > 0]
    low, high = (math.floor(min(logs)), math.ceil(max(logs))) if logs else (-1, 0)
    low = min(low, high - 1)
    slot, bars = svgplot.W / len(run.norms), []
    for k, (name, values) in enumerate(series.items()):
        for i, v in enumerate(values):
            top = svgplot.scale([math.log10(v) if v > 0 else low], low, high, svgplot.H, flip=True)[0]
            bars.append(f'<rect x="{slot * (i + 0.12 + 0.38 * k):.1f}" y="{top:.1f}" width="{slot * 0.36:.1f}" '
                        f'height="{svgplot.H - top:.1f}" fill="{COLORS[name]}"><title>layer {i + 1}, '
                        f'{name}: {v:.3g}</title></rect>')
    mid = (low + high) / 2
    names = {"init": "at init", "now": f"after {run.done} steps"}
    legend = svgplot.legend({names[name]: COLORS[name] for name in series})
    return (f'<div class="flow-bars" style="display:flex;flex-direction:column">'
            f'<div style="{svgplot.SMALL}">{legend}</div>'
            + svgplot.box("".join(bars), [f"{10 ** high:.0e}", f"{10 ** mid:.1e}", f"{10 ** low:.0e}"],
                          ["layer 1 (input side)", "‖∂loss/∂W‖ per layer · log scale",
                           f"layer {len(run.norms)} (output)"], height="auto") + "</div>")  # as tall as wide × 0.3


TABLE_FORMATS = {"at init": ".3e", "now": ".3e"}


def norms_table(run: FlowRun) -> pd.DataFrame:
    """The bars' numbers: layer, norm at init, norm now."""
    return pd.DataFrame({"layer": range(1, len(run.norms) + 1), "at init": run.init_norms, "now": run.norms})
