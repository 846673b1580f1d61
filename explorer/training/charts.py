"""Plotly figures of a training snapshot: loss curves, predicted vs actual, per-layer weight and gradient norms."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer import svgplot
from explorer.training.features import FeatureSet, FeatureSpec
from explorer.training.trainer import TrainSettings
from explorer.training.worker import Snapshot

MARKERS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon")
MAX_POINTS = 2000  # a browser redrawing a few times a second should not receive 100k points
LABEL_GAP, LABEL_PX = 0.08, 16  # end labels closer than this share of the axis stack, this many px apart


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stride = max(1, len(x) // MAX_POINTS)
    return x[::stride], y[::stride]


def _layout(fig: go.Figure, title: str, height: int = 320, legend_y: float = 1.02) -> go.Figure:
    # the legend sits in a row above the plot, under the title: never on the axis titles or the dates
    fig.update_layout(title=dict(text=title, y=0.98, yanchor="top"), height=height,
                      margin=dict(l=10, r=10, t=80, b=10), uirevision="keep",  # uirevision keeps zoom across redraws
                      legend=dict(orientation="h", yanchor="bottom", y=legend_y, xanchor="left", x=0))
    return fig


def log_axis(fig: go.Figure, values, **where) -> go.Figure:
    """A log y axis labelled like one: a tick per decade (0.1, 1, 10, 100, 1e+3 …), not plotly's 5, 2, 1, 5, 2."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    decades = math.log10(max(finite) / min(finite)) if finite else 0.0
    ticks = dict(dtick=1, exponentformat="e") if decades >= 1 else dict(tickformat=".3~g")
    fig.update_yaxes(type="log", **ticks, **where)
    return fig


def step_axis(fig: go.Figure, last_step: int) -> go.Figure:
    """The x axis counts steps: whole numbers only while there are few (no tick at step 1.5)."""
    fig.update_xaxes(title="step", **({"dtick": 1} if last_step <= 12 else {}))
    return fig


def loss_unit(spec: FeatureSpec, loss: str) -> str:
    """What a loss number is measured in, e.g. "MSE of z-scored next_high"."""
    name = {"mse": "MSE", "mae": "MAE", "huber": "Huber loss", "bce_logits": "BCE-with-logits",
            "cross_entropy": "cross-entropy"}.get(loss, loss)
    if spec.is_classification:
        return f"{name} of {spec.target} (nats)"
    scaled = {"none": f"raw {spec.target}", "minmax": f"min-max-scaled {spec.target}",
              "zscore": f"z-scored {spec.target}", "log_returns": f"{spec.target} as a log return"}
    return f"{name} of {scaled.get(spec.normalisation, spec.target)}"


def chance_accuracy(labels: np.ndarray) -> tuple[float, str]:
    """The accuracy of always guessing the more common direction, and that guess ('up' or 'down')."""
    up = float(np.mean(np.asarray(labels) > 0.5)) if len(labels) else 0.5
    return (up, "up") if up >= 0.5 else (1 - up, "down")


# Each curve differs from the others by more than its colour (each colour 3:1 or more on white): the batch curve
# thin, the epoch mean thick, validation dashed; the plotly chart also names each curve at its end.
LOSS_COLORS = {"train (batch)": "#5b8fc7", "train (epoch mean)": "#08519c", "validation": "#d95f02"}
LOSS_DASHES = {"train (batch)": "solid", "train (epoch mean)": "solid", "validation": "dash"}
LOSS_WIDTHS = {"train (batch)": 1, "train (epoch mean)": 3, "validation": 2}
LOSS_MARKERS = {"train (batch)": "circle", "train (epoch mean)": "square", "validation": "diamond"}
# predicted vs actual: the same colour, dash and place in the live chart and the stopped one
PREDICTION_STYLE = {"actual": ("#1f77b4", "solid"), "predicted": ("#d95f02", "dash")}


def _role(name: str) -> str:
    """'actual' or 'predicted', whatever the series is called ("actual (1 = up)", "predicted P(up)")."""
    return "actual" if name.startswith("actual") else "predicted"


