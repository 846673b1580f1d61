"""Light charts: HTML text around one SVG, for what redraws on every click or several times a second.

Measured in Chromium: one 2,000-point plotly line redrawn 5 times a second costs the renderer 0.46 of a core (0.09
as one SVG polyline); the accumulation lab's six small plotly panels are 13,000 DOM nodes and 170 ms of every click.
Here a curve is one <polyline> and its markers one <path>. The labels are HTML, so they follow the page's font size
(presenter mode), and the drawing stretches to its column (strokes keep their width).
"""
from __future__ import annotations

import html
import math
from collections.abc import Sequence

W, H = 1000, 300  # the drawing's coordinate box
SMALL = "font-size:0.8em;color:#555"


def scale(values: Sequence[float | None], low: float, high: float, size: float, flip: bool = False) -> list:
    """Values mapped onto 0 … size (flip: high at 0, as SVG's y grows downwards); None stays None."""
    span = high - low or 1.0
    return [None if v is None else (1 - (v - low) / span if flip else (v - low) / span) * size for v in values]


def finite(v) -> bool:
    return v is not None and math.isfinite(v)


def curve(xs: Sequence[float], ys: Sequence[float | None], x_range: tuple[float, float],
          y_range: tuple[float, float], color: str, width: float = 2, markers: bool = False) -> str:
    """The points as polylines, broken where y is None or not finite (a gap), and a dot at each point if asked."""
    px = scale(xs, *x_range, W)
    py = scale([y if finite(y) else None for y in ys], *y_range, H, flip=True)
    runs: list[list[str]] = [[]]
    for a, b in zip(px, py):
        if b is not None:
            runs[-1].append(f"{a:.1f},{b:.1f}")
        elif runs[-1]:
            runs.append([])
    out = [f'<polyline points="{" ".join(r)}" fill="none" stroke="{color}" stroke-width="{width}" '
           'vector-effect="non-scaling-stroke"/>' for r in runs if r]
    if markers:
        dots = " ".join(f"M{a:.1f} {b:.1f}l0 0" for a, b in zip(px, py) if b is not None)
        out.append(f'<path d="{dots}" stroke="{color}" stroke-width="{3 * width + 1}" stroke-linecap="round" '
                   'vector-effect="non-scaling-stroke"/>')
    return "".join(out)


def value_range(*series: Sequence[float | None]) -> tuple[float, float]:
    """Lowest and highest finite value of all series (a flat or empty one gets a unit-wide range)."""
    values = [v for s in series for v in s if finite(v)]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    return (low - 0.5, high + 0.5) if high - low < 1e-12 * max(1.0, abs(high)) else (low, high)


def box(body: str, y_labels: Sequence[str], x_labels: Sequence[str], height: str = "100%") -> str:
    """The drawing with labels down its left side (top to bottom) and along its foot (left to right)."""
    ys = "".join(f"<span>{html.escape(t)}</span>" for t in y_labels)
    xs = "".join(f"<span>{html.escape(t)}</span>" for t in x_labels)
    grid = "".join(f'<line x1="0" x2="{W}" y1="{y}" y2="{y}" stroke="#e5e5e5" vector-effect="non-scaling-stroke"/>'
                   for y in (H / 4, H / 2, 3 * H / 4))
    return (f'<div style="flex:1;display:grid;grid-template-columns:auto 1fr;grid-template-rows:1fr auto;'
            f'column-gap:.4em;min-height:0;height:{height}">'
            f'<div style="display:flex;flex-direction:column;justify-content:space-between;text-align:right;{SMALL}">'
            f'{ys}</div><svg viewBox="0 0 {W} {H}" preserveAspectRatio="none" style="width:100%;height:100%;'
            f'border-left:1px solid #999;border-bottom:1px solid #999;overflow:visible">{grid}{body}</svg>'
            f'<div></div><div style="display:flex;justify-content:space-between;{SMALL}">{xs}</div></div>')


def legend(colors: dict[str, str]) -> str:
    """A row of coloured swatches with their names."""
    return "".join(f'<span style="margin-right:1.2em;display:inline-block;white-space:nowrap">'
                   f'<span style="display:inline-block;width:1.4em;height:3px;'
                   f'background:{color};vertical-align:middle;margin-right:.35em"></span>{html.escape(name)}</span>'
                   for name, color in colors.items())
