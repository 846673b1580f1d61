"""The training loop as a Trainer whose step(n) returns metrics; the page, tests and benchmark drive it alike."""
from __future__ import annotations

import io
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from explorer.training.callbacks import (Callback, Checkpoint, Checkpoints, Divergence, Every, Norms, Validation,
                                         explode_limit)
from explorer.training.features import FeatureSet, FeatureSpec, build_features, lagged_windows
from explorer.training.models import (ManualSGD, SettingsError, build_model, calc_preds, check_settings, make_loss,
                                      make_optimizer, n_outputs_for)

# Steps one training run may take (a classroom shares one server); the env var raises or lowers it.
MAX_STEPS = int(os.environ.get("AUTOGRAD_EXPLORER_MAX_STEPS", 200_000))
# Model building draws from torch's global RNG; two sessions seeding it at once would interleave their draws.
_SEED_LOCK = threading.Lock()


@dataclass(frozen=True)
class TrainSettings:
    """Model, loss and optimisation settings (the config's training section minus the feature settings)."""
    model: str = "scratch_linear"
    hidden_sizes: tuple[int, ...] = (16, 16)
    activation: str = "relu"
    init: str = "pytorch_default"
    loss: str = "mse"
    optimizer: str = "manual_sgd"
    zero_grad: bool = True
    learning_rate: float = 0.01
    momentum: float = 0.0
    batch_size: int = 64
    epochs: int = 20
    seed: int = 0


class StepMetrics(NamedTuple):
    """What one optimisation step reports (a tuple: the loop makes thousands a second)."""
    step: int
    epoch: int
    loss: float
    epoch_end: bool = False
    valid_loss: float | None = None