def parameter_styles(names: list[str]) -> dict[str, tuple[str, str]]:
    """Each parameter's colour and dash in the norm charts (colour and dash both change from one to the next)."""
    return {name: (svgplot.SERIES_COLORS[i % len(svgplot.SERIES_COLORS)], svgplot.DASHES[i % len(svgplot.DASHES)])
            for i, name in enumerate(names)}


def _end_labels(fig: go.Figure, log_y: bool = False) -> go.Figure:
    """Each curve named where it ends (a direct label), in its own colour: no need to match colours to a legend.
    Labels whose ends lie within LABEL_GAP of the axis of each other stack upwards instead of overlapping."""
    ends, values = [], []
    for trace in fig.data:
        x, y = np.asarray(trace.x), np.asarray(trace.y, dtype=float)
        keep = np.isfinite(y) & ((y > 0) if log_y else True)
        if keep.any():
            y = np.log10(y[keep]) if log_y else y[keep]
            ends.append((y[-1], x[keep][-1], trace))
            values.extend((y.min(), y.max()))
    span = (max(values) - min(values) if values else 0.0) or 1.0
    below, shift = None, 0
    for y, x, trace in sorted(ends, key=lambda end: end[0]):
        shift = shift + LABEL_PX if below is not None and (y - below) / span < LABEL_GAP else 0
        below = y
        fig.add_annotation(x=x, y=y, text=trace.name, showarrow=False, xanchor="right", yanchor="bottom",
                           yshift=shift, font=dict(color=trace.line.color, size=12), bgcolor="rgba(255,255,255,0.8)")
    return fig


def loss_series(snap: Snapshot) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The loss chart's three curves (step, loss), thinned: per batch, per-epoch training mean, validation."""
    epochs = pd.DataFrame(snap.epochs_table, columns=["epoch", "step", "train_loss", "valid_loss"])
    return {"train (batch)": _thin(snap.loss_steps, np.asarray(snap.step_losses, dtype=float)),
            "train (epoch mean)": _thin(epochs["step"].to_numpy(), epochs["train_loss"].to_numpy(dtype=float)),
            "validation": _thin(epochs["step"].to_numpy(), epochs["valid_loss"].to_numpy(dtype=float))}


def loss_figure(snap: Snapshot, log_y: bool = False, unit: str | None = None) -> go.Figure:
    """Per-step training loss, per-epoch mean training loss and validation loss against the step."""
    fig = go.Figure()
    series = loss_series(snap)
    for name, (x, y) in series.items():
        batch = name == "train (batch)"  # its markers are points to click; a marker per epoch only while few
        few = len(x) <= (300 if batch else 100)
        # plotly selects no point of a line-only trace: a long run's batch points stay, unseen, to be clicked
        fig.add_scatter(x=x, y=y, name=name, mode="lines+markers" if few or batch else "lines",
                        line=dict(width=LOSS_WIDTHS[name], color=LOSS_COLORS[name], dash=LOSS_DASHES[name]),
                        marker=dict(size=5 if batch else 7, symbol=LOSS_MARKERS[name], opacity=None if few else 0))
    step_axis(fig, snap.step)
    fig.update_yaxes(title=f"loss ({unit})" if unit else "loss")
    losses = np.concatenate([y for _, y in series.values()])
    if log_y:
        log_axis(fig, losses.tolist())
    else:
        fig.update_yaxes(rangemode="nonnegative")  # a loss is never below 0 (plotly's padding drew -1 … 6 empty)
    _loss_notes(fig, losses, log_y)
    _end_labels(fig, log_y)
    return _layout(fig, f"Loss — epoch {snap.epoch}/{snap.epochs}, step {snap.step}/{snap.total_steps}")


