"""The step window's cost: replaying a run up to step k against a bare PyTorch loop of the same k steps.

Run: .venv/bin/python bench/bench_replay.py   — one line per model × optimiser: seconds for both, and the ratio
(replay / bare; the replay also builds the Trainer, evaluates the validation rows at each epoch end, records norms
and watches step k).
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_train import bench_data  # noqa: E402
from explorer.runtime import configure_torch  # noqa: E402
from explorer.training.models import build_model, make_loss, make_optimizer, n_outputs_for  # noqa: E402
from explorer.training.replay import replay_step  # noqa: E402
from explorer.training.trainer import TrainSettings, batch_order  # noqa: E402

K = 1300  # 100 epochs of the default 1000 candles (13 batches of 64 per epoch)
REPEATS = 3
CASES = {"linear + SGD": TrainSettings(model="linear", optimizer="sgd", epochs=100),
         "MLP + SGD": TrainSettings(model="mlp", optimizer="sgd", epochs=100),
         "MLP + Adam": TrainSettings(model="mlp", optimizer="adam", learning_rate=1e-3, epochs=100)}


def bare(data, s: TrainSettings, k: int) -> float:
    """k steps of a plain loop over the same seeded model and batches."""
    torch.manual_seed(s.seed)
    model = build_model(s.model, data.x_train.shape[1], n_outputs_for(s.loss), list(s.hidden_sizes), s.activation,
                        s.init)
    loss_fn, gen = make_loss(s.loss), torch.Generator().manual_seed(s.seed)
    opt = make_optimizer(s.optimizer, model.parameters(), s.learning_rate, s.momentum)
    step = 0
    while step < k:
        for idx in batch_order(len(data.x_train), s.batch_size, gen)[: k - step]:
            opt.zero_grad()
            loss_fn(model(data.x_train[idx]), data.y_train[idx]).backward()
            opt.step()
            step += 1
    return loss_fn(model(data.x_train[:1]), data.y_train[:1]).item()


def timed(fn) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    configure_torch()
    data = bench_data()
    print(f"replay up to step {K} ({len(data.x_train)} training rows, batch 64), median of {REPEATS}; "
          f"torch threads {torch.get_num_threads()}")
    for name, settings in CASES.items():
        base = timed(lambda: bare(data, settings, K))
        replay = timed(lambda: replay_step(data, settings, K))
        print(f"{name:14s} bare {base:6.3f} s · replay {replay:6.3f} s · ratio replay/bare {replay / base:5.2f}")


if __name__ == "__main__":
    main()
