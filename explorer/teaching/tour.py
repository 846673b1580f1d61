"""The guided path: each lesson's seed-notebook cell and printed output next to the app's live result.

The seed outputs are quotations of the notebooks in shared/seeds (what the learner saw there); every live result is
computed here, now, by the same explorer functions the lesson pages call.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import torch

if TYPE_CHECKING:  # each lesson imports what it runs: the Guided path paints before pandas and the labs load
    import pandas as pd

ROW, SEED = 100, 0  # the seed notebook's row; our default seed for w and b


@dataclass(frozen=True)
class Stop:
    """One step of the guided path."""
    title: str
    page: str
    look_at: str
    seed_cell: str
    seed_output: str
    live: Callable[[pd.DataFrame], str]


def live_tensor(frame: pd.DataFrame) -> str:
    from explorer.tensors import candles_to_tensor
    t = candles_to_tensor(frame)
    return repr((t.dtype, t.shape, t.device))


def live_gradients(frame: pd.DataFrame) -> str:
    from explorer.autograd.lesson import gradient_printout, run_lesson
    lesson = run_lesson(frame, ROW, SEED)
    same = torch.equal(lesson.w.grad, lesson.x) and lesson.b.grad.item() == 1.0
    return gradient_printout(lesson) + f"\n\ntorch.equal(w.grad, x) and b.grad == 1: {same}"


def live_accumulation(frame: pd.DataFrame) -> str:
    from explorer.labs.accumulation import AccumulationLab
    from explorer.tensors import candle_row
    lab = AccumulationLab(candle_row(frame, ROW), SEED)
    lines = []
    for _ in range(3):
        lab.forward_backward()
        lines.append(f"{lab.w.grad!r} {lab.b.grad!r}")
    return "\n\n".join(lines)


def live_retain(_: pd.DataFrame) -> str:
    from explorer.labs.retain import RetainLab
    lab = RetainLab(-3.0)
    lab.backward(retain_graph=True)
    first = lab.pnl.grad.item()
    lab.backward()
    again = RetainLab(-3.0)
    again.backward()
    again.backward()
    return (f"retain_graph=True, then backward(): pnl.grad {first:g} → {lab.pnl.grad.item():g}\n\n"
            f"backward() twice without it:\nRuntimeError: {again.error}")


def live_raw_prices(frame: pd.DataFrame) -> str:
    from explorer.training.features import FeatureSpec, make_features
    from explorer.training.trainer import Trainer, TrainSettings
    out = []
    for norm in ("none", "zscore"):
        features = make_features(frame, FeatureSpec(rows=len(frame), normalisation=norm))
        trainer = Trainer(features, TrainSettings(init="seed_sqrt_n", seed=SEED))
        out.append(f"normalisation={norm!r}: MSE before training = {trainer.valid_loss:.4e}")
    return "\n".join(out)


def live_modules(_: pd.DataFrame) -> str:
    from explorer.labs.modules import seed_flatten, seed_input_image, seed_linear
    layer1, linear_layer, by_hand = seed_linear(seed_flatten(seed_input_image()))
    return (f"weight shape:{layer1.weight.shape} = [out_features,in_features]\ny=output = \n{linear_layer}\n\n"
            f"torch.equal(flat_image @ w.T, linear_layer): {torch.equal(by_hand, linear_layer)}")


STOPS = [
    Stop("1 · Data", "pages/data.py", "dtype, shape and device of the tensor, and how float32 rounds prices.",
         "data_tensor.dtype, data_tensor.shape, data_tensor.device",
         "(torch.float32, torch.Size([1000, 5]), device(type='cpu'))", live_tensor),
    Stop("2 · Graph", "pages/graph.py", "each op adding a node; after backward, w.grad is exactly x and b.grad is 1.",
         "y = x @ w.T + b\ny.backward()\nw.grad, b.grad",
         "(tensor([[4291.3701, 4291.3701, 4291.3701, 4291.3701,    0.0000]]),\n tensor([1.]))", live_gradients),
    Stop("3 · Gradient accumulation", "pages/accumulation.py", "w.grad growing by x on every backward().",
         "for i in range(3):\n    y = x @ w.T + b\n    y.backward()\n    print(w.grad, b.grad)",
         "tensor([[4291.3701, ...]]) tensor([1.])\ntensor([[8582.7402, ...]]) tensor([2.])\n"
         "tensor([[12874.1104, ...]]) tensor([3.])", live_accumulation),
    Stop("4 · retain_graph", "pages/retain_graph.py", "the second backward failing, and retain_graph=True fixing it.",
         "y2.backward(retain_graph=True)\ny2.backward()\npnl2.grad",
         "tensor([-6.])  then  tensor([-12.])\n\n(without retain_graph) RuntimeError: Trying to backward through "
         "the graph a second time ...", live_retain),
    Stop("5 · Training", "pages/training.py", "a loss in the hundreds of millions on raw prices, and what "
         "normalising does to it.",
         "loss = F.mse_loss(preds, t_dep)  # on raw prices around 27,000",
         "mean squared error: tensor(2.4529e+08)", live_raw_prices),
    Stop("6 · Modules and shapes", "pages/modules.py", "nn.Linear as x @ W.T: the weight is [out_features, "
         "in_features], and tensor shapes read from the outside in.",
         "layer1 = nn.Linear(in_features=2*2, out_features=2, bias=False)\ninit.ones_(layer1.weight)\n"
         "linear_layer = layer1(flat_image)",
         "weight shape:torch.Size([2, 4]) = [out_features,in_features]\ny=output = \ntensor([[ 5.,  5.],\n"
         "        [ 8.,  8.],\n        [12., 12.]], grad_fn=<MmBackward0>)", live_modules),
]