def _loss_notes(fig: go.Figure, losses: np.ndarray, log_y: bool) -> None:
    """No steps yet: a 0-1 loss axis and what to press. A loss over decades on a linear axis: say log y reads it."""
    finite = losses[np.isfinite(losses) & (losses > 0)]
    if not np.isfinite(losses).any():
        fig.update_yaxes(range=[0, 1])
        fig.add_annotation(text="No steps yet: press Play or Step", xref="paper", yref="paper", x=0.5, y=0.5,
                           showarrow=False, font=dict(size=14, color="#545454"))
    elif not log_y and len(finite) and (decades := int(math.log10(finite.max() / finite.min()))) >= 2:
        fig.add_annotation(text=f"the loss spans {decades} decades:<br>turn on log y to read the later steps",
                           xref="paper", yref="paper", x=1, y=1, xanchor="right", yanchor="top", align="right",
                           showarrow=False, font=dict(size=12, color="#545454"))  # two lines: fits a phone


def loss_svg(snap: Snapshot, log_y: bool = False, unit: str | None = None) -> str:
    """The loss chart while training plays, as light HTML + SVG (explorer.svgplot): redrawn five times a second, a
    plotly chart costs Chromium half a core, which it takes from training; this costs a tenth of that."""
    series = {}
    for name, (x, y) in loss_series(snap).items():
        keep = np.isfinite(y) & (y > 0 if log_y else True)
        series[name] = (x[keep], np.log10(y[keep]) if log_y else y[keep])
    low, high = svgplot.value_range(*(y.tolist() for _, y in series.values()))
    last = max(2, snap.step)
    body = "".join(svgplot.curve(x.tolist(), y.tolist(), (1, last), (low, high), LOSS_COLORS[name],
                                 LOSS_WIDTHS[name], dash=LOSS_DASHES[name]) for name, (x, y) in series.items())

    def label(v: float) -> str:
        return f"{10 ** v:.3g}" if log_y else f"{v:.3g}"

    axis = f"step{' · log y' if log_y else ''} · loss ({unit or 'loss'})"
    return (f'<div class="live-loss" style="height:320px;display:flex;flex-direction:column">'
            f'<div style="font-weight:600">Loss — epoch {snap.epoch}/{snap.epochs}, step {snap.step}/'
            f'{snap.total_steps}</div><div style="{svgplot.SMALL}">{svgplot.legend(LOSS_COLORS, LOSS_DASHES)}</div>'
            + svgplot.box(body, [label(high), label((low + high) / 2), label(low)], ["1", axis, str(last)])
            + "</div>")


def prediction_series(snap: Snapshot, data: FeatureSet) -> tuple[str, str, dict[str, np.ndarray]]:
    """The validation rows' truth and the model's output, in the target's own units: title, unit, curves."""
    actual, preds = data.y_valid.numpy(), snap.valid_preds
    if data.spec.is_classification:
        logits = preds[:, 1] - preds[:, 0] if preds.ndim == 2 else preds  # 2-class softmax = sigmoid of the gap
        return ("Validation: predicted P(up) vs actual", "P(up)",
                {"predicted P(up)": 1 / (1 + np.exp(-logits)), "actual (1 = up)": actual})
    unit = data.spec.target + (" (log return)" if data.spec.normalisation == "log_returns" else "")
    return (f"Validation: predicted vs actual {unit}", unit,
            {"actual": data.to_target_units(actual), "predicted": data.to_target_units(preds)})


def prediction_svg(snap: Snapshot, data: FeatureSet) -> str:
    """prediction_figure while training plays: the same curves, light."""
    title, _, series = prediction_series(snap, data)
    colors = {name: PREDICTION_STYLE[_role(name)][0] for name in series}
    dashes = {name: PREDICTION_STYLE[_role(name)][1] for name in series}
    values = {name: np.ravel(y).astype(float).tolist() for name, y in series.items()}
    low, high = svgplot.value_range(*values.values())
    n = len(data.y_valid)
    body = "".join(svgplot.curve(list(range(n)), ys, (0, max(1, n - 1)), (low, high), colors[name], 2,
                                 markers=name.startswith("actual ("), dash=dashes[name]) for name, ys in values.items())
    dates = [str(d)[:16] for d in (data.valid_index[0], data.valid_index[-1])] if n else ["", ""]
    return _svg_panel("live-pred", title, colors, [svgplot.box(body, [f"{high:.4g}", f"{low:.4g}"], dates)],
                      dashes)


