"""A window into any training step: replay the seeded run up to step k and look at that step from the inside.

Training is deterministic (seeded model, seeded batch order), so nothing is stored per step: a fresh Trainer
built from the same settings and data, stepped k-1 times, is exactly where the run was before step k. A run keeps
a checkpoint every few hundred steps (Trainer.checkpoint), so the replay starts from the nearest one instead of
step 0. Step k is then run by the same Trainer code while hooks watch its batch, its loss graph, its gradients
and its update.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import pandas as pd
import torch
from torch import nn

from explorer import svgplot
from explorer.autograd.graph import build_graph
from explorer.autograd.graph_model import GraphModel
from explorer.autograd.large_graph import tag_modules
from explorer.training.callbacks import Checkpoint
from explorer.training.features import FeatureSet
from explorer.training.trainer import Trainer, TrainSettings

BLOWUP_STEPS = 300  # a diverged run's norms are shown at every one of its last this many steps


@dataclass
class ParamUpdate:
    """One parameter at one step: value before, gradient, what the optimiser changed, and why."""
    name: str
    before: torch.Tensor
    grad: torch.Tensor
    after: torch.Tensor
    rule: str  # the update rule, in words and symbols
    parts: dict[str, torch.Tensor] = field(default_factory=dict)  # m, v, step size, momentum buffer, ...
    predicted: torch.Tensor | None = None  # the change the rule predicts from the parts

    @property
    def update(self) -> torch.Tensor:
        """The change optimizer.step() made: after − before."""
        return self.after - self.before


@dataclass
class StepView:
    """Everything about one replayed step."""
    step: int
    epoch: int
    rows: list[int]  # positions of the batch's rows in the training set
    xb: torch.Tensor
    yb: torch.Tensor
    preds: torch.Tensor
    loss: torch.Tensor  # still attached to its autograd graph (after backward: saved tensors freed)
    model: nn.Module
    params: list[ParamUpdate]

    @property
    def loss_value(self) -> float:
        """The loss as the run recorded it (loss.item())."""
        return self.loss.item()


def fresh_trainer(data: FeatureSet, settings: TrainSettings, device: str = "cpu") -> Trainer:
    """The run as it was before its first step: same seed, same model, same batch order."""
    return Trainer(data, settings, device=device)


def check_step(k: int, steps_run: int) -> None:
    """Refuse step numbers the run has not reached."""
    if not 1 <= k <= steps_run:
        raise ValueError(f"Step {k} is not part of this run: pick a step from 1 to {steps_run}.")


class _Watch:
    """Hooks on one step: the first forward's input, the first loss call, the gradients just before step()."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.xb = self.yb = self.preds = self.loss = None
        self.before: dict[str, torch.Tensor] = {}
        self.grads: dict[str, torch.Tensor] = {}

    def forward_pre(self, module, args) -> None:
        if self.xb is None:
            self.xb = args[0].detach().clone()

    def loss_fn(self, loss_fn):
        def watched(preds, target):
            loss = loss_fn(preds, target)
            if self.loss is None:  # the training loss; later calls are the validation pass
                self.preds, self.yb, self.loss = preds.detach().clone(), target.detach().clone(), loss
            return loss
        return watched

    def optimizer_step(self, step):
        def watched():
            if not self.grads:
                for name, p in self.trainer.model.named_parameters():
                    self.grads[name] = p.grad.detach().clone()
            return step()
        return watched


@contextmanager
def _watching(trainer: Trainer) -> Iterator[_Watch]:
    """While active, one trainer.step(1) is watched (and its grad_fns tagged by module for the graph)."""
    watch = _Watch(trainer)
    watch.before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    optimizer, loss_fn = trainer.optimizer, trainer.loss_fn
    own_step = vars(optimizer).get("step")  # normally none: step is the class's method
    handle = trainer.model.register_forward_pre_hook(watch.forward_pre)
    trainer.loss_fn = watch.loss_fn(loss_fn)
    optimizer.step = watch.optimizer_step(optimizer.step)  # instance attribute: the class is untouched
    try:
        with tag_modules(trainer.model):
            yield watch
    finally:
        handle.remove()
        trainer.loss_fn = loss_fn
        if own_step is None:
            del optimizer.step
        else:
            optimizer.step = own_step


