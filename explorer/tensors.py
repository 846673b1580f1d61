"""From a candle DataFrame to the seed's float32 tensor, and what float32 does to prices."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import pandas as pd
import torch


def candles_to_tensor(frame: pd.DataFrame, device: str = "cpu") -> torch.Tensor:
    """The seed's conversion (Part A, cell 4): every column as float32, one row per candle."""
    # pandas 3 hands out read-only arrays (copy-on-write) and torch.from_numpy warns on those: copy first.
    return torch.from_numpy(frame.to_numpy(copy=True)).to(torch.float32).to(device)


def candle_row(frame: pd.DataFrame, row: int, device: str = "cpu") -> torch.Tensor:
    """Row `row` of the candles as the seed's x (Part B, cell 6): float32, shape (1, n_features)."""
    if not 0 <= row < len(frame):
        raise ValueError(f"row {row} is outside the loaded candles (rows 0 … {len(frame) - 1})")
    return candles_to_tensor(frame)[row].reshape(1, -1).to(device)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """torch.manual_seed(seed) for the code inside, then the CPU random stream other sessions share is put back."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def seeded_leaves(x: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """w and b as in the seed (torch.manual_seed, randn_like(x), randn(1)): leaves that require grad."""
    with seeded(seed):  # drawn on the CPU, then moved: the same numbers on every device
        w = torch.randn(x.shape, dtype=x.dtype).to(x.device).requires_grad_()
        b = torch.randn(1, dtype=x.dtype).to(x.device).requires_grad_()
    return w, b


@dataclass(frozen=True)
class TensorSummary:
    """What the seed printed about its tensor: dtype, shape, device, and the tensor itself."""
    dtype: str
    shape: str
    device: str
    text: str

    @property
    def metrics(self) -> dict[str, str]:
        """dtype, shape and device as three short values (the shape without `torch.Size`)."""
        return {"dtype": self.dtype, "shape": self.shape.replace("torch.Size", ""), "device": self.device}

    @property
    def printout(self) -> str:
        """The seed's cell 5 and what it printed."""
        return f"data_tensor.dtype, data_tensor.shape, data_tensor.device\n({self.dtype}, {self.shape}, {self.device})"


def summarize(tensor: torch.Tensor) -> TensorSummary:
    return TensorSummary(str(tensor.dtype), str(tensor.shape), repr(tensor.device), repr(tensor))


def float32_rounding(frame: pd.DataFrame, rows: int = 5) -> pd.DataFrame:
    """Each value of the first candles as stored (float64), as float32, and the rounding error."""
    head = frame.head(rows)
    as32 = candles_to_tensor(head).double().numpy()
    out = []
    for i, (ts, row) in enumerate(head.iterrows()):
        for j, col in enumerate(head.columns):
            out.append({"timestamp": ts, "column": col, "float64": row[col],
                        "float32": as32[i, j], "error": as32[i, j] - row[col]})
    return pd.DataFrame(out)
