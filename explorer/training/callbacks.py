"""The Trainer's bookkeeping, hung off its loop as callbacks (minGPT's way) that run only at the steps they are due:
validation at each epoch end, parameter norms, checkpoints, and stopping a run whose loss diverged."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from explorer.training.models import lower_rate

# A loss this many times its first value is an explosion, not noise: stop before it turns into inf/NaN.
EXPLODE_FACTOR = 1e4
# A run keeps a checkpoint every CHECKPOINT_EVERY steps, at most CHECKPOINTS of them (past that, every other one
# goes and the interval doubles): the step window replays from the nearest one, never from step 0.
CHECKPOINT_EVERY, CHECKPOINTS = 200, 128


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


class Callback:
    """Bookkeeping hung off a Trainer. The Trainer calls on_step_start (just before a step's lesson runs) and
    on_step_end (just after) only at the steps it is due: every `every`-th step, and step 1 when `first`; and
    on_loss_past_limit at any step whose loss is past trainer.limit."""
    every: int | None = None
    first = False

    def on_step_start(self, trainer) -> None:
        """Before the lesson runs a due step."""

    def on_step_end(self, trainer, metrics):
        """After it; may return the step's metrics replaced (None: unchanged)."""

    def on_loss_past_limit(self, trainer, metrics) -> None:
        """After a step whose loss is past trainer.limit (NaN, ±inf, an explosion, or the first loss)."""


class Every(Callback):
    """fn(trainer, metrics) after every `every`-th step."""

    def __init__(self, fn, every: int = 1):
        self.fn, self.every = fn, every

    def on_step_end(self, trainer, metrics):
        return self.fn(trainer, metrics)


class Norms(Callback):
    """Each parameter's norm just before the update and its gradient's norm (what the update used), at step 1 and
    every `every`-th step: on_step_start notes the weights, on_step_end the gradients."""
    first = True

    def __init__(self, model: torch.nn.Module, every: int):
        self.every = every
        # the same tensors for the run's life (a restore copies values into them)
        named = list(model.named_parameters())
        self.names, self.params = [name for name, _ in named], [p for _, p in named]
        self.values = [p.detach() for p in self.params]  # views: their norms record no graph
        self.weights: list[torch.Tensor] = []

    def on_step_start(self, trainer) -> None:
        # torch._foreach_norm: one call for all tensors, as clip_grad_norm_ does; read with the gradients' norms
        self.weights = torch._foreach_norm(self.values)

    def on_step_end(self, trainer, metrics) -> None:
        used = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not used:
            return
        grads = torch._foreach_norm([self.params[i].grad for i in used])
        norms = torch.stack([*(self.weights[i] for i in used), *grads]).tolist()
        trainer.history.norms.extend((metrics.step, self.names[i], norms[j], norms[len(used) + j])
                                     for j, i in enumerate(used))


class Validation(Callback):
    """At each epoch end (every `every` = steps per epoch): the epoch's mean training loss, the validation loss (and
    accuracy) as a history row; a validation loss that is not finite stops the run."""

    def __init__(self, every: int):
        self.every = every

    def on_step_end(self, trainer, metrics):
        if trainer.divergence is not None:
            return None
        losses = trainer.epoch_losses()
        valid_loss = trainer.validate()
        row = {"epoch": trainer.epoch, "step": trainer.step_count, "train_loss": sum(losses) / len(losses),
               "valid_loss": valid_loss}
        if trainer.data.spec.is_classification:
            row["valid_accuracy"] = trainer.valid_accuracy()
        trainer.history.epochs.append(row)
        if not math.isfinite(valid_loss):
            trainer.divergence = divergence_message(trainer, valid_loss, "validation loss")
        return type(metrics)(metrics.step, metrics.epoch, metrics.loss, True, valid_loss)


class Checkpoints(Callback):
    """Keeps trainer.checkpoint() after every `every`-th step, at most CHECKPOINTS of them: past that, every other
    one goes and the interval doubles."""

    def __init__(self, every: int = CHECKPOINT_EVERY, keep: int = CHECKPOINTS):
        self.every, self.keep, self.kept = every, keep, {}

    def on_step_end(self, trainer, metrics) -> None:
        if trainer.divergence is not None:
            return
        self.kept[trainer.step_count] = trainer.checkpoint()
        if len(self.kept) > self.keep:
            self.every *= 2
            self.kept = {k: v for k, v in self.kept.items() if k % self.every == 0}

    def before(self, step: int) -> Checkpoint | None:
        """The latest checkpoint from which step `step` is still to come (None: start from the beginning)."""
        earlier = [k for k in self.kept if k < step]
        return self.kept[max(earlier)] if earlier else None


class Divergence(Callback):
    """Runs only when a step's loss is past the limit. At step 1 there is no limit yet: the first loss sets it. Past
    it (NaN, ±inf or an explosion) the run stops, saying why and what to change."""

    def on_loss_past_limit(self, trainer, metrics) -> None:
        if trainer.first_loss is None:
            trainer.first_loss, trainer.limit = metrics.loss, explode_limit(metrics.loss)
            if abs(metrics.loss) <= trainer.limit:
                return
        if not math.isfinite(metrics.loss):  # an explosion is drawn; NaN/inf never reach the chart
            trainer.history.step_losses.pop()
        trainer.divergence = divergence_message(trainer, metrics.loss, "loss")


def explode_limit(first: float | None) -> float:
    """The largest loss that is still training, not exploding: EXPLODE_FACTOR times the first loss (-inf when that
    was not finite, or before there is one: every loss then reaches check_loss)."""
    if first is None or not math.isfinite(first):
        return -math.inf
    return EXPLODE_FACTOR * max(abs(first), 1e-12)


def divergence_message(trainer, loss: float, what: str) -> str:
    """Where the run stopped, how the loss went wrong, and the setting to change."""
    if not math.isfinite(loss):
        how = f"the {what} became {loss}"
    else:
        how = (f"the {what} exploded to {loss:.3g}, over {EXPLODE_FACTOR:.0e}× its first value "
               f"{trainer.first_loss:.3g}")
    lr = trainer.settings.learning_rate
    if trainer.data.spec.normalisation == "none":
        scale = float(trainer.data.x_train.abs().mean())
        fix = (f"Normalise the inputs (z-score or min-max): raw features averaging {scale:,.0f} make the "
               f"gradients huge. {lower_advice(lr, 100, 'Or lower')}")
    elif not trainer.settings.zero_grad:
        fix = ("The gradients are never zeroed, so every backward() adds onto all earlier ones and the steps "
               "grow: switch 'zero the gradients' back on (or lower the learning rate).")
    else:
        fix = lower_advice(lr, 10)
    return f"Training stopped at step {trainer.step_count} (epoch {trainer.epoch}): {how}. {fix}"


def lower_advice(lr: float, factor: float, lead: str = "Lower") -> str:
    """Advice to lower the learning rate, naming only a rate the page's slider offers."""
    rate = lower_rate(lr, factor)
    return (f"{lead} the learning rate (try {rate:g})." if rate is not None
            else f"The learning rate {lr:g} is already the lowest the slider offers.")