def resumed_trainer(data: FeatureSet, settings: TrainSettings, until: int, device: str = "cpu",
                    start: Checkpoint | None = None) -> Trainer:
    """A Trainer of this run that can reach step `until`: fresh, or where the run was at checkpoint `start`."""
    trainer = fresh_trainer(data, settings, device)
    if start is not None:
        trainer.restore(start)
    if until > trainer.total_steps:  # the run went on after its planned epochs (Play after done)
        trainer.extend(math.ceil((until - trainer.total_steps) / trainer.steps_per_epoch))
    return trainer


def replay_step(data: FeatureSet, settings: TrainSettings, k: int, device: str = "cpu",
                start: Checkpoint | None = None) -> StepView:
    """Step k of the run with these settings, rebuilt by replaying steps 1 … k-1 (or from a checkpoint the run
    kept on the way) and watching step k."""
    trainer = resumed_trainer(data, settings, k, device, start)
    trainer.step(k - 1 - trainer.step_count)
    if trainer.step_count != k - 1:
        raise ValueError(f"The run stopped at step {trainer.step_count} ({trainer.divergence}); step {k} never ran.")
    with _watching(trainer) as watch:
        trainer.step(1)
    params = [explain_update(trainer, name, watch.before[name], watch.grads[name], p.detach().clone())
              for name, p in trainer.model.named_parameters()]
    return StepView(k, trainer.epoch, batch_rows(data, watch.xb), watch.xb, watch.yb, watch.preds, watch.loss,
                    trainer.model, params)


def batch_rows(data: FeatureSet, xb: torch.Tensor) -> list[int]:
    """Which training rows the batch holds (matched by value; the trainer's shuffle order stays its own)."""
    where = {row.tobytes(): i for i, row in enumerate(data.x_train.numpy())}
    return [where.get(row.tobytes(), -1) for row in xb.cpu().numpy()]


def explain_update(trainer: Trainer, name: str, before: torch.Tensor, grad: torch.Tensor,
                   after: torch.Tensor) -> ParamUpdate:
    """The update rule of the trainer's optimiser for one parameter, with the state it used."""
    optimizer = trainer.torch_optimizer
    lr = trainer.settings.learning_rate
    if isinstance(optimizer, torch.optim.Adam):
        return _adam(optimizer, dict(trainer.model.named_parameters())[name], name, before, grad, after)
    if isinstance(optimizer, torch.optim.SGD) and trainer.settings.momentum:
        buf = optimizer.state[dict(trainer.model.named_parameters())[name]]["momentum_buffer"].detach().clone()
        return ParamUpdate(name, before, grad, after, f"b ← μ·b + g;  p ← p − lr·b  (lr = {lr:g}, μ = "
                           f"{trainer.settings.momentum:g})", {"momentum buffer b": buf}, -lr * buf)
    return ParamUpdate(name, before, grad, after, f"p ← p − lr·g  (lr = {lr:g})", {}, -lr * grad)


def _adam(optimizer: torch.optim.Adam, param: torch.Tensor, name: str, before: torch.Tensor, grad: torch.Tensor,
          after: torch.Tensor) -> ParamUpdate:
    """Adam's update as torch computes it: m and v (running moments), bias corrections, step size lr / (1 − β1^t)."""
    group = optimizer.param_groups[0]
    lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
    state = optimizer.state[param]
    t = int(state["step"])
    m, v = state["exp_avg"].detach().clone(), state["exp_avg_sq"].detach().clone()
    step_size = lr / (1 - beta1 ** t)
    denom = v.sqrt() / math.sqrt(1 - beta2 ** t) + eps
    predicted = torch.addcdiv(before, m, denom, value=-step_size) - before
    rule = (f"m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)  "
            f"(lr = {lr:g}, β1 = {beta1:g}, β2 = {beta2:g}, ε = {eps:g}, t = {t}, step size = {step_size:.4g})")
    return ParamUpdate(name, before, grad, after, rule, {"m (exp_avg)": m, "v (exp_avg_sq)": v,
                                                        "step size": torch.tensor(step_size)}, predicted)


