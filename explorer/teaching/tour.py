"""The guided path: each lesson's seed-notebook cell and printed output next to the app's live result.

The seed outputs are quotations of the notebooks in shared/seeds (what the learner saw there); every live result is
computed here, now, by the same explorer functions the lesson pages call.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, MutableMapping

import numpy as np
import torch

from explorer.teaching.controls import Control, PageState
from explorer.teaching.shareable import Shared

if TYPE_CHECKING:  # each lesson imports what it runs: the Guided path paints before pandas and the labs load
    import pandas as pd

INTRO = ("See what PyTorch autograd really does, on candle (OHLCV) market data: every tensor operation, the graph it "
         "builds, the numbers on its nodes, and `backward()` one node at a time. Follow the path below; each stop "
         "shows what the seed notebook printed and what the same code gives here, live. Every number is computed by "
         "PyTorch as you watch — nothing is pre-recorded.")
ROW, SEED = 100, 0  # the seed notebook's row; our default seed for w and b

SCALES = ((1e12, "trillions"), (1e9, "billions"), (1e6, "millions"), (1e3, "thousands"), (1.0, ""))


def magnitude_phrase(value: float) -> str:
    """Words for a number's order of magnitude: 3.06e7 -> 'in the tens of millions', 245.3 -> 'in the hundreds'."""
    size = abs(value)
    if size != size or size == float("inf"):
        return f"of {value}"  # nan / inf: the number itself is the news
    if size < 1:
        return "below one"
    if size >= 1e15:
        return f"around {size:.0e}"
    for base, unit in SCALES:
        if size >= base:
            digits = len(str(int(size // base)))  # 1, 2 or 3 digits in front of the unit
            if not unit:
                return ("in single digits", "in the tens", "in the hundreds")[digits - 1]
            return (f"in the {unit}", f"in the tens of {unit}", f"in the hundreds of {unit}")[digits - 1]
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Live:
    """One stop's result on the loaded candles: what to look at (worded from the numbers) and the printout."""
    look_at: str
    printout: str


@dataclass(frozen=True)
class Stop:
    """One step of the guided path; `lessons` names the lesson functions its live result runs (imported late)."""
    title: str
    page: str
    seed_cell: str
    seed_output: str
    live: Callable[[pd.DataFrame], Live]
    lessons: Callable[[], tuple]

    @property
    def name(self) -> str:
        """The lesson's name, without the stop's number ('Gradient accumulation')."""
        return self.title.split("· ")[1]


def live_tensor(frame: pd.DataFrame) -> Live:
    from explorer.tensors import candles_to_tensor
    t = candles_to_tensor(frame)
    price = float(t[:, list(frame.columns).index("close")].abs().max())
    step = float(np.spacing(np.float32(price)))  # the gap between neighbouring float32 numbers at that price
    return Live(f"a {t.dtype} tensor of shape {tuple(t.shape)} on {t.device}; float32 keeps about 7 significant "
                f"digits, so prices near {price:,.0f} are stored in steps of {step:.2g}.",
                repr((t.dtype, t.shape, t.device)))


def live_gradients(frame: pd.DataFrame) -> Live:
    from explorer.autograd.lesson import graph_lesson, gradient_printout, make_leaves
    x, w, b = make_leaves(frame, ROW, SEED)
    graph_lesson(x, w, b)
    same = torch.equal(w.grad, x) and b.grad.item() == 1.0
    words = ("each op adding a node; after backward, w.grad is exactly x (w.grad[0] = "
             f"{w.grad.flatten()[0].item():.4f}) and b.grad is 1." if same else
             "each op adding a node; after backward, w.grad is *not* x here: see the Graph page for why.")
    return Live(words, gradient_printout(w, b) + f"\n\ntorch.equal(w.grad, x) and b.grad == 1: {same}")


def live_accumulation(frame: pd.DataFrame) -> Live:
    from explorer.autograd.lesson import make_leaves
    from explorer.labs.accumulation import forward_backward
    x, w, b = make_leaves(frame, ROW, SEED)
    lines, first = [], []
    for _ in range(3):
        forward_backward(x, w, b)
        first.append(w.grad.flatten()[0].item())
        lines.append(f"{w.grad!r} {b.grad!r}")
    growth = " → ".join(f"{v:,.2f}" for v in first)
    return Live(f"w.grad growing by x on every backward(): w.grad[0] {growth}, b.grad 1 → 2 → "
                f"{b.grad.item():g}.", "\n\n".join(lines))


def live_retain(_: pd.DataFrame) -> Live:
    from explorer.labs.retain import backward, custom_trading_loss
    pnl = torch.tensor([-3.0], requires_grad=True)
    loss = custom_trading_loss(pnl)
    backward(loss, retain_graph=True)
    first = pnl.grad.item()
    backward(loss, retain_graph=False)
    again = custom_trading_loss(torch.tensor([-3.0], requires_grad=True))
    backward(again, retain_graph=False)
    try:
        backward(again, retain_graph=False)
        error = None
    except RuntimeError as exc:  # PyTorch's own message
        error = str(exc)
    failed = "fails with a RuntimeError" if error else "does not fail (!)"
    return Live(f"a second backward() without retain_graph {failed}; with retain_graph=True it works and pnl.grad "
                f"goes {first:g} → {pnl.grad.item():g}.",
                f"retain_graph=True, then backward(): pnl.grad {first:g} → {pnl.grad.item():g}\n\n"
                f"backward() twice without it:\nRuntimeError: {error}")


def live_raw_prices(frame: pd.DataFrame) -> Live:
    from explorer.training.features import FeatureSpec, make_features
    from explorer.training.trainer import Trainer, TrainSettings
    losses = {}
    for norm in ("none", "zscore"):
        features = make_features(frame, FeatureSpec(rows=len(frame), normalisation=norm))
        losses[norm] = Trainer(features, TrainSettings(init="seed_sqrt_n", seed=SEED)).valid_loss
    raw, scaled = losses["none"], losses["zscore"]
    return Live(f"a loss {magnitude_phrase(raw)} on raw prices ({raw:.3g}), and {scaled:.3g} once the inputs are "
                f"z-score normalised ({magnitude_phrase(scaled)}).",
                "\n".join(f"normalisation={norm!r}: MSE before training = {loss:.4e}" for norm, loss in losses.items()))


def live_modules(_: pd.DataFrame) -> Live:
    from explorer.labs.modules import seed_flatten, seed_input_image, seed_linear
    layer1, linear_layer, by_hand = seed_linear(seed_flatten(seed_input_image()))
    same = torch.equal(by_hand, linear_layer)
    return Live(f"nn.Linear as x @ W.T: the weight is {list(layer1.weight.shape)} = [out_features, in_features], and "
                f"flat_image @ w.T {'equals' if same else 'differs from'} the layer's output.",
                f"weight shape:{layer1.weight.shape} = [out_features,in_features]\ny=output = \n{linear_layer}\n\n"
                f"torch.equal(flat_image @ w.T, linear_layer): {same}")


def tensor_lessons() -> tuple:
    from explorer.tensors import candles_to_tensor
    return (candles_to_tensor,)


def graph_lessons() -> tuple:
    from explorer.autograd.lesson import graph_lesson, make_leaves, seed_forward
    return make_leaves, seed_forward, graph_lesson


def accumulation_lessons() -> tuple:
    from explorer.labs.accumulation import forward_backward
    return (forward_backward,)


def retain_lessons() -> tuple:
    from explorer.labs.retain import backward, custom_trading_loss
    return custom_trading_loss, backward


def training_lessons() -> tuple:
    from explorer.training.features import lagged_windows
    from explorer.training.trainer import evaluate
    return lagged_windows, evaluate


def modules_lessons() -> tuple:
    from explorer.labs.modules import seed_flatten, seed_input_image, seed_linear
    return seed_input_image, seed_flatten, seed_linear


STOPS = [
    Stop("1 · Data", "pages/data.py", "data_tensor.dtype, data_tensor.shape, data_tensor.device",
         "(torch.float32, torch.Size([1000, 5]), device(type='cpu'))", live_tensor, tensor_lessons),
    Stop("2 · Graph", "pages/graph.py", "y = x @ w.T + b\ny.backward()\nw.grad, b.grad",
         "(tensor([[4291.3701, 4291.3701, 4291.3701, 4291.3701,    0.0000]]),\n tensor([1.]))", live_gradients,
         graph_lessons),
    Stop("3 · Gradient accumulation", "pages/accumulation.py",
         "for i in range(3):\n    y = x @ w.T + b\n    y.backward()\n    print(w.grad, b.grad)",
         "tensor([[4291.3701, ...]]) tensor([1.])\ntensor([[8582.7402, ...]]) tensor([2.])\n"
         "tensor([[12874.1104, ...]]) tensor([3.])", live_accumulation, accumulation_lessons),
    Stop("4 · retain_graph", "pages/retain_graph.py", "y2.backward(retain_graph=True)\ny2.backward()\npnl2.grad",
         "tensor([-6.])  then  tensor([-12.])\n\n(without retain_graph) RuntimeError: Trying to backward through "
         "the graph a second time ...", live_retain, retain_lessons),
    Stop("5 · Training", "pages/training.py", "loss = F.mse_loss(preds, t_dep)  # on raw prices around 27,000",
         "mean squared error: tensor(2.4529e+08)", live_raw_prices, training_lessons),
    Stop("6 · Modules and shapes", "pages/modules.py",
         "layer1 = nn.Linear(in_features=2*2, out_features=2, bias=False)\ninit.ones_(layer1.weight)\n"
         "linear_layer = layer1(flat_image)",
         "weight shape:torch.Size([2, 4]) = [out_features,in_features]\ny=output = \ntensor([[ 5.,  5.],\n"
         "        [ 8.,  8.],\n        [12., 12.]], grad_fn=<MmBackward0>)", live_modules, modules_lessons),
]


def live_results(frame: pd.DataFrame) -> list[Live]:
    """Every stop's live result on these candles; a stop the data cannot serve says so instead."""
    results = []
    for stop in STOPS:
        try:
            results.append(stop.live(frame))
        except ValueError as exc:  # e.g. an uploaded file with fewer than 101 rows
            results.append(Live("(this stop needs more candles)", f"(not available for the loaded data: {exc})"))
    return results


TOUR_KEY = "tour_stop"  # the session's last stop on the path (the radio's own state is dropped off its page)
STOP_KEY = "home_stop"  # the Guided path's radio of stops


def stop_title(number: int) -> str:
    return STOPS[number - 1].title


# The radio is drawn from STOP_PICKER; a link carries its stop as a number (HOME_LINK), in the stops' range.
STOP_PICKER = PageState((Control("radio", STOP_KEY, "Stop", tuple(range(1, len(STOPS) + 1)),
                                 more={"horizontal": True, "format_func": stop_title,
                                       "label_visibility": "collapsed"}),))
HOME_LINK = (Shared(STOP_KEY, "int", 1, len(STOPS)),)
# Previous / next under the radio: label, key, step, keyboard shortcut, button type.
STEP_BUTTONS = (("previous stop", "home_prev", -1, "Left", "secondary"),
                ("next stop", "home_next", 1, "Right", "primary"))


def data_key(source: str, frame: pd.DataFrame) -> str:
    """A short key that changes with the loaded candles (the live results are cached per key)."""
    return f"{source}|{len(frame)}|{frame.index[0]}|{frame.index[-1]}"


def resume(state: MutableMapping) -> None:
    """The radio starts at the stop the learner was at last (its own state is dropped while another page shows)."""
    state.setdefault(STOP_KEY, state.get(TOUR_KEY, 1))


def move(state: MutableMapping, step: int) -> None:
    """Previous / next stop, never past either end of the path."""
    state[STOP_KEY] = min(max(state[STOP_KEY] + step, 1), len(STOPS))


def can_move(number: int, step: int) -> bool:
    """Whether stop `number` has a stop `step` away (the previous button is off at the first stop, next at the last)."""
    return 1 <= number + step <= len(STOPS)


def go_to(state: MutableMapping, number: int) -> None:
    """Make stop `number` the one the Guided path shows, now and when the learner comes back."""
    state[TOUR_KEY] = state[STOP_KEY] = number


def stop_number(page: str) -> int | None:
    """The stop (1-based) whose lesson is this page: 'accumulation', or 'pages/accumulation.py'; None if none."""
    name = page.rsplit("/", 1)[-1].removesuffix(".py")
    return next((n for n, stop in enumerate(STOPS, start=1) if stop.page == f"pages/{name}.py"), None)


def next_stop(page: str) -> tuple[int, str] | None:
    """The stop after this page's on the guided path: (its number, the link's words); None after the last one."""
    number = stop_number(page)
    if number is None or number == len(STOPS):
        return None
    return number + 1, f"Next on the guided path: {STOPS[number].title} →"
