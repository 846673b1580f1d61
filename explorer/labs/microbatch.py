"""Why accumulation exists: k micro-batches with loss_i / k give the full batch's gradient."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from explorer import svgplot
from explorer.labs.optimizer_lab import seeded_linear
from explorer.tensors import candles_to_tensor

MICROBATCH_INTRO = ("Why accumulate on purpose: a batch that does not fit in memory is split into *k* micro-batches; "
                    "backward on each `loss_i / k` adds up to exactly the full-batch gradient. Without `/ k` it is *k* "
                    "times too big. Model: a seeded `nn.Linear(5, 1)`; target: each row's next close; loss: MSE.")


def candle_batch(frame: pd.DataFrame, start: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows start … start+size-1 as inputs (float32) and each row's next close as the target."""
    if size < 1:
        raise ValueError(f"the batch needs at least one row, got {size}")
    if start < 0 or start + size >= len(frame):
        raise ValueError(f"rows {start} … {start + size} (batch plus each row's next close) do not fit "
                         f"in the loaded candles (rows 0 … {len(frame) - 1})")
    data = candles_to_tensor(frame.iloc[start:start + size + 1])  # the batch and the candle after it
    inputs = data[:size]
    target = data[1:, list(frame.columns).index("close")].reshape(-1, 1)  # each row's next close
    return inputs, target


def flat_grads(model: nn.Linear) -> torch.Tensor:
    """weight.grad and bias.grad as one flat vector."""
    return torch.cat([model.weight.grad.flatten(), model.bias.grad.flatten()]).clone()


def full_batch_grad(model: nn.Linear, inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """One backward over the whole batch (mean squared error)."""
    model.zero_grad()
    nn.functional.mse_loss(model(inputs), target).backward()
    return flat_grads(model)


def accumulated_grad(model: nn.Linear, inputs: torch.Tensor, target: torch.Tensor, k: int,
                     divide_by_k: bool = True) -> torch.Tensor:
    """k backward calls, one per micro-batch, adding into .grad; each loss divided by k unless told not to."""
    model.zero_grad()
    for x_i, t_i in zip(inputs.chunk(k), target.chunk(k)):
        loss_i = nn.functional.mse_loss(model(x_i), t_i)  # the mean over this micro-batch only
        (loss_i / k if divide_by_k else loss_i).backward()  # .grad += d(loss_i / k)
    return flat_grads(model)


@dataclass
class MicroBatchResult:
    """The three gradients side by side and how far the accumulated ones are from the full batch."""
    table: pd.DataFrame
    max_rel_diff_divided: float
    ratio_undivided: float

    def metrics(self) -> dict[str, str]:
        """The two numbers the page shows, by their labels."""
        return {"max relative difference, Σ loss_i / k vs full batch": f"{self.max_rel_diff_divided:.2e}",
                "‖Σ loss_i‖ / ‖full batch‖ (no / k)": f"{self.ratio_undivided:.4f}"}

    def table_html(self) -> str:
        """The three gradients as a light HTML table, one row per gradient."""
        return svgplot.table(self.table.rename_axis("gradient").reset_index(), "acc-microbatch")


def compare_microbatches(frame: pd.DataFrame, start: int, size: int, k: int, seed: int) -> MicroBatchResult:
    """Full-batch gradient vs accumulated loss_i / k vs accumulated loss_i, on the same seeded nn.Linear."""
    if k < 1 or size % k:
        raise ValueError(f"a batch of {size} rows does not split into {k} equal micro-batches; "
                         "loss_i / k averages to the full-batch mean only when the micro-batches are equal")
    inputs, target = candle_batch(frame, start, size)
    model = seeded_linear(inputs.shape[1], seed)
    full = full_batch_grad(model, inputs, target)
    divided = accumulated_grad(model, inputs, target, k, divide_by_k=True)
    undivided = accumulated_grad(model, inputs, target, k, divide_by_k=False)
    names = [f"weight.grad[{c}]" for c in frame.columns] + ["bias.grad"]
    table = pd.DataFrame({"full batch": full.tolist(), "Σ loss_i / k": divided.tolist(),
                          "Σ loss_i (no / k)": undivided.tolist()}, index=names)
    table["(Σ loss_i) / full"] = table["Σ loss_i (no / k)"] / table["full batch"]
    rel = ((divided - full).abs() / full.abs().clamp_min(1e-12)).max().item()
    ratio = (undivided.norm() / full.norm()).item()
    return MicroBatchResult(table, rel, ratio)


def compare_or_refuse(frame: pd.DataFrame, start: int, size: int, k: int,
                      seed: int) -> tuple[MicroBatchResult | None, str | None]:
    """compare_microbatches, or why this batch cannot be split (None and the message)."""
    try:
        return compare_microbatches(frame, start, size, k, seed), None
    except ValueError as exc:
        return None, f"Cannot split this batch: {exc}"


ROUNDING_NOTE = "The difference with `/ k` is float32 rounding (sums taken in a different order), not maths."
