"""A standalone Python script that reproduces a training run: the lesson functions the app ran (their source, as
inspect.getsource reads it), train_run around them, and a few lines that start it; the same run as a notebook, and
the downloads a stopped run offers."""
from __future__ import annotations

import inspect
from dataclasses import asdict, dataclass
from typing import Callable, NamedTuple

import pandas as pd
import torch

from explorer.training import features, models, trainer
from explorer.training.features import FeatureSpec, build_features
from explorer.training.models import build_model, make_loss, make_optimizer, n_outputs_for
from explorer.training.trainer import TrainSettings, batch_order, evaluate, step_lesson
from explorer.training.worker import TrainingWorker, loss_history_frame

# The app's own functions, copied verbatim into the script (the code exported is the code that ran).
SCRIPT_PARTS = (
    features.lagged_windows, features.target_series, features.log_return_frame, features.log_return_target,
    features.feature_table, features.split_point, features.fit_scaler, features.build_features,
    models.calc_preds, models.ScratchLinear, models.build_model, models.direction_cross_entropy, models.make_loss,
    models.ManualSGD, models.make_optimizer, models.n_outputs_for, trainer.batch_order, trainer.evaluate,
)

DOCSTRING = '''#!/usr/bin/env python
"""Reproduces an Autograd Explorer training run. Run with: python {name} [epochs]

Needs torch, pandas and numpy. The candles used are embedded below; the functions are the app's own.
Prints the mean training loss of every epoch and the validation loss after it.
"""
'''
IMPORTS = '''from __future__ import annotations

import io
import math
import sys

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

'''
DATA = '''FEATURES = {features!r}
SETTINGS = {settings!r}
CANDLES_CSV = """{csv}"""
'''
HEADER = DOCSTRING + IMPORTS + DATA

DRIVER = '''

if __name__ == "__main__":
    candles = pd.read_csv(io.StringIO(CANDLES_CSV), index_col=0, parse_dates=True)
    train_run(candles, FEATURES, SETTINGS, {step}, int(sys.argv[1]) if len(sys.argv) > 1 else None)
'''


def train_run(candles, features: dict, settings: dict, step, epochs: int | None = None) -> None:
    """Build the tensors, seed the model, then train epoch by epoch with `step` (one mini-batch) and print the
    losses: the app's Trainer runs the same lessons in the same order, so the numbers are the same."""
    f, s = features, settings
    data = build_features(candles, f["columns"], f["lags"], f["target"], f["normalisation"],
                          f["validation_fraction"])
    x, y = data["x_train"], data["y_train"]
    torch.manual_seed(s["seed"])
    model = build_model(s["model"], x.shape[1], n_outputs_for(s["loss"]), s["hidden_sizes"], s["activation"],
                        s["init"])
    loss_fn = make_loss(s["loss"])
    optimizer = make_optimizer(s["optimizer"], model.parameters(), s["learning_rate"], s["momentum"])
    generator = torch.Generator().manual_seed(s["seed"])
    print(model)
    print("t_indep", x.shape, "t_dep", y.shape)
    for epoch in range(1, (epochs or s["epochs"]) + 1):
        losses = [step(model, loss_fn, optimizer, x[idx], y[idx])
                  for idx in batch_order(len(x), s["batch_size"], generator)]
        valid_loss, _ = evaluate(model, loss_fn, data["x_valid"], data["y_valid"])
        print(f"epoch {epoch}: train loss {sum(losses) / len(losses)!r} valid loss {valid_loss!r}")


def candles_csv(frame: pd.DataFrame, spec: FeatureSpec) -> str:
    """The candles the run used, as CSV text (pandas writes the shortest repr that reads back exactly)."""
    columns = sorted({*spec.columns, "high", "close"}, key=list(frame.columns).index)
    return frame.iloc[: spec.rows][columns].to_csv()


def run_inputs(spec: FeatureSpec, settings: TrainSettings) -> tuple[dict, dict]:
    """The run's features and settings as the plain dicts the script embeds."""
    feats = {"columns": list(spec.columns), "lags": spec.lags, "target": spec.target,
             "normalisation": spec.normalisation, "validation_fraction": spec.validation_fraction}
    return feats, {**asdict(settings), "hidden_sizes": list(settings.hidden_sizes)}


def export_script(frame: pd.DataFrame, spec: FeatureSpec, settings: TrainSettings,
                  name: str = "train_run.py") -> str:
    """Source of a runnable script that rebuilds the features and model and retrains with the same seed."""
    feats, sets = run_inputs(spec, settings)
    step = step_lesson(settings)
    parts = [HEADER.format(name=name, features=feats, settings=sets, csv=candles_csv(frame, spec))]
    parts += ["\n\n" + inspect.getsource(obj) for obj in (*SCRIPT_PARTS, step, train_run)]
    return "".join(parts) + DRIVER.format(step=step.__name__)


def export_notebook(frame: pd.DataFrame, spec: FeatureSpec, settings: TrainSettings, epochs: int | None = None) -> str:
    """The same run as a notebook: the imports, the data cell, one cell per function the script holds, the driver."""
    from explorer.teaching.notebook import NEEDS, code, markdown, notebook_text
    feats, sets = run_inputs(spec, settings)
    step = step_lesson(settings)
    return notebook_text([
        markdown(f"# A training run: {settings.model}, {settings.loss} loss, {settings.optimizer}\n\nThe loop a "
                 f"learner reads is `{step.__name__}` (one mini-batch); `train_run` builds the features and the model "
                 "with the run's seed and prints each epoch's mean training loss and the validation loss after it, "
                 f"as the app's Trainer did. *Taken home from Autograd Explorer. {NEEDS}*"),
        code(IMPORTS.replace("import sys\n", "")),
        code(DATA.format(features=feats, settings=sets, csv=candles_csv(frame, spec))),
        *(code(inspect.getsource(obj)) for obj in (*SCRIPT_PARTS, step, train_run)),
        code("candles = pd.read_csv(io.StringIO(CANDLES_CSV), index_col=0, parse_dates=True)"),
        code(f"train_run(candles, FEATURES, SETTINGS, {step.__name__}, {epochs!r})"),
    ])


@dataclass(frozen=True)
class TrainingExport:
    """A training run's take-home, script and notebook (what TakeHome builds on click)."""
    frame: pd.DataFrame
    spec: FeatureSpec
    settings: TrainSettings

    @property
    def script(self) -> str:
        return export_script(self.frame, self.spec, self.settings)

    def notebook(self) -> str:
        return export_notebook(self.frame, self.spec, self.settings)


class Download(NamedTuple):
    """One of a stopped run's download buttons; `data` builds the file when the button is clicked."""
    label: str
    data: Callable[[], str | bytes]
    file: str
    mime: str
    key: str


def run_downloads(worker: TrainingWorker) -> list[Download]:
    """A run's loss history, its model's state_dict, and the run as a standalone script and as a notebook."""
    candles, (spec, settings, _) = worker.trainer.data.candles, worker.spec
    return [Download("Loss history (CSV)", lambda: loss_history_frame(worker.snapshot()).to_csv(index=False),
                     "loss_history.csv", "text/csv", "train_dl_csv"),
            Download("Model state_dict (.pt)", worker.state_dict_bytes, "state_dict.pt", "application/octet-stream",
                     "train_dl_state"),
            Download("Standalone script (.py)", lambda: export_script(candles, spec, settings), "train_run.py",
                     "text/x-python", "train_dl_script"),
            Download("Notebook (.ipynb)", lambda: export_notebook(candles, spec, settings), "train_run.ipynb",
                     "application/x-ipynb+json", "train_dl_notebook")]
