"""The accumulation lab inside a model: nn.Linear + SGD, with and without optimizer.zero_grad().

Forgetting zero_grad is its own lesson, sgd_step_without_zero_grad: the line is missing, not switched off.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from explorer import svgplot
from explorer.labs import LabButton
from explorer.tensors import seeded

LEARNING_RATES = (1e-6, 1e-5, 1e-4, 1e-3)  # the page's choices (and a link's)
OPTIMIZER_INTRO = ("The same thing inside a model: `nn.Linear(5, 1)` and `torch.optim.SGD`. The seed's "
                   "`y.backward()` is the loss. `optimizer.step()` uses whatever `.grad` holds: forget "
                   "`optimizer.zero_grad()` and the update is `−lr × (sum of all gradients so far)`, not "
                   "`−lr × this step's gradient`.")
STEPS_NOTE = ("`Δ == −lr·grad` checks plain SGD's rule on every parameter. `optimizer.zero_grad()` sets grads to "
              "`None` by default (set_to_none=True).")


def seeded_linear(n_features: int, seed: int) -> nn.Linear:
    """nn.Linear(n_features, 1) with PyTorch's default init, reproducible from `seed` (global RNG untouched)."""
    with seeded(seed):
        return nn.Linear(n_features, 1)


def sgd_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor) -> torch.Tensor:
    """One training step as PyTorch's tutorials write it: clear the grads, forward, backward, step."""
    optimizer.zero_grad()  # set_to_none=True by default: .grad becomes None
    y = model(x).sum()  # the seed's y.backward(): the output itself is the "loss"
    y.backward()
    optimizer.step()  # p -= lr * p.grad
    return y


def sgd_step_without_zero_grad(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor) -> torch.Tensor:
    """The same step with optimizer.zero_grad() forgotten: step() applies the sum of every gradient so far."""
    y = model(x).sum()
    y.backward()  # adds this step's gradient to whatever .grad already holds
    optimizer.step()  # p -= lr * (sum of the gradients of every step so far)
    return y


@dataclass
class OptimizerStep:
    """One training step: the gradient optimizer.step() saw and the change it made."""
    step: int
    zero_grad_called: bool
    y: float
    weight_grad: list[float]
    bias_grad: float
    weight_delta: list[float]
    bias_delta: float
    update_is_minus_lr_grad: bool


class OptimizerLab:
    """nn.Linear + SGD on one candle row; the 'loss' is the output y itself, as in the seed's y.backward()."""

    def __init__(self, x: torch.Tensor, seed: int, lr: float) -> None:
        if not lr > 0:
            raise ValueError(f"the learning rate must be positive, got {lr}")
        self.x, self.seed, self.lr = x, seed, lr
        self.reset()

    def reset(self) -> None:
        """A fresh nn.Linear from the seed and a fresh SGD, no steps."""
        self.model = seeded_linear(self.x.shape[-1], self.seed).to(self.x.device)  # follows x onto its device
        # plain SGD (no momentum, no weight decay) so that step() is exactly p -= lr * p.grad
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=self.lr)
        self.steps: list[OptimizerStep] = []

    def train_step(self, zero_grad: bool) -> OptimizerStep:
        """One sgd_step (or sgd_step_without_zero_grad), recorded: the gradient step() used (step() leaves .grad as it
        is) and the change it made."""
        weight_before = self.model.weight.detach().clone()
        bias_before = self.model.bias.detach().clone()
        y = (sgd_step if zero_grad else sgd_step_without_zero_grad)(self.model, self.optimizer, self.x)
        weight_grad = self.model.weight.grad.clone()
        bias_grad = self.model.bias.grad.clone()
        weight_delta = self.model.weight.detach() - weight_before
        bias_delta = self.model.bias.detach() - bias_before
        matches = (torch.allclose(weight_delta, -self.lr * weight_grad, rtol=1e-4, atol=1e-6)
                   and torch.allclose(bias_delta, -self.lr * bias_grad, rtol=1e-4, atol=1e-6))
        record = OptimizerStep(len(self.steps) + 1, zero_grad, y.item(), weight_grad.flatten().tolist(),
                               bias_grad.item(), weight_delta.flatten().tolist(), bias_delta.item(), matches)
        self.steps.append(record)
        return record

    def printout(self) -> str:
        """The layer's parameters and their grads as torch prints them."""
        m = self.model
        return (f"weight      = {m.weight.data}\nbias        = {m.bias.data}\n"
                f"weight.grad = {m.weight.grad}\nbias.grad   = {m.bias.grad}")

    def grads_now(self) -> tuple[list[float] | None, float | None]:
        """What weight.grad and bias.grad hold right now (None after optimizer.zero_grad())."""
        w, b = self.model.weight.grad, self.model.bias.grad
        return (None if w is None else w.flatten().tolist(), None if b is None else b.item())


def lab_for(lab: OptimizerLab | None, x: torch.Tensor, seed: int, lr: float) -> OptimizerLab:
    """`lab` while it was built from this x, seed and learning rate, else a fresh one."""
    if lab is not None and (lab.seed, lab.lr) == (seed, lr) and torch.equal(lab.x, x):
        return lab
    return OptimizerLab(x, seed, lr)


def optimizer_frame(steps: list[OptimizerStep], feature_names: list[str], feature: int = 0) -> pd.DataFrame:
    """One row per step: the gradient step() used on one weight and on the bias, and the update it made."""
    name = feature_names[feature]
    rows = [{
        "step": s.step,
        "optimizer.zero_grad()": "called" if s.zero_grad_called else "forgotten",
        "y": s.y,
        f"weight.grad[{name}]": s.weight_grad[feature],
        "bias.grad": s.bias_grad,
        f"Δweight[{name}]": s.weight_delta[feature],
        "Δbias": s.bias_delta,
        "Δ == −lr·grad": s.update_is_minus_lr_grad,
    } for s in steps]
    return pd.DataFrame(rows).set_index("step") if rows else pd.DataFrame()


def steps_html(steps: list[OptimizerStep], feature_names: list[str]) -> str:
    """optimizer_frame as a light HTML table."""
    return svgplot.table(optimizer_frame(steps, feature_names).reset_index(), "acc-opt")


NO_STEPS_NOTE = "Click a step button: each row will show the gradient `step()` used and the change it made."
OPTIMIZER_BUTTONS = (
    LabButton("acc_opt_zero", "step with optimizer.zero_grad()", None, "zero_grad(), forward, backward, step(): the "
              "update uses this step's gradient only.", lambda lab: lab.train_step(zero_grad=True)),
    LabButton("acc_opt_forget", "step, forgetting zero_grad()", None, "forward, backward, step() without zero_grad(): "
              "the gradients of every step so far add up.", lambda lab: lab.train_step(zero_grad=False)),
    LabButton("acc_opt_reset", "reset model", None, "A fresh nn.Linear from the seed and a fresh SGD.",
              OptimizerLab.reset))
