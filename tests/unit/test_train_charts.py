"""The loss chart drawn while training plays (light SVG) and once it stops (plotly): the same curves, the same
numbers."""
from __future__ import annotations

import re

import numpy as np
import pytest

from explorer.svgplot import H as SVG_H, W as SVG_W
from explorer.training.charts import MAX_POINTS, loss_figure, loss_series, loss_svg
from explorer.training.worker import Snapshot


def snapshot(steps: int, epochs: int, losses=None) -> Snapshot:
    losses = list(losses if losses is not None else np.linspace(4.0, 1.0, steps))
    per = steps // epochs
    table = [{"epoch": e, "step": e * per, "train_loss": losses[e * per - 1] + 0.25, "valid_loss": 2.0}
             for e in range(1, epochs + 1)]
    return Snapshot("running", steps, 10 * steps, epochs, 10 * epochs, losses, table, [], 2.0, np.zeros(3), None,
                    100.0)


def points(svg: str) -> list[list[tuple[float, float]]]:
    return [[tuple(map(float, p.split(","))) for p in m.split()] for m in re.findall(r'points="([^"]*)"', svg)]


def test_the_svg_draws_the_three_curves_scaled_into_its_box():
    snap = snapshot(100, 4)
    batch, epoch_mean, valid = points(loss_svg(snap))
    assert len(batch) == 100 and len(epoch_mean) == len(valid) == 4
    assert batch[0] == (0.0, 0.0)  # step 1 at the left edge, the highest loss at the top
    xs = [x for x, _ in batch]
    assert xs == sorted(xs) and xs[-1] == SVG_W  # the last step at the right edge
    high, low = 4.0, 1.0  # one y scale for all three curves
    assert batch[-1][1] == pytest.approx(SVG_H, abs=0.06)
    assert valid[0][1] == pytest.approx((high - 2.0) / (high - low) * SVG_H, abs=0.06)
    assert epoch_mean[-1] == pytest.approx((SVG_W, (high - 1.25) / (high - low) * SVG_H), abs=0.06)


def test_the_svg_labels_its_scale_and_progress():
    svg = loss_svg(snapshot(100, 4), unit="MSE of z-scored next_high")
    assert "Loss — epoch 4/40, step 100/1000" in svg
    assert ">4<" in svg and ">1<" in svg and ">2.5<" in svg  # top, bottom and middle of the y scale
    assert "loss (MSE of z-scored next_high)" in svg and ">100<" in svg


def test_log_y_draws_log10_and_labels_the_real_values():
    snap = snapshot(3, 1, [100.0, 10.0, 1.0])
    snap = Snapshot(**{**snap.__dict__, "epochs_table": []})
    svg = loss_svg(snap, log_y=True)
    (batch,) = [p for p in points(svg) if p]
    assert [round(y, 3) for _, y in batch] == [0.0, SVG_H / 2, SVG_H]  # decades evenly spaced
    assert ">100<" in svg and ">1<" in svg and ">10<" in svg and "log y" in svg


def test_non_finite_losses_are_left_out_and_long_runs_are_thinned():
    snap = snapshot(6 * MAX_POINTS, 6 * MAX_POINTS)
    batch, epoch_mean, valid = points(loss_svg(snap))
    assert len(batch) <= MAX_POINTS and len(epoch_mean) <= MAX_POINTS
    nan = snapshot(4, 1, [1.0, float("nan"), float("inf"), 2.0])
    assert len(points(loss_svg(nan))[0]) == 2


def test_plotly_and_svg_draw_the_same_series_and_markers_only_while_few():
    snap = snapshot(200, 150)
    fig = loss_figure(snap)
    for trace, (x, y) in zip(fig.data, loss_series(snap).values()):
        assert list(trace.x) == list(x) and list(trace.y) == list(y)
    assert [t.mode for t in fig.data] == ["lines+markers", "lines", "lines"]  # 150 epochs: no marker per epoch
    assert [t.mode for t in loss_figure(snapshot(200, 20)).data] == ["lines+markers"] * 3