def batch_order(n_rows: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """One epoch's mini-batches: a seeded shuffle of the training rows (the split itself stays chronological)."""
    return list(torch.randperm(n_rows, generator=generator).split(batch_size))


def train_step(model, loss_fn, optimizer, xb: torch.Tensor, yb: torch.Tensor) -> float:
    """One mini-batch: zero the gradients, forward, loss, backward, update; returns the loss as a float."""
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()


def train_step_without_zero_grad(model, loss_fn, optimizer, xb: torch.Tensor, yb: torch.Tensor) -> float:
    """The seed's trap: train_step with the line that zeroes the gradients left out. Each backward() adds onto the
    gradients of every earlier step, and the update uses their sum."""
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()


def evaluate(model, loss_fn, x_valid: torch.Tensor, y_valid: torch.Tensor) -> tuple[float, torch.Tensor]:
    """The validation loss and the model's outputs, with no graph recorded."""
    with torch.no_grad():
        preds = model(x_valid)
        return loss_fn(preds, y_valid).item(), preds


def step_lesson(settings: TrainSettings) -> Callable:
    """The step a run with these settings runs: train_step, or with zero_grad off the one without that line."""
    return train_step if settings.zero_grad else train_step_without_zero_grad


def lessons_run(settings: TrainSettings) -> tuple:
    """Every lesson function a run with these settings runs, in the order a reader meets them."""
    return (lagged_windows, build_features, *([calc_preds] if settings.model == "scratch_linear" else []),
            make_loss, make_optimizer, *([ManualSGD] if settings.optimizer == "manual_sgd" else []), batch_order,
            step_lesson(settings))


def specs_from_config(section, rows: int) -> tuple[FeatureSpec, TrainSettings]:
    """FeatureSpec and TrainSettings from the config's `training:` section."""
    features = FeatureSpec(rows=rows, lags=section.lags, columns=tuple(section.columns), target=section.target,
                           normalisation=section.normalisation, validation_fraction=section.validation_fraction)
    names = TrainSettings.__dataclass_fields__
    values = {k: getattr(section, k) for k in names}
    values["hidden_sizes"] = tuple(values["hidden_sizes"])
    return features, TrainSettings(**values)


@dataclass
class History:
    """Everything recorded so far: step losses, per-epoch train/validation loss, parameter norms."""
    step_losses: list[float] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    norms: list[tuple[int, str, float, float]] = field(default_factory=list)


class Trainer:
    """Trains one model on one FeatureSet; step(n) runs the lesson (train_step) on n mini-batches and returns their
    metrics. The bookkeeping (validation, norms, checkpoints, divergence) hangs off it as callbacks."""

    def __init__(self, data: FeatureSet, settings: TrainSettings, norm_every: int = 25, device: str = "cpu"):
        check_settings(data.spec.is_classification, settings.model, settings.loss, list(settings.hidden_sizes))
        self.data, self.settings, self.norm_every = data, settings, max(1, norm_every)
        self.steps_per_epoch = math.ceil(len(data.x_train) / settings.batch_size)
        self.total_steps = self.steps_per_epoch * settings.epochs
        if self.total_steps > MAX_STEPS:  # one learner must not hold a shared server's cores for hours
            raise SettingsError(f"{settings.epochs} epochs of {self.steps_per_epoch} batches is "
                                f"{self.total_steps:,} steps; one run may take at most {MAX_STEPS:,} "
                                "(env AUTOGRAD_EXPLORER_MAX_STEPS). Use fewer epochs or a larger batch size.")
        with _SEED_LOCK:
            torch.manual_seed(settings.seed)
            self.model = build_model(settings.model, data.x_train.shape[1], n_outputs_for(settings.loss),
                                     list(settings.hidden_sizes), settings.activation, settings.init).to(device)
        self.device = torch.device(device)
        self.loss_fn = make_loss(settings.loss)
        self.optimizer = make_optimizer(settings.optimizer, self.model.parameters(), settings.learning_rate,
                                        settings.momentum)
        self.lesson = step_lesson(settings)
        self.generator = torch.Generator().manual_seed(settings.seed)
        self._x, self._y = data.x_train.to(device), data.y_train.to(device)
        self._x_epoch, self._y_epoch = torch.empty_like(self._x), torch.empty_like(self._y)  # an epoch's rows (_gather)
        self._x_valid, self._y_valid = data.x_valid.to(device), data.y_valid.to(device)
        self.step_count = self.epoch = 0
        self.history = History()
        self.planned_epochs = settings.epochs
        self.divergence: str | None = None
        self.first_loss: float | None = None
        self.limit = explode_limit(None)  # a loss past it goes to Divergence (the first one always does)
        self._batches: list[torch.Tensor] = []  # the epoch's batches still to come, last first (row indices)
        self._xs: list[torch.Tensor] = []  # and their rows (_gather)
        self._ys: list[torch.Tensor] = []
        self._carried: list[float] = []  # losses of this epoch from before a restore()
        self._epoch_start = 0  # where this epoch's losses start in history.step_losses
        self.checkpoints = Checkpoints()
        self.callbacks: list[Callback] = [Divergence(), Norms(self.model, self.norm_every),
                                          Validation(self.steps_per_epoch), self.checkpoints]
        self.due = 1  # the next step at which a callback is due
        self._valid_preds: np.ndarray | None = None
        self.validate()

    @property
    def done(self) -> bool:
        """All epochs trained, or stopped by divergence."""
        return self.divergence is not None or self.step_count >= self.total_steps

    def step(self, n: int = 1) -> list[StepMetrics]:
        """Run the lesson on up to n mini-batches (fewer if training ends or diverges); the callbacks run only at the
        steps they are due, and the loss meets one comparison a step."""
        out = []
        lesson, model, loss_fn, optimizer = self.lesson, self.model, self.loss_fn, self.optimizer
        while len(out) < n and not self.done:
            if self.step_count + 1 >= self.due:
                self.trigger("on_step_start")
            xb, yb = self.next_batch()
            loss = lesson(model, loss_fn, optimizer, xb, yb)
            self.history.step_losses.append(loss)
            metrics = StepMetrics(self.step_count, self.epoch, loss)
            if not abs(loss) <= self.limit:  # False for NaN, ±inf and an explosion alike (and before a limit)
                self.trigger("on_loss_past_limit", metrics)
            if self.step_count >= self.due:
                metrics = self.trigger("on_step_end", metrics)
            out.append(metrics)
        return out

    def add_callback(self, callback: Callback | Callable, every: int = 1) -> None:
        """Hang a Callback off the loop; a plain function is called as fn(trainer, metrics) after every `every`-th
        step (minGPT style: the loop never draws or logs)."""
        self.callbacks.append(callback if isinstance(callback, Callback) else Every(callback, every))
        self.schedule()

    def trigger(self, event: str, metrics: StepMetrics | None = None) -> StepMetrics | None:
        """Call `event` on the callbacks due at this step (on_loss_past_limit: on all); after on_step_end, note the next
        step one is due."""
        step = self.step_count + (event == "on_step_start")
        for callback in self.callbacks:
            if event == "on_loss_past_limit":
                callback.on_loss_past_limit(self, metrics)
            elif (callback.every and step % callback.every == 0) or (callback.first and step == 1):
                if event == "on_step_start":
                    callback.on_step_start(self)
                else:
                    metrics = callback.on_step_end(self, metrics) or metrics
        if event == "on_step_end":
            self.schedule()
        return metrics

    def schedule(self) -> None:
        """The first step after this one at which a callback is due."""
        step = self.step_count
        self.due = min([1 if c.first and step < 1 else (step // c.every + 1) * c.every if c.every else math.inf
                        for c in self.callbacks], default=math.inf)

    @property
    def torch_optimizer(self) -> torch.optim.Optimizer | None:
        """The torch optimizer doing the updates (None for ManualSGD, whose update is written out)."""
        return self.optimizer if isinstance(self.optimizer, torch.optim.Optimizer) else None

    def epoch_losses(self) -> list[float]:
        """The step losses of the epoch so far."""
        return self._carried + self.history.step_losses[self._epoch_start:]

    def checkpoint(self) -> Checkpoint:
        """This trainer's state now, copied."""
        optimizer = self.torch_optimizer
        return Checkpoint(self.step_count, self.epoch,
                          {k: v.detach().clone() for k, v in self.model.state_dict().items()},
                          {n: None if p.grad is None else p.grad.detach().clone()
                           for n, p in self.model.named_parameters()},
                          None if optimizer is None else _cloned(optimizer.state_dict()),
                          self.generator.get_state(), list(self._batches), self.epoch_losses(), self.first_loss)

    def checkpoint_before(self, step: int) -> Checkpoint | None:
        """The latest checkpoint from which step `step` is still to come (None: start from the beginning)."""
        return self.checkpoints.before(step)

    def restore(self, cp: Checkpoint) -> None:
        """Go back (or forward) to the state a checkpoint holds."""
        self.model.load_state_dict(cp.model)
        for name, p in self.model.named_parameters():
            p.grad = None if cp.grads[name] is None else cp.grads[name].clone()
        if cp.optimizer is not None:
            self.torch_optimizer.load_state_dict(_cloned(cp.optimizer))  # it would update cp's tensors
        self.generator.set_state(cp.generator)
        self._batches, self._carried = list(cp.batches), list(cp.epoch_losses)
        self._epoch_start = len(self.history.step_losses)
        self._gather()
        self.first_loss, self.limit = cp.first_loss, explode_limit(cp.first_loss)
        self.step_count, self.epoch = cp.step, cp.epoch
        self.schedule()

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next mini-batch of the seeded batch order (a new shuffle at each epoch start)."""
        if not self._batches:
            self._batches = batch_order(len(self.data.x_train), self.settings.batch_size, self.generator)
            self._batches.reverse()  # pop() from the end hands them out in order
            self._gather()
            self.epoch += 1
            self._carried, self._epoch_start = [], len(self.history.step_losses)
        idx = self._batches.pop()
        self.step_count += 1
        if self._xs:
            return self._xs.pop(), self._ys.pop()
        return self._x[idx], self._y[idx]

    def _gather(self) -> None:
        """The epoch's remaining batches, gathered in order into the same two tensors each epoch and cut into views:
        the same values as x[idx] at every step, for a quarter of its cost (measured in the training process: 13
        x[idx] and y[idx] an epoch cost 14 µs a step; a fresh x[order] and Tensor.split 20 µs a step, mostly the new
        memory; index_select into these tensors and split_with_sizes 5; a linear model's whole step is 150 µs).

        Only where every view starts on a 64-byte boundary, as a fresh x[idx] does (batch sizes that are multiples
        of 16 rows; CUDA's allocator aligns to 512 bytes): off it, BLAS sums in another order and the run would no
        longer match its replay bit for bit. Other batch sizes index at each step."""
        self._xs = self._ys = []
        size = self.settings.batch_size
        if self._batches and size % (16 if self.device.type == "cpu" else 128) == 0:
            batches = self._batches[::-1]  # in order: full batches first, the short one (if any) last
            order, sizes = torch.cat(batches), [b.shape[0] for b in batches]
            rows = len(order)  # fewer than an epoch's after a restore mid-epoch: the first rows (never a resize)
            self._xs = list(torch.index_select(self._x, 0, order, out=self._x_epoch[:rows]).split_with_sizes(sizes))
            self._ys = list(torch.index_select(self._y, 0, order, out=self._y_epoch[:rows]).split_with_sizes(sizes))
            self._xs.reverse()
            self._ys.reverse()

    def batch_indices(self, step: int) -> torch.Tensor:
        """The training rows that step `step` (1-based) uses: the seeded order, recomputed from the seed."""
        epoch, within = divmod(step - 1, self.steps_per_epoch)
        generator = torch.Generator().manual_seed(self.settings.seed)
        for _ in range(epoch):
            torch.randperm(len(self.data.x_train), generator=generator)
        return batch_order(len(self.data.x_train), self.settings.batch_size, generator)[within]

    def extend(self, epochs: int) -> None:
        """Allow `epochs` more epochs after the planned ones (Play after done trains on)."""
        total = self.total_steps + epochs * self.steps_per_epoch
        if total > MAX_STEPS:
            raise SettingsError(f"{epochs} more epochs would make this run {total:,} steps; one run may take at "
                                f"most {MAX_STEPS:,}. Press Reset to start a new run.")
        self.total_steps, self.planned_epochs = total, self.planned_epochs + epochs

    def validate(self) -> float:
        """Run the evaluate lesson on the validation rows now: valid_loss and valid_preds become the model's as it
        is (the outputs reach numpy only when read: most epochs end between two reports)."""
        self.valid_loss, self._valid_outputs = evaluate(self.model, self.loss_fn, self._x_valid, self._y_valid)
        self._valid_preds = None
        return self.valid_loss

    @property
    def valid_preds(self) -> np.ndarray:
        """The model's raw outputs on the validation rows at the last validation."""
        if self._valid_preds is None:
            self._valid_preds = self._valid_outputs.cpu().numpy()
        return self._valid_preds

    def valid_accuracy(self) -> float:
        """Share of validation rows whose predicted direction is right (direction target only)."""
        preds = self.valid_preds
        up = preds.argmax(axis=1) == 1 if preds.ndim == 2 else preds > 0  # logit > 0 means p(up) > 0.5
        return float((up == (self.data.y_valid.numpy() > 0.5)).mean())

    def state_dict_bytes(self) -> bytes:
        """The model's state_dict as torch.save writes it (for download)."""
        buffer = io.BytesIO()
        torch.save(self.model.state_dict(), buffer)
        return buffer.getvalue()


def _cloned(state):
    """A copy of an optimizer's state_dict: its tensors cloned, the rest rebuilt (copy.deepcopy is 5x slower)."""
    if isinstance(state, torch.Tensor):
        return state.clone()
    if isinstance(state, dict):
        return {k: _cloned(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cloned(v) for v in state)
    return state


def describe_model(model: nn.Module) -> str:
    """The model as print(model) shows it, with its parameter count."""
    count = sum(p.numel() for p in model.parameters())
    return f"{model}\n# {count:,} trainable parameters"
