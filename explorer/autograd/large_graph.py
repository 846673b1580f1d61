"""A large graph to practise on: a small MLP's loss on lagged candle features, with nodes tagged by module."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pandas as pd
import torch
from torch import nn

from explorer.autograd.walk import walk_grad_fns
from explorer.data.columns import OHLCV
from explorer.tensors import candles_to_tensor, seeded

FEATURES = OHLCV


def lagged_batch(frame: pd.DataFrame, lags: int = 3, rows: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs: the last `lags` candles (all columns, z-scored); target: the next candle's high (z-scored)."""
    values = candles_to_tensor(frame[list(FEATURES)])[: rows + lags]
    values = (values - values.mean(0)) / values.std(0).clamp_min(1e-6)  # raw prices would saturate the net
    inputs = torch.stack([values[i: i + lags].reshape(-1) for i in range(len(values) - lags)])
    target = values[lags:, FEATURES.index("high")].reshape(-1, 1)
    return inputs, target


def make_mlp(n_inputs: int, hidden: int = 16, layers: int = 2, seed: int = 0) -> nn.Sequential:
    """Linear/ReLU blocks then a Linear head; `layers` hidden layers of width `hidden`."""
    with seeded(seed):  # seeded init without moving anyone else's random stream
        blocks: list[nn.Module] = []
        width = n_inputs
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        blocks.append(nn.Linear(width, 1))
        return nn.Sequential(*blocks)


def _tag(output: object, module_name: str, module_type: str, stop: set[int]) -> None:
    """Mark every grad_fn this module created (walking back from its output until its inputs)."""
    if not isinstance(output, torch.Tensor) or output.grad_fn is None:
        return
    for fn in walk_grad_fns(output, skip=lambda fn: id(fn) in stop or hasattr(fn, "variable")
                            or "module" in fn.metadata):
        fn.metadata["module"], fn.metadata["module_type"] = module_name, module_type


@contextmanager
def tag_modules(model: nn.Module) -> Iterator[None]:
    """While active, grad_fns built inside each leaf module carry metadata['module'] (its dotted name)."""
    handles, stops = [], {}
    for name, module in model.named_modules():
        if name == "" or list(module.children()):
            continue

        def pre(mod, args, name=name):
            stops[name] = {id(a.grad_fn) for a in args if isinstance(a, torch.Tensor) and a.grad_fn is not None}

        def post(mod, args, output, name=name):
            _tag(output, name, type(mod).__name__, stops.pop(name, set()))

        handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def mlp_loss(model, inputs, target):
    """The MLP's mean squared error on the batch: the loss whose graph is drawn."""
    prediction = model(inputs)
    return nn.functional.mse_loss(prediction, target)


def tagged_mlp_loss(frame: pd.DataFrame, hidden: int = 16, layers: int = 2, seed: int = 0, rows: int = 32,
                    device: str = "cpu", backward: bool = False) -> tuple[torch.Tensor, dict[str, torch.Tensor],
                                                                          nn.Sequential]:
    """mlp_loss of a fresh MLP on a small batch of lagged candles, its grad_fns tagged by module (and backward()
    run when asked): the loss, the named parameters, the model."""
    inputs, target = (t.to(device) for t in lagged_batch(frame, rows=rows))
    model = make_mlp(inputs.shape[1], hidden, layers, seed).to(device)
    with tag_modules(model):
        loss = mlp_loss(model, inputs, target)
    if backward:
        loss.backward()
    return loss, dict(model.named_parameters()), model


def leaf_modules(model: nn.Module) -> dict[str, str]:
    """Each module without children (what a graph can draw as one box): its name → 'name: Type'."""
    return {n: f"{n}: {type(m).__name__}" for n, m in model.named_modules() if n and not list(m.children())}
