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

from explorer.training.features import FeatureSet, FeatureSpec
from explorer.training.models import (SettingsError, build_model, check_settings, lower_rate, make_loss, make_optimizer,
                                      n_outputs_for)

# Steps one training run may take (a classroom shares one server); the env var raises or lowers it.
MAX_STEPS = int(os.environ.get("AUTOGRAD_EXPLORER_MAX_STEPS", 200_000))
# A loss this many times its first value is an explosion, not noise: stop before it turns into inf/NaN.
EXPLODE_FACTOR = 1e4
# A run keeps a checkpoint every CHECKPOINT_EVERY steps, at most CHECKPOINTS of them (past that, every other one
# goes and the interval doubles): the step window replays from the nearest one, never from step 0.
CHECKPOINT_EVERY, CHECKPOINTS = 200, 128
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


def specs_from_config(section, rows: int) -> tuple[FeatureSpec, TrainSettings]:
    """FeatureSpec and TrainSettings from the config's `training:` section."""
    features = FeatureSpec(rows=rows, lags=section.lags, columns=tuple(section.columns), target=section.target,
                           normalisation=section.normalisation, validation_fraction=section.validation_fraction)
    names = TrainSettings.__dataclass_fields__
    values = {k: getattr(section, k) for k in names}
    values["hidden_sizes"] = tuple(values["hidden_sizes"])
    return features, TrainSettings(**values)


@dataclass(frozen=True)
class Checkpoint:
    """A Trainer as it was after `step` steps: enough to go on exactly as the run did (picklable)."""
    step: int
    epoch: int
    model: dict[str, torch.Tensor]
    grads: dict[str, torch.Tensor | None]  # kept: with zero_grad off, the next backward() adds onto them
    optimizer: dict | None  # a torch optimizer's state_dict (ManualSGD keeps no state)
    generator: torch.Tensor
    batches: list[torch.Tensor]  # the epoch's batches still to come
    epoch_losses: list[float]
    first_loss: float | None


@dataclass
class History:
    """Everything recorded so far: step losses, per-epoch train/validation loss, parameter norms."""
    step_losses: list[float] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    norms: list[tuple[int, str, float, float]] = field(default_factory=list)


