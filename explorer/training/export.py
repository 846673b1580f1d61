"""A standalone Python script that reproduces a training run, assembled from the very functions the app ran."""
from __future__ import annotations

import inspect
from dataclasses import asdict

import pandas as pd

from explorer.training import features, models, trainer
from explorer.training.features import FeatureSpec
from explorer.training.trainer import TrainSettings

# The app's own code, copied verbatim into the script (the code exported is the code that ran).
SCRIPT_PARTS = (
    features.lagged_windows, features.target_series, features.log_return_frame, features.log_return_target,
    features.feature_table, features.split_point, features.fit_scaler, features.build_features,
    models.calc_preds, models.ScratchLinear, models.build_model, models.direction_cross_entropy, models.make_loss,
    models.ManualSGD, models.ForgetfulOptimizer, models.make_optimizer, models.n_outputs_for,
    trainer.batch_order, trainer.train_step,
)

HEADER = '''#!/usr/bin/env python
"""Reproduces an Autograd Explorer training run. Run with: python {name}

Needs torch, pandas and numpy. The candles used are embedded below; the functions are the app's own.
Prints the mean training loss of every epoch and the validation loss after it.
"""
from __future__ import annotations

import io
import math
import sys

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

FEATURES = {features!r}
SETTINGS = {settings!r}
CANDLES_CSV = """{csv}"""
'''

MAIN = '''

def main(epochs: int | None = None) -> list[float]:
    """Build the features, seed, train epoch by epoch exactly as the app's Trainer does; print each epoch."""
    frame = pd.read_csv(io.StringIO(CANDLES_CSV), index_col=0, parse_dates=True)
    f, s = FEATURES, SETTINGS
    data = build_features(frame, f["columns"], f["lags"], f["target"], f["normalisation"],
                          f["validation_fraction"])
    torch.manual_seed(s["seed"])
    model = build_model(s["model"], data["x_train"].shape[1], n_outputs_for(s["loss"]), s["hidden_sizes"],
                        s["activation"], s["init"])
    loss_fn = make_loss(s["loss"])
    optimizer = make_optimizer(s["optimizer"], model.parameters(), s["learning_rate"], s["momentum"],
                               s["zero_grad"])
    generator = torch.Generator().manual_seed(s["seed"])
    print(model)
    print("t_indep", data["x_train"].shape, "t_dep", data["y_train"].shape)
    epoch_losses = []
    for epoch in range(1, (epochs or s["epochs"]) + 1):
        losses = [train_step(model, loss_fn, optimizer, data["x_train"][idx], data["y_train"][idx])
                  for idx in batch_order(len(data["x_train"]), s["batch_size"], generator)]
        train_loss = sum(losses) / len(losses)
        with torch.no_grad():
            valid_loss = loss_fn(model(data["x_valid"]), data["y_valid"]).item()
        print(f"epoch {epoch}: train loss {train_loss!r} valid loss {valid_loss!r}")
        epoch_losses.append(train_loss)
        if not math.isfinite(train_loss):
            print("the loss is no longer finite: normalise the inputs or lower the learning rate")
            break
    return epoch_losses


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else None)
'''


def candles_csv(frame: pd.DataFrame, spec: FeatureSpec) -> str:
    """The candles the run used, as CSV text (pandas writes the shortest repr that reads back exactly)."""
    columns = sorted({*spec.columns, "high", "close"}, key=list(frame.columns).index)
    return frame.iloc[: spec.rows][columns].to_csv()


def export_script(frame: pd.DataFrame, spec: FeatureSpec, settings: TrainSettings,
                  name: str = "train_run.py") -> str:
    """Source of a runnable script that rebuilds the features and model and retrains with the same seed."""
    feats = {"columns": list(spec.columns), "lags": spec.lags, "target": spec.target,
             "normalisation": spec.normalisation, "validation_fraction": spec.validation_fraction}
    sets = {**asdict(settings), "hidden_sizes": list(settings.hidden_sizes)}
    parts = [HEADER.format(name=name, features=feats, settings=sets, csv=candles_csv(frame, spec))]
    parts += ["\n\n" + inspect.getsource(obj) for obj in SCRIPT_PARTS]
    return "".join(parts) + MAIN