def step_graph(view: StepView, **options) -> GraphModel:
    """The loss's autograd graph as it was at this step: parameters show the values the forward used and their
    gradients (by now step() has moved them, and a later zero_grad() may have cleared the grads). options: as build_graph."""
    params = dict(view.model.named_parameters())
    was = {name: (p.detach().clone(), p.grad) for name, p in params.items()}
    try:
        with torch.no_grad():
            for update in view.params:
                params[update.name].copy_(update.before)
                params[update.name].grad = update.grad.clone()
        return build_graph(view.loss, params, output_name="loss", **options)
    finally:
        with torch.no_grad():
            for name, (value, grad) in was.items():
                params[name].copy_(value)
                params[name].grad = grad


def batch_frame(view: StepView, data: FeatureSet) -> pd.DataFrame:
    """The step's mini-batch: each row's time, its raw features and target, the target as trained, the prediction."""
    rows = [r for r in view.rows if r >= 0]
    frame = data.table.iloc[rows].copy() if len(rows) == len(view.rows) else pd.DataFrame(index=range(len(view.rows)))
    frame.insert(0, "row", view.rows)
    frame["target as trained"] = view.yb.cpu().numpy()
    preds = view.preds.cpu().numpy()
    if preds.ndim == 2:
        frame["logit down"], frame["logit up"] = preds[:, 0], preds[:, 1]
    else:
        frame["prediction"] = preds
    return frame


def param_frame(view: StepView, max_elements: int = 64) -> pd.DataFrame:
    """One row per parameter element (the first max_elements of each): value, grad, update and the rule's parts."""
    out = []
    for p in view.params:
        columns = {"value before": p.before, "grad": p.grad, "update (after − before)": p.update,
                   **{k: v for k, v in p.parts.items() if v.numel() > 1}}
        flat = {k: v.detach().cpu().reshape(-1)[:max_elements].tolist() for k, v in columns.items()}
        index = [f"{p.name}{list(i)}" for i in _element_indices(p.before.shape, len(flat["grad"]))]
        out.append(pd.DataFrame(flat, index=index))
    return pd.concat(out) if out else pd.DataFrame()


def _element_indices(shape: torch.Size, n: int) -> list[tuple[int, ...]]:
    return [tuple(int(i) for i in torch.unravel_index(torch.tensor(j), shape)) for j in range(n)] if shape else [()]


def param_summary(view: StepView) -> pd.DataFrame:
    """One row per parameter: shape, norms of value, grad and update, and how far the rule is from the change."""
    rows = []
    for p in view.params:
        gap = (p.predicted - p.update).abs().max().item() if p.predicted is not None else float("nan")
        rows.append({"parameter": p.name, "shape": str(tuple(p.before.shape)), "‖value‖": p.before.norm().item(),
                     "‖grad‖": p.grad.norm().item(), "‖update‖": p.update.norm().item(),
                     "max |rule − change|": gap, "rule": p.rule})
    return pd.DataFrame(rows)


def update_rule(view: StepView) -> str:
    """The line above the parameters' tables: the rule the optimiser applied (markdown; empty with no parameters)."""
    return f"**Update rule:** {view.params[0].rule}" if view.params else ""


def window_tables(view: StepView, data: FeatureSet) -> tuple[str, str, str]:
    """The window's tables as light HTML: the mini-batch, one row per parameter (without the rule: `update_rule`
    says it once), and each parameter's first elements."""
    return (svgplot.table(batch_frame(view, data).reset_index(), "train-batch"),
            svgplot.table(param_summary(view).drop(columns="rule"), "train-summary", digits=6),
            svgplot.table(param_frame(view).rename_axis("element").reset_index(), "train-params", digits=6))


def replay_norms(data: FeatureSet, settings: TrainSettings, until: int, device: str = "cpu",
                 last: int = BLOWUP_STEPS, start: Checkpoint | None = None) -> list[tuple[int, str, float, float]]:
    """(step, parameter, ‖W‖, ‖grad‖) at every one of the last `last` steps up to `until` (the blow-up, step by
    step); `start`: a checkpoint of the run from before those steps."""
    trainer = resumed_trainer(data, settings, until, device, start)
    trainer.step(max(0, until - last - trainer.step_count))
    rows: list[tuple[int, str, float, float]] = []
    while trainer.step_count < until and not trainer.done:
        with _watching(trainer) as watch:
            trainer.step(1)
        rows += [(trainer.step_count, name, watch.before[name].norm().item(), watch.grads[name].norm().item())
                 for name in watch.grads]
    return rows
