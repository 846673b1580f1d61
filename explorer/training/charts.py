"""Plotly figures of a training snapshot: loss curves, predicted vs actual, per-layer weight and gradient norms."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.training.features import FeatureSet
from explorer.training.worker import Snapshot

MAX_POINTS = 2000  # a browser redrawing a few times a second should not receive 100k points


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stride = max(1, len(x) // MAX_POINTS)
    return x[::stride], y[::stride]


def _layout(fig: go.Figure, title: str, height: int = 320, legend_y: float = 1.02) -> go.Figure:
    # the legend sits in a row above the plot, under the title: never on the axis titles or the dates
    fig.update_layout(title=dict(text=title, y=0.98, yanchor="top"), height=height,
                      margin=dict(l=10, r=10, t=80, b=10), uirevision="keep",  # uirevision keeps zoom across redraws
                      legend=dict(orientation="h", yanchor="bottom", y=legend_y, xanchor="left", x=0))
    return fig


def loss_figure(snap: Snapshot, log_y: bool = False) -> go.Figure:
    """Per-step training loss, per-epoch mean training loss and validation loss against the step."""
    fig = go.Figure()
    steps, losses = _thin(snap.loss_steps, np.asarray(snap.step_losses))
    fig.add_scatter(x=steps, y=losses, name="train (batch)", mode="lines", line=dict(width=1, color="#9ecae1"))
    epochs = pd.DataFrame(snap.epochs_table, columns=["epoch", "step", "train_loss", "valid_loss"])
    fig.add_scatter(x=epochs["step"], y=epochs["train_loss"], name="train (epoch mean)", mode="lines+markers",
                    line=dict(color="#1f77b4"))
    fig.add_scatter(x=epochs["step"], y=epochs["valid_loss"], name="validation", mode="lines+markers",
                    line=dict(color="#ff7f0e"))
    fig.update_xaxes(title="step")
    fig.update_yaxes(title="loss", type="log" if log_y else "linear")
    return _layout(fig, f"Loss — epoch {snap.epoch}/{snap.epochs}, step {snap.step}/{snap.total_steps}")


def prediction_figure(snap: Snapshot, data: FeatureSet) -> go.Figure:
    """The model's output on the validation rows next to the truth, in the target's own units."""
    fig = go.Figure()
    index = data.valid_index
    actual = data.y_valid.numpy()
    preds = snap.valid_preds
    if data.spec.is_classification:
        logits = preds[:, 1] - preds[:, 0] if preds.ndim == 2 else preds  # 2-class softmax = sigmoid of the gap
        fig.add_scatter(x=index, y=1 / (1 + np.exp(-logits)), name="predicted P(up)", mode="lines")
        fig.add_scatter(x=index, y=actual, name="actual (1 = up)", mode="markers", marker=dict(size=4))
        title, unit = "Validation: predicted P(up) vs actual", "P(up)"
    else:
        fig.add_scatter(x=index, y=data.to_target_units(actual), name="actual", mode="lines")
        fig.add_scatter(x=index, y=data.to_target_units(preds), name="predicted", mode="lines")
        unit = f"{data.spec.target}" + (" (log return)" if data.spec.normalisation == "log_returns" else "")
        title = f"Validation: predicted vs actual {unit}"
    fig.update_yaxes(title=unit)
    return _layout(fig, title)


def norms_figure(snap: Snapshot) -> go.Figure:
    """Per-parameter weight norm and gradient norm over the steps (log scale: they span many decades)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("weight norm ‖W‖", "gradient norm ‖∂loss/∂W‖"))
    norms = pd.DataFrame(snap.norms, columns=["step", "parameter", "weight", "grad"])
    for i, (name, part) in enumerate(norms.groupby("parameter", sort=False)):
        color = f"hsl({(i * 67) % 360},60%,45%)"
        x, w = _thin(part["step"].to_numpy(), part["weight"].to_numpy())
        _, g = _thin(part["step"].to_numpy(), part["grad"].to_numpy())
        fig.add_scatter(x=x, y=w, name=name, mode="lines", line=dict(color=color), row=1, col=1)
        fig.add_scatter(x=x, y=g, name=name, mode="lines", line=dict(color=color), showlegend=False, row=1, col=2)
    fig.update_yaxes(type="log")
    fig.update_xaxes(title="step")
    fig.update_annotations(font_size=12)
    return _layout(fig, "", legend_y=1.14)  # above the two panels' titles