class Trainer:
    """Trains one model on one FeatureSet; step(n) advances n mini-batches and returns their metrics."""

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
        self._named = list(self.model.named_parameters())  # the same tensors for the run's life (loads copy in)
        self.loss_fn = make_loss(settings.loss)
        self.optimizer = make_optimizer(settings.optimizer, self.model.parameters(), settings.learning_rate,
                                        settings.momentum, settings.zero_grad)
        self.generator = torch.Generator().manual_seed(settings.seed)
        self._x, self._y = data.x_train.to(device), data.y_train.to(device)
        self._x_valid, self._y_valid = data.x_valid.to(device), data.y_valid.to(device)
        self.step_count = self.epoch = 0
        self.history = History()
        self.planned_epochs = settings.epochs
        self.callbacks: list[Callable[[Trainer, StepMetrics], None]] = []
        self.divergence: str | None = None
        self._batches: list[torch.Tensor] = []  # the epoch's batches still to come, last first (row indices)
        self._xs: list[torch.Tensor] = []  # and their rows (_gather)
        self._ys: list[torch.Tensor] = []
        self._epoch_losses: list[float] = []
        self._first_loss: float | None = None
        self._limit = _explode_limit(None)
        self.checkpoint_every, self.checkpoints = CHECKPOINT_EVERY, {}
        self.valid_loss, self.valid_preds = self.evaluate()

    @property
    def done(self) -> bool:
        """All epochs trained, or stopped by divergence."""
        return self.divergence is not None or self.step_count >= self.total_steps

    def step(self, n: int = 1) -> list[StepMetrics]:
        """Run up to n mini-batches (fewer if training ends or diverges); each one's metrics go to the callbacks."""
        out = []
        model, loss_fn = self.model, self.loss_fn  # the loop runs thousands of times a second: few lookups in it
        for _ in range(n):
            if self.done:
                break
            if self.step_count and self.step_count % self.checkpoint_every == 0:
                self._keep_checkpoint()
            xb, yb = self.next_batch()
            out.append(self._report(train_step(model, loss_fn, self._noting_optimizer(), xb, yb)))
        return out

    @property
    def torch_optimizer(self) -> torch.optim.Optimizer | None:
        """The torch optimizer doing the updates (None for ManualSGD, whose update is written out)."""
        optimizer = getattr(self.optimizer, "optimizer", self.optimizer)  # ForgetfulOptimizer wraps one
        return optimizer if isinstance(optimizer, torch.optim.Optimizer) else None

    def checkpoint(self) -> Checkpoint:
        """This trainer's state now, copied."""
        optimizer = self.torch_optimizer
        return Checkpoint(self.step_count, self.epoch,
                          {k: v.detach().clone() for k, v in self.model.state_dict().items()},
                          {n: None if p.grad is None else p.grad.detach().clone()
                           for n, p in self.model.named_parameters()},
                          None if optimizer is None else _cloned(optimizer.state_dict()),
                          self.generator.get_state(), list(self._batches), list(self._epoch_losses), self._first_loss)

    def _keep_checkpoint(self) -> None:
        self.checkpoints[self.step_count] = self.checkpoint()
        if len(self.checkpoints) > CHECKPOINTS:
            self.checkpoint_every *= 2
            self.checkpoints = {k: v for k, v in self.checkpoints.items() if k % self.checkpoint_every == 0}

    def checkpoint_before(self, step: int) -> Checkpoint | None:
        """The latest checkpoint from which step `step` is still to come (None: start from the beginning)."""
        before = [k for k in self.checkpoints if k < step]
        return self.checkpoints[max(before)] if before else None

    def restore(self, cp: Checkpoint) -> None:
        """Go back (or forward) to the state a checkpoint holds."""
        self.model.load_state_dict(cp.model)
        for name, p in self.model.named_parameters():
            p.grad = None if cp.grads[name] is None else cp.grads[name].clone()
        if cp.optimizer is not None:
            self.torch_optimizer.load_state_dict(_cloned(cp.optimizer))  # it would update cp's tensors
        self.generator.set_state(cp.generator)
        self._batches, self._epoch_losses, self._first_loss = list(cp.batches), list(cp.epoch_losses), cp.first_loss
        self._gather()
        self._limit = _explode_limit(cp.first_loss)
        self.step_count, self.epoch = cp.step, cp.epoch

    def add_callback(self, callback: Callable[[Trainer, StepMetrics], None]) -> None:
        """Call callback(trainer, metrics) after every step (minGPT style: the loop never draws or logs)."""
        self.callbacks.append(callback)

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next mini-batch of the seeded batch order (a new shuffle at each epoch start)."""
        if not self._batches:
            self._batches = batch_order(len(self.data.x_train), self.settings.batch_size, self.generator)
            self._batches.reverse()  # pop() from the end hands them out in order
            self._gather()
            self.epoch += 1
        idx = self._batches.pop()
        self.step_count += 1
        if self._xs:
            return self._xs.pop(), self._ys.pop()
        return self._x[idx], self._y[idx]

    def _gather(self) -> None:
        """The epoch's remaining batches with one indexing each for x and y, cut into views: the same values as
        x[idx] at every step, for about 1 µs a step instead of 5 (a linear model's whole step is 190 µs).

        Only where every view starts on a 64-byte boundary, as a fresh x[idx] does (batch sizes that are multiples
        of 16 rows; CUDA's allocator aligns to 512 bytes): off it, BLAS sums in another order and the run would no
        longer match its replay bit for bit. Other batch sizes index at each step."""
        self._xs = self._ys = []
        size = self.settings.batch_size
        if self._batches and size % (16 if self.device.type == "cpu" else 128) == 0:
            order = torch.cat(self._batches[::-1])  # full batches first, the short one (if any) last
            self._xs, self._ys = list(self._x[order].split(size)), list(self._y[order].split(size))
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

    def _noting_optimizer(self):
        """On recorded steps, the optimizer wrapped to note the norms just before its update (_NotingStep); on the
        others the optimizer itself (per-parameter grad hooks cost half a step)."""
        if self.step_count != 1 and self.step_count % self.norm_every:
            return self.optimizer
        return _NotingStep(self.optimizer, self._note_norms)

    def _note_norms(self) -> None:
        """Each parameter's norm and its gradient's, after backward() and before the update (ManualSGD zeroes the
        gradient inside step())."""
        named = [(name, p) for name, p in self._named if p.grad is not None]
        with torch.no_grad():  # torch._foreach_norm: one call for all tensors, as clip_grad_norm_ does
            norms = torch.stack(torch._foreach_norm([p for _, p in named] + [p.grad for _, p in named])).tolist()
        step, half = self.step_count, len(named)
        self.history.norms.extend((step, name, norms[i], norms[half + i]) for i, (name, _) in enumerate(named))

    def _report(self, loss: float) -> StepMetrics:
        """Bookkeeping after a step: history, divergence, epoch end; then the callbacks."""
        if self._first_loss is None:
            self._first_loss, self._limit = loss, _explode_limit(loss)
        if abs(loss) <= self._limit:  # one comparison is False for NaN, ±inf and an explosion alike
            self.history.step_losses.append(loss)
            self._epoch_losses.append(loss)
            metrics = StepMetrics(self.step_count, self.epoch, loss) if self._batches else self._end_epoch(loss)
        else:
            if math.isfinite(loss):  # an explosion is drawn; NaN/inf never reach the chart
                self.history.step_losses.append(loss)
            self._stop(loss, "loss")
            metrics = StepMetrics(self.step_count, self.epoch, loss)
        for callback in self.callbacks:
            callback(self, metrics)
        return metrics

    def _end_epoch(self, loss: float) -> StepMetrics:
        train_loss = sum(self._epoch_losses) / len(self._epoch_losses)
        self._epoch_losses = []
        self.valid_loss, self.valid_preds = self.evaluate()
        row = {"epoch": self.epoch, "step": self.step_count, "train_loss": train_loss, "valid_loss": self.valid_loss}
        if self.data.spec.is_classification:
            row["valid_accuracy"] = self.valid_accuracy()
        self.history.epochs.append(row)
        if not math.isfinite(self.valid_loss):
            self._stop(self.valid_loss, "validation loss")
        return StepMetrics(self.step_count, self.epoch, loss, True, self.valid_loss)

    def evaluate(self) -> tuple[float, np.ndarray]:
        """Validation loss and the model's raw outputs on the validation rows (no gradients recorded)."""
        with torch.inference_mode():
            preds = self.model(self._x_valid)
            return self.loss_fn(preds, self._y_valid).item(), preds.cpu().numpy()  # a new tensor: nothing writes it

    def valid_accuracy(self) -> float:
        """Share of validation rows whose predicted direction is right (direction target only)."""
        preds = self.valid_preds
        up = preds.argmax(axis=1) == 1 if preds.ndim == 2 else preds > 0  # logit > 0 means p(up) > 0.5
        return float((up == (self.data.y_valid.numpy() > 0.5)).mean())

    def _stop(self, loss: float, what: str) -> None:
        if not math.isfinite(loss):
            how = f"the {what} became {loss}"
        else:
            how = (f"the {what} exploded to {loss:.3g}, over {EXPLODE_FACTOR:.0e}× its first value "
                   f"{self._first_loss:.3g}")
        if self.data.spec.normalisation == "none":
            scale = float(self.data.x_train.abs().mean())
            fix = (f"Normalise the inputs (z-score or min-max): raw features averaging {scale:,.0f} make the "
                   f"gradients huge. {_lower(self.settings.learning_rate, 100, 'Or lower')}")
        elif not self.settings.zero_grad:
            fix = ("The gradients are never zeroed, so every backward() adds onto all earlier ones and the steps "
                   "grow: switch 'zero the gradients' back on (or lower the learning rate).")
        else:
            fix = _lower(self.settings.learning_rate, 10)
        self.divergence = f"Training stopped at step {self.step_count} (epoch {self.epoch}): {how}. {fix}"

    def state_dict_bytes(self) -> bytes:
        """The model's state_dict as torch.save writes it (for download)."""
        buffer = io.BytesIO()
        torch.save(self.model.state_dict(), buffer)
        return buffer.getvalue()


class _NotingStep:
    """An optimizer that calls note() just before each update: the gradients are there, not yet used."""

    def __init__(self, optimizer, note: Callable[[], None]):
        self.optimizer, self.note = optimizer, note

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def step(self) -> None:
        self.note()
        self.optimizer.step()


def _explode_limit(first_loss: float | None) -> float:
    """The largest loss that is still training, not exploding: EXPLODE_FACTOR times the first loss (-inf when that
    was not finite; inf before there is one)."""
    if first_loss is None:
        return math.inf
    return EXPLODE_FACTOR * max(abs(first_loss), 1e-12) if math.isfinite(first_loss) else -math.inf


def _cloned(state):
    """A copy of an optimizer's state_dict: its tensors cloned, the rest rebuilt (copy.deepcopy is 5x slower)."""
    if isinstance(state, torch.Tensor):
        return state.clone()
    if isinstance(state, dict):
        return {k: _cloned(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cloned(v) for v in state)
    return state


def _lower(lr: float, factor: float, lead: str = "Lower") -> str:
    """Advice to lower the learning rate, naming only a rate the page's slider offers."""
    rate = lower_rate(lr, factor)
    return (f"{lead} the learning rate (try {rate:g})." if rate is not None
            else f"The learning rate {lr:g} is already the lowest the slider offers.")


def describe_model(model: nn.Module) -> str:
    """The model as print(model) shows it, with its parameter count."""
    count = sum(p.numel() for p in model.parameters())
    return f"{model}\n# {count:,} trainable parameters"
