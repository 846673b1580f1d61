"""Models, losses and optimisers for the training page: the seed's from-scratch linear model, nn.Linear and an MLP."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

MODELS = ("scratch_linear", "linear", "mlp")
ACTIVATIONS = ("relu", "tanh", "sigmoid")
INITS = ("pytorch_default", "seed_sqrt_n")
LOSSES = ("mse", "mae", "huber", "bce_logits", "cross_entropy")
OPTIMIZERS = ("manual_sgd", "sgd", "adam")
# The learning rates the Training page's slider offers; advice never names a rate outside them.
LEARNING_RATES = (1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)

CROSS_ENTROPY_ON_REGRESSION = (
    "Cross-entropy is for classes, not prices. `F.cross_entropy(input, target)` reads `input` as one score per "
    "class and `target` as class labels or class probabilities. The seed called `F.cross_entropy(preds, t_dep)` "
    "with a 1-D vector of predicted prices and a 1-D vector of true prices, so PyTorch saw ONE example with "
    "11,713 classes whose 'probabilities' were prices around 27,000: it computed −Σ price·log softmax(preds), "
    "≈ 2.2e12, which measures nothing about how close the predictions are. For a price or a return use MSE, MAE "
    "or Huber; cross-entropy (or BCE-with-logits) belongs to the up/down direction target.")


class SettingsError(ValueError):
    """The model/loss/optimiser settings cannot work together; the message explains why."""


def calc_preds(coeffs: torch.Tensor, indeps: torch.Tensor) -> torch.Tensor:
    """The seed's prediction: each row's features times the coefficients, summed along the row."""
    return (indeps * coeffs).sum(axis=1)


def calc_loss(coeffs: torch.Tensor, indeps: torch.Tensor, deps: torch.Tensor) -> torch.Tensor:
    """The seed's loss: mean absolute error of calc_preds."""
    return torch.abs(calc_preds(coeffs, indeps) - deps).mean()


class ScratchLinear(nn.Module):
    """The seed's model: a `coeffs` tensor (one per feature, requires_grad, no bias) used by calc_preds."""

    def __init__(self, n_features: int, init: str = "pytorch_default"):
        super().__init__()
        if init == "seed_sqrt_n":  # randn / sqrt(fan-in); the seed divided by sqrt(rows), which is not Xavier
            coeffs = torch.randn(n_features) / math.sqrt(n_features)
        else:  # the same uniform(-1/sqrt(fan-in), 1/sqrt(fan-in)) nn.Linear uses
            bound = 1 / math.sqrt(n_features)
            coeffs = torch.rand(n_features) * 2 * bound - bound
        self.coeffs = nn.Parameter(coeffs)  # a Parameter is a tensor with requires_grad=True

    def forward(self, indeps: torch.Tensor) -> torch.Tensor:
        """calc_preds with this model's coeffs."""
        return calc_preds(self.coeffs, indeps)

    def extra_repr(self) -> str:
        """What print(model) shows inside the brackets."""
        return f"coeffs: {tuple(self.coeffs.shape)}, preds = (indeps * coeffs).sum(axis=1)"


def build_model(kind: str, n_features: int, n_outputs: int, hidden_sizes: list[int], activation: str,
                init: str) -> nn.Module:
    """The chosen model; one output is flattened to [n] so it lines up with t_dep."""
    if kind == "scratch_linear":
        return ScratchLinear(n_features, init)
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[activation]
    sizes = [n_features, *(hidden_sizes if kind == "mlp" else []), n_outputs]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = nn.Linear(fan_in, fan_out)
        if init == "seed_sqrt_n":
            with torch.no_grad():
                layer.weight.copy_(torch.randn(fan_out, fan_in) / math.sqrt(fan_in))
                layer.bias.zero_()
        layers.append(layer)
        if i < len(sizes) - 2:
            layers.append(act())
    if n_outputs == 1:
        layers.append(nn.Flatten(0))  # [n, 1] -> [n]
    return nn.Sequential(*layers)


def direction_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over two classes (down=0, up=1): logits [n, 2], labels [n] as class indices."""
    return F.cross_entropy(logits, labels.long())


def make_loss(name: str):
    """The loss function for a name in LOSSES."""
    return {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss,
            "bce_logits": F.binary_cross_entropy_with_logits, "cross_entropy": direction_cross_entropy}[name]


class ManualSGD:
    """The seed's update written out by hand: every parameter takes a step against its gradient."""

    def __init__(self, params, lr: float):
        self.params = list(params)
        self.lr = lr

    def zero_grad(self) -> None:
        """The seed's coeffs.grad.zero_(): otherwise the next backward() adds onto these gradients."""
        for p in self.params:
            if p.grad is not None:
                p.grad.zero_()

    def step(self) -> None:
        """p -= lr * p.grad for every parameter."""
        with torch.no_grad():  # the update itself must not become part of the graph
            for p in self.params:
                p -= self.lr * p.grad


def make_optimizer(name: str, params, lr: float, momentum: float):
    """ManualSGD, torch.optim.SGD (with momentum) or torch.optim.Adam."""
    if name == "manual_sgd":
        return ManualSGD(params, lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    return torch.optim.Adam(params, lr=lr)


def lower_rate(lr: float, factor: float, rates: tuple[float, ...] = LEARNING_RATES) -> float | None:
    """The offered rate nearest lr / factor from below (at least one step lower than lr); None if lr is the lowest."""
    below = [r for r in rates if r < lr]
    if not below:
        return None
    return max([r for r in below if r <= lr / factor * (1 + 1e-9)] or [min(below)])


def n_outputs_for(loss: str) -> int:
    """Cross-entropy needs one logit per class (down, up); every other loss one number per row."""
    return 2 if loss == "cross_entropy" else 1


def parse_hidden_sizes(text: str) -> tuple[int, ...]:
    """'16, 16' -> (16, 16); anything else raises SettingsError naming the bad part."""
    parts = text.replace(",", " ").split()
    bad = [p for p in parts if not p.isdigit()]
    if bad:
        raise SettingsError(f"Hidden layer sizes must be whole numbers separated by commas, e.g. 16, 16 "
                            f"(could not read {bad[0]!r}).")
    return tuple(int(p) for p in parts)


def check_settings(classification: bool, model: str, loss: str, hidden_sizes: list[int]) -> None:
    """Raise SettingsError when the target, model and loss do not fit together."""
    if not classification and loss == "cross_entropy":
        raise SettingsError(CROSS_ENTROPY_ON_REGRESSION)
    if not classification and loss == "bce_logits":
        raise SettingsError("BCE-with-logits expects labels 0 or 1 and reads the output as the logit of 'up'; "
                            "a price or return target is not a probability. Use MSE, MAE or Huber, or choose "
                            "the next_direction target.")
    if model == "scratch_linear" and loss == "cross_entropy":
        raise SettingsError("Cross-entropy needs one score per class (2 for down/up), but the seed's linear model "
                            "gives one number per row. Use BCE-with-logits, or choose nn.Linear or the MLP.")
    if model == "mlp" and not hidden_sizes:
        raise SettingsError("The MLP needs at least one hidden layer size, e.g. 16, 16.")
    if any(h < 1 or h > 1024 for h in hidden_sizes):
        raise SettingsError(f"Hidden layer sizes must be between 1 and 1024 (got {list(hidden_sizes)}).")
