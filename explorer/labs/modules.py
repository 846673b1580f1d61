"""Modules and shapes (seed 2, second half): nn.Flatten, nn.Linear as x @ W.T + b, an nn.Module, softmax + argmax.

Each lesson step is a short top-level function that reads like the seed's cell; the page shows its source.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.init as init
from torch import nn

from explorer import svgplot

INTRO = ("The second seed notebook's walk through PyTorch's building blocks: `nn.Flatten`, `nn.Linear` (which is just "
         "**y = x @ W.T + b**), a whole `nn.Module`, softmax over classes, and how to read a tensor's shape. Left: what "
         "the notebook printed. Right: the same code, run now.")
CANDLE_FIELDS = 5  # open, high, low, close, volume
CLASSES = ("down", "flat", "up")
MODELS = ("the seed's NeuralNetwork (28×28 images)", "candle-sized (a window of candles → down, flat, up)")
INITS = ("ones_", "zeros_", "normal_ (seed 0)", "PyTorch default (kaiming_uniform_)", "xavier_uniform_")


def seed_input_image() -> torch.Tensor:
    """Seed cell 115: a 3×2×2 'image' of ones, then a few in-place additions."""
    input_image = torch.ones(3, 2, 2)
    input_image[1].add_(1)
    input_image[2].add_(2)
    input_image[0, 1, 1].add_(1)
    return input_image


def seed_flatten(input_image: torch.Tensor) -> torch.Tensor:
    """Seed cell 116: nn.Flatten keeps dim 0 (the batch) and joins the rest: [3, 2, 2] → [3, 4]."""
    flatten = nn.Flatten()
    flat_image = flatten(input_image)
    return flat_image


def seed_linear(flat_image: torch.Tensor) -> tuple[nn.Linear, torch.Tensor, torch.Tensor]:
    """Seed cell 124: a Linear(4, 2) without bias, all weights 1; its output and flat_image @ w.T."""
    layer1 = nn.Linear(in_features=2 * 2, out_features=2, bias=False)
    init.ones_(layer1.weight)
    linear_layer = layer1(flat_image)
    w = layer1.weight  # shape [out_features, in_features]
    by_hand = flat_image @ w.T
    return layer1, linear_layer, by_hand


def example_input(in_features: int) -> torch.Tensor:
    """Three rows like the seed's flat image (row i filled with i + 1, the first row ending in 2)."""
    x = torch.ones(3, in_features) * torch.tensor([[1.0], [2.0], [3.0]])
    x[0, -1] += 1
    return x


def make_linear(in_features: int, out_features: int, bias: bool, how: str, seed: int = 0) -> nn.Linear:
    """An nn.Linear whose weight (and bias) are set by one of torch.nn.init's functions."""
    if how not in INITS:
        raise ValueError(f"unknown init {how!r}; choose one of {list(INITS)}")
    with torch.random.fork_rng(devices=[]):  # seeded here without moving anyone else's random numbers
        torch.manual_seed(seed)  # the default init draws random numbers: same seed, same layer
        layer = nn.Linear(in_features, out_features, bias=bias)
        set_weights(layer, how)
    return layer


def set_weights(layer: nn.Linear, how: str) -> None:
    """Fill the layer's parameters in place with torch.nn.init (the default keeps nn.Linear's own init)."""
    with torch.no_grad():
        for p in layer.parameters():
            if how == "ones_":
                init.ones_(p)
            elif how == "zeros_":
                init.zeros_(p)
            elif how.startswith("normal_"):
                init.normal_(p)
        if how == "xavier_uniform_":
            init.xavier_uniform_(layer.weight)