def contrast(color: str, background: str = "#ffffff") -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours."""
    def lum(c: str) -> float:
        rgb = [int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((lum(color), lum(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_series_colour_reaches_3_to_1_on_white():
    from explorer.data.charts import DOWN, UP
    from explorer.svgplot import SERIES_COLORS
    from explorer.training.charts import LOSS_COLORS, PREDICTION_STYLE
    colours = [*SERIES_COLORS, *LOSS_COLORS.values(), *(c for c, _ in PREDICTION_STYLE.values()), UP, DOWN]
    assert min(contrast(c) for c in colours) >= 3.0, {c: round(contrast(c), 2) for c in colours}
    assert contrast("#9ecae1") < 3  # the old batch colour, which this test would have refused


def test_the_loss_curves_differ_beyond_colour_and_are_named_where_they_end():
    snap = snapshot(200, 20)
    for fig in (loss_figure(snap), loss_figure(snap, log_y=True)):
        styles = {(t.line.dash, t.line.width, t.marker.symbol) for t in fig.data}
        assert len(styles) == 3  # dash, width and marker: no two curves alike but for colour
        assert {a.text for a in fig.layout.annotations} == {t.name for t in fig.data}  # direct labels
    svg = loss_svg(snap)
    assert svg.count('stroke-dasharray="8 5"') == 2  # validation dashed: its curve and its legend swatch
    assert re.search(r'stroke-width="3"[^>]*vector-effect', svg)  # the epoch mean thick, the batch curve thin


def test_labels_of_curves_that_end_together_stack_instead_of_overlapping():
    """A trained run's three curves end within a hair of each other: their labels sit above the ends, each 16 px
    above the one below (the old alternate above/below hid one label and drew one over the step axis)."""
    snap = snapshot(200, 20, np.r_[np.full(10, 2.5), np.full(190, 0.003)])
    snap = Snapshot(**{**snap.__dict__, "epochs_table": [{**row, "train_loss": 0.0031, "valid_loss": 0.0044}
                                                         for row in snap.epochs_table]})
    for fig in (loss_figure(snap), loss_figure(snap, log_y=True)):
        labels = {a.text: a for a in fig.layout.annotations if a.text in {t.name for t in fig.data}}
        assert {a.yanchor for a in labels.values()} == {"bottom"}
        shifts = [labels[name].yshift for name in ("train (batch)", "train (epoch mean)", "validation")]
        assert shifts == [0, 16, 32]
    far = loss_figure(snapshot(200, 20))  # ends far apart: each label at its own end, unshifted
    assert {a.yshift for a in far.layout.annotations if a.text in {t.name for t in far.data}} == {0}


def test_predicted_vs_actual_norms_and_compared_runs_each_have_their_own_dash():
    from explorer.data.sample import generate_candles
    from explorer.training.charts import (PREDICTION_STYLE, RunRecord, compare_figure, norms_figure, norms_svg,
                                          prediction_figure, prediction_svg)
    from explorer.training.features import FeatureSpec, make_features
    data = make_features(generate_candles(200), FeatureSpec(rows=200))
    n = len(data.y_valid)
    snap = Snapshot(**{**snapshot(4, 1).__dict__, "valid_preds": data.y_valid.numpy() * 0.5,
                       "norms": [(s, p, 1.0 + s, 0.1 * s) for s in (1, 2, 3, 4) for p in ("w1", "b1", "w2")]})
    pred = prediction_figure(snap, data)
    assert [(t.name, t.line.dash, t.line.color) for t in pred.data] == [
        ("actual", "solid", PREDICTION_STYLE["actual"][0]), ("predicted", "dash", PREDICTION_STYLE["predicted"][0])]
    live = prediction_svg(snap, data)
    assert live.index(PREDICTION_STYLE["actual"][0]) < live.index(PREDICTION_STYLE["predicted"][0])  # same order
    assert 'stroke-dasharray="8 5"' in live and len(points(live)) == 2 and len(points(live)[0]) == n
    norms = norms_figure(snap)
    dashes = {t.name: t.line.dash for t in norms.data}
    assert len(set(dashes.values())) == 3 and len({t.marker.symbol for t in norms.data}) == 3
    assert norms_svg(snap).count("stroke-dasharray") >= 2 * 2  # two of the three dashed, in both panels (+ legend)
    runs = [RunRecord(i, {"lr": lr}, np.arange(1, 51), np.linspace(2, 1, 50) * lr, "done", "MSE")
            for i, lr in enumerate((0.1, 0.2, 0.3), start=1)]
    compared = compare_figure(runs)
    assert len({t.line.dash for t in compared.data}) == 3 and len(compared.layout.annotations) == 3


def test_an_empty_loss_chart_says_so_on_a_loss_axis_from_zero():
    """Before the first step: no axis from -1 to 6 (a negative loss), a 0-1 loss axis and a note what to press."""
    empty = Snapshot(**{**snapshot(10, 2).__dict__, "step": 0, "epoch": 0, "step_losses": [], "epochs_table": []})
    fig = loss_figure(empty)
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    assert any("No steps yet" in a.text for a in fig.layout.annotations)
    assert fig.layout.yaxis.rangemode == "nonnegative"  # with data too: a loss is never below 0


def test_a_thinned_loss_curve_stays_clickable():
    """A long run's batch curve is thinned to a line; its points stay (invisible) so a click still picks a step:
    plotly selects no point on a trace drawn as a line only, so the step window stayed on the last step."""
    fig = loss_figure(snapshot(5_000, 50))
    batch = next(t for t in fig.data if t.name == "train (batch)")
    assert 300 < len(batch.x) <= 2 * MAX_POINTS and "markers" in batch.mode and batch.marker.opacity == 0
    short = next(t for t in loss_figure(snapshot(100, 5)).data if t.name == "train (batch)")
    assert "markers" in short.mode and short.marker.opacity in (None, 1)


def test_a_loss_spanning_decades_on_a_linear_axis_says_to_try_log_y():
    falling = np.geomspace(2.5, 0.001, 2_600)  # the default run: 2.5 down to about 0.001
    linear = loss_figure(snapshot(2_600, 200, falling))
    assert any("spans 3 decades" in a.text and "log y" in a.text for a in linear.layout.annotations)
    assert not any("log y" in a.text for a in loss_figure(snapshot(2_600, 200, falling), log_y=True).layout.annotations)
    assert not any("decades" in a.text for a in loss_figure(snapshot(100, 5)).layout.annotations)  # 4 -> 1