def norms_svg(snap: Snapshot) -> str:
    """norms_figure while training plays: each parameter's weight and gradient norm, log scale, light."""
    norms = pd.DataFrame(snap.norms, columns=["step", "parameter", "weight", "grad"]).replace([np.inf, -np.inf],
                                                                                               np.nan)
    styles = parameter_styles(list(dict.fromkeys(norms["parameter"])))
    colors = {name: color for name, (color, _) in styles.items()}
    panels = []
    for what, title in (("weight", "weight norm ‖W‖"), ("grad", "gradient norm ‖∂loss/∂W‖")):
        kept = norms[norms[what] > 0]
        logs = np.log10(kept[what].to_numpy(dtype=float))
        low, high = svgplot.value_range(logs.tolist())
        body = "".join(svgplot.curve(*_thin(part["step"].to_numpy(), np.log10(part[what].to_numpy(dtype=float))),
                                     (1, max(2, snap.step)), (low, high), colors[name], 2, dash=styles[name][1])
                       for name, part in kept.groupby("parameter", sort=False))
        panels.append(f'<div style="flex:1;display:flex;flex-direction:column;min-width:0">'
                      f'<div style="{svgplot.SMALL}">{title}</div>'
                      + svgplot.box(body, [f"{10 ** high:.3g}", f"{10 ** low:.3g}"], ["1", "step · log y", str(snap.step)])
                      + "</div>")
    return _svg_panel("live-norms", "", colors, panels, {name: dash for name, (_, dash) in styles.items()})


def _svg_panel(css_class: str, title: str, colors: dict[str, str], drawings: list[str],
               dashes: dict[str, str] | None = None) -> str:
    """A title, a legend and the drawings side by side, at the height of the plotly chart it stands in for."""
    return (f'<div class="{css_class}" style="height:320px;display:flex;flex-direction:column">'
            f'<div style="font-weight:600">{title}</div><div style="{svgplot.SMALL}">{svgplot.legend(colors, dashes)}'
            '</div>'
            f'<div style="flex:1;display:flex;gap:1em;min-height:0">{"".join(drawings)}</div></div>')


def prediction_figure(snap: Snapshot, data: FeatureSet) -> go.Figure:
    """The model's output on the validation rows next to the truth, in the target's own units."""
    title, unit, series = prediction_series(snap, data)
    fig = go.Figure()
    for name, y in series.items():
        dots = name.startswith("actual (")  # up/down labels are points, not a line
        color, dash = PREDICTION_STYLE[_role(name)]
        fig.add_scatter(x=data.valid_index, y=np.ravel(y), name=name, mode="markers" if dots else "lines",
                        line=dict(color=color, dash=dash), marker=dict(size=4, color=color))
    fig.update_yaxes(title=unit)
    return _layout(fig, title)