def linear_by_hand(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """What nn.Linear computes: y = x @ W.T + b (W is [out_features, in_features])."""
    y = x @ layer.weight.T
    if layer.bias is not None:
        y = y + layer.bias
    return y


class NeuralNetwork(nn.Module):
    """Seed cell 141 (the PyTorch basics tutorial): flatten a 28×28 image, Linear-ReLU-Linear."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


class CandleNetwork(nn.Module):
    """The same shape of model, candle-sized: a window of candles in, one logit per class (down, flat, up) out."""

    def __init__(self, window: int = 3, hidden: int = 16):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(window * CANDLE_FIELDS, hidden),
            nn.ReLU(),
            nn.Linear(hidden, len(CLASSES))
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def model_for(which: str, window: int, hidden: int) -> nn.Module:
    """The model the page prints: the seed's NeuralNetwork, or the candle-sized one (`which` is one of MODELS)."""
    return NeuralNetwork() if which == MODELS[0] else CandleNetwork(window, hidden)


def parameter_table(model: nn.Module) -> pd.DataFrame:
    """Every parameter's name, shape and number of values (a Linear's weight is [out_features, in_features])."""
    rows = [{"parameter": name, "shape": str(list(p.shape)), "values": p.numel()}
            for name, p in model.named_parameters()]
    return pd.DataFrame(rows, columns=["parameter", "shape", "values"])


def parameters_view(model: nn.Module) -> tuple[str, str]:
    """The model's parameter table as light HTML, and how many parameters that makes."""
    table = parameter_table(model)
    return svgplot.table(table, "modules-params"), f"**{table['values'].sum():,} parameters** in {len(table)} tensors."


def candle_window(frame: pd.DataFrame, window: int, end: int) -> torch.Tensor:
    """The `window` candles ending at row `end`, prices relative to the first close and volume to its mean."""
    rows = frame[["open", "high", "low", "close", "volume"]].iloc[end - window + 1:end + 1].to_numpy(copy=True)
    if len(rows) < window:
        raise ValueError(f"need {window} candles ending at row {end}, the data has {len(frame)} rows")
    x = torch.tensor(rows, dtype=torch.float32)
    x[:, :4] = x[:, :4] / x[0, 3] - 1
    x[:, 4] = x[:, 4] / x[:, 4].mean().clamp_min(1e-12)
    return x.unsqueeze(0)  # [1, window, 5]: a batch of one


def predict_class(model: nn.Module, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Seed cell 'X → logits → softmax → argmax': the logits, the probabilities over classes, the predicted
    class."""
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    return logits, pred_probab, y_pred


@dataclass
class Prediction:
    """One candle window through the candle-sized model: per-class logits and probabilities, and the argmax."""
    table: pd.DataFrame
    predicted: str

    def table_html(self) -> str:
        """Each class's logit and softmax probability as a light HTML table."""
        return svgplot.table(self.table, "modules-softmax")


def candle_prediction(frame: pd.DataFrame, window: int, hidden: int, end: int, seed: int = 0) -> Prediction:
    """An untrained CandleNetwork (seeded) on one window: what softmax and argmax make of its logits."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CandleNetwork(window, hidden)
    with torch.no_grad():
        logits, probab, y_pred = predict_class(model, candle_window(frame, window, end))
    table = pd.DataFrame({"class": CLASSES, "logit": logits[0].tolist(), "softmax": probab[0].tolist()})
    return Prediction(table, CLASSES[int(y_pred.item())])


# --- what the page prints: the seed's printed output, and the same cells' output now -------------------------------

SEED_FLATTEN = """torch.Size([3, 4])

tensor([[1., 1., 1., 2.],
        [2., 2., 2., 2.],
        [3., 3., 3., 3.]])"""
SEED_LINEAR = """linear layer shape:torch.Size([3, 2])
weight shape:torch.Size([2, 4]) = [out_features,in_features]
y=output =
tensor([[ 5.,  5.],
        [ 8.,  8.],
        [12., 12.]], grad_fn=<MmBackward0>)"""

LINEAR_NOTE = ("Each output is a row of x times a row of W: 1+1+1+2 = 5, 2·4 = 8, 3·4 = 12. W has one row per "
               "*output*, so the layer multiplies by its transpose.")


def flatten_printout(flat_image: torch.Tensor) -> str:
    """What seed cell 116 prints."""
    return f"{flat_image.size()}\n\n{flat_image!r}"


def linear_printout(flat_image: torch.Tensor) -> str:
    """What seed cell 124 prints, run now, with flat_image @ w.T beside the layer's output."""
    layer1, linear_layer, by_hand = seed_linear(flat_image)
    return (f"linear layer shape:{linear_layer.size()}\nweight shape:{layer1.weight.shape} = "
            f"[out_features,in_features]\ny=output =\n{linear_layer}\n\nflat_image @ w.T =\n{by_hand}\n\n"
            f"torch.equal(flat_image @ w.T, layer1(flat_image)): {torch.equal(by_hand, linear_layer)}")


def layer_printouts(layer: nn.Linear, x: torch.Tensor) -> tuple[str, str]:
    """The layer's x, W and b; and x @ W.T + b by hand beside layer(x)."""
    bias = None if layer.bias is None else layer.bias.data
    manual, torch_out = linear_by_hand(layer, x), layer(x)
    return (f"x = {x!r}\n\nW = layer.weight   # shape {list(layer.weight.shape)} = [out_features, in_features]\n"
            f"{layer.weight.data!r}\n\nb = layer.bias\n{bias}",
            f"x @ W.T + b   (by hand)\n{manual.detach()!r}\n\nlayer(x)\n{torch_out.detach()!r}\n\n"
            f"torch.allclose: {torch.allclose(manual, torch_out)}")


def prediction_note(prediction: Prediction, window: int, end: int) -> str:
    return (f"Candles {end - window + 1}…{end} through the **untrained** candle-sized model (seed 0): softmax turns "
            f"the 3 logits into probabilities that sum to 1; `argmax(1)` picks **{prediction.predicted}**. Training "
            "would move these numbers; the shapes stay.")
