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