def norms_figure(snap: Snapshot, detail: list[tuple[int, str, float, float]] | None = None,
                 diverged_at: int | None = None) -> go.Figure:
    """Per-parameter weight norm and gradient norm over the steps (log scale: they span many decades).

    detail: rows for every step near the end (a diverged run's blow-up, replayed); they replace the sparser
    recorded rows over the steps they cover. Non-finite norms are left out: a log axis cannot place them."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("weight norm ‖W‖", "gradient norm ‖∂loss/∂W‖"))
    norms = pd.DataFrame(snap.norms, columns=["step", "parameter", "weight", "grad"])
    if detail:
        extra = pd.DataFrame(detail, columns=norms.columns)
        norms = pd.concat([norms[norms["step"] < extra["step"].min()], extra], ignore_index=True)
    norms = norms.replace([np.inf, -np.inf], np.nan)
    styles = parameter_styles(list(dict.fromkeys(norms["parameter"])))
    for i, (name, part) in enumerate(norms.groupby("parameter", sort=False)):
        color, dash = styles[name]
        mode = "lines+markers" if len(part) < 40 else "lines"  # a single point drawn as a line is invisible
        for col, what in ((1, "weight"), (2, "grad")):
            kept = part[part[what].notna()]
            x, y = _thin(kept["step"].to_numpy(), kept[what].to_numpy())
            fig.add_scatter(x=x, y=y, name=name, mode=mode, line=dict(color=color, dash=dash), showlegend=col == 1,
                            marker=dict(symbol=MARKERS[i % len(MARKERS)]),
                            legendgroup=name, row=1, col=col)
    for col, what in ((1, "weight"), (2, "grad")):
        log_axis(fig, norms[what].dropna().tolist(), row=1, col=col)
    if diverged_at is not None:
        fig.add_vline(x=diverged_at, line=dict(color="#d62728", dash="dash"), annotation_text="diverged",
                      annotation_position="top left", annotation_font_color="#c00000")
    step_axis(fig, snap.step)
    if diverged_at is not None:  # room right of the line, so it does not sit on the next chart's labels
        pad = max(0.5, 0.05 * diverged_at)
        fig.update_xaxes(range=[1 - pad, diverged_at + pad])
    fig.update_annotations(font_size=12)
    return _layout(fig, "", legend_y=1.14)  # above the two panels' titles


@dataclass(frozen=True)
class RunRecord:
    """One finished (or left) run, kept for comparing: its settings and its loss curve."""
    number: int
    settings: dict  # the FeatureSpec and TrainSettings fields, flat
    steps: np.ndarray
    losses: np.ndarray
    status: str
    unit: str


SETTING_NAMES = {"normalisation": "norm", "zero_grad": "zero_grad", "optimizer": "", "learning_rate": "lr",
                 "validation_fraction": "valid", "hidden_sizes": "hidden", "batch_size": "batch"}


def run_settings(spec: FeatureSpec, settings: TrainSettings) -> dict:
    """The settings that make a run, as one flat dict (what compare_labels looks through)."""
    return {**spec.__dict__, **settings.__dict__}


def _setting(name: str, value) -> str:
    if isinstance(value, bool):
        value = "on" if value else "off"
    elif isinstance(value, float):
        value = f"{value:g}"
    elif isinstance(value, tuple):
        value = ",".join(map(str, value)) or "none"
    label = SETTING_NAMES.get(name, name)
    return f"{label} {value}".strip()


def compare_labels(runs: list[RunRecord]) -> list[str]:
    """Each run labelled by the settings that differ between the runs shown, e.g. "#2 norm none · adam"."""
    keys = [k for k in runs[0].settings if len({repr(r.settings.get(k)) for r in runs}) > 1] if runs else []
    return [f"#{r.number} " + " · ".join(_setting(k, r.settings.get(k)) for k in keys) for r in runs]


def compare_figure(runs: list[RunRecord], log_y: bool = True) -> go.Figure:
    """The runs' per-step losses overlaid, each labelled with the settings that differ."""
    fig = go.Figure()
    for i, (run, label) in enumerate(zip(runs, compare_labels(runs))):
        x, y = _thin(run.steps, run.losses)
        color, dash = svgplot.SERIES_COLORS[i % len(svgplot.SERIES_COLORS)], svgplot.DASHES[i % len(svgplot.DASHES)]
        fig.add_scatter(x=x, y=y, name=label + (f" ({run.status})" if run.status == "diverged" else ""),
                        mode="lines+markers" if len(x) < 40 else "lines", line=dict(color=color, dash=dash),
                        marker=dict(symbol=MARKERS[i % len(MARKERS)]))
    step_axis(fig, max((int(r.steps[-1]) for r in runs if len(r.steps)), default=0))
    units = sorted({r.unit for r in runs})
    fig.update_yaxes(title="loss" + (f" ({units[0]})" if len(units) == 1 else " (units differ, see labels)"))
    if log_y:
        log_axis(fig, [v for r in runs for v in r.losses])
    _end_labels(fig, log_y)
    fig = _layout(fig, "Runs compared: per-step training loss", height=380)
    fig.update_layout(legend=dict(orientation="v", x=0, y=-0.25, yanchor="top"))
    return fig
