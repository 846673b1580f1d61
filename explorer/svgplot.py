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


# Series colours, each at least 3:1 on white (WCAG 1.4.11), in the order plotly would use its own (whose orange,
# pink, olive and cyan are 2.0-2.7:1). Each series also has a dash (DASHES, in the same order): never colour alone.
SERIES_COLORS = ("#1f77b4", "#d95f02", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#6b6b6b", "#b5478b")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
DASHARRAY = {"solid": None, "dash": "8 5", "dot": "2 4", "dashdot": "8 4 2 4", "longdash": "14 6",
             "longdashdot": "14 5 2 5"}  # plotly's dash names as SVG dash arrays (in pixels)


def curve(xs: Sequence[float], ys: Sequence[float | None], x_range: tuple[float, float],
          y_range: tuple[float, float], color: str, width: float = 2, markers: bool = False,
          dash: str = "solid") -> str:
    """The points as polylines, broken where y is None or not finite (a gap), and a dot at each point if asked;
    `dash` one of DASHARRAY's names."""
    px = scale(xs, *x_range, W)
    py = scale([y if finite(y) else None for y in ys], *y_range, H, flip=True)
    runs: list[list[str]] = [[]]
    for a, b in zip(px, py):
        if b is not None:
            runs[-1].append(f"{a:.1f},{b:.1f}")
        elif runs[-1]:
            runs.append([])
    pattern = f' stroke-dasharray="{DASHARRAY[dash]}"' if DASHARRAY.get(dash) else ""
    out = [f'<polyline points="{" ".join(r)}" fill="none" stroke="{color}" stroke-width="{width}"{pattern} '
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


def legend(colors: dict[str, str], dashes: dict[str, str] | None = None) -> str:
    """A row of swatches with their names, each drawn in its series' colour and dash (DASHARRAY's names)."""
    dashes = dashes or {}

    def swatch(color: str, dash: str) -> str:
        pattern = f' stroke-dasharray="{DASHARRAY[dash]}"' if DASHARRAY.get(dash) else ""
        return (f'<svg width="28" height="6" style="vertical-align:middle;margin-right:.35em" aria-hidden="true">'
                f'<line x1="0" y1="3" x2="28" y2="3" stroke="{color}" stroke-width="3"{pattern}/></svg>')

    return "".join(f'<span style="margin-right:1.2em;display:inline-block;white-space:nowrap">'
                   f'{swatch(color, dashes.get(name, "solid"))}{html.escape(name)}</span>'
                   for name, color in colors.items())


TABLE_CSS = """
.light-table {max-height: 330px; overflow: auto; border: 1px solid rgba(49, 51, 63, .15); border-radius: .5rem;
  margin-bottom: 1rem}
.light-table table {border-collapse: collapse; width: 100%; font-size: .9em}
.light-table th {position: sticky; top: 0; background: #f3f4f7; color: #555; font-weight: 400}
.light-table th, .light-table td {padding: .3em .7em; white-space: nowrap; text-align: right}
.light-table td {border-top: 1px solid rgba(49, 51, 63, .1); font-variant-numeric: tabular-nums}
.light-table .text {text-align: left; white-space: normal; min-width: 6em}
.light-table .none {color: #5c5c5c; font-style: italic}  /* 6.7:1 on white (WCAG AA: 4.5:1) */
.light-table.candles, .light-table.rounding {max-height: none}  /* head() and tail(): five rows; rounding: ten */
.light-table.candles .text, .light-table.rounding .text, .light-table.train-batch .text,
.light-table.train-table .text {white-space: nowrap}
.light-table.train-batch {max-height: 16rem}  /* the step's 64 rows, in a short box */
.light-pre {white-space: pre-wrap; overflow-wrap: anywhere; font-family: "Source Code Pro", monospace;
  font-size: .875rem; line-height: 1.6; background: rgba(128, 128, 128, .08); border-radius: .5rem;
  padding: .9rem 1rem; margin: 0 0 1rem; max-height: 24rem; overflow: auto}
.light-note {color: #545454; font-size: .875rem; margin: 0 0 .5rem}  /* 7:1, not a faded opacity */
.light-columns {display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 18rem), 1fr));
  gap: 0 1rem}  /* side by side where there is room, one above the other on a phone */
.light-columns > div {min-width: 0}  /* a wide table scrolls in its own box, never widens the page */
.light-columns p code {font-size: .85em; background: rgba(128, 128, 128, .1); padding: .1em .3em;
  border-radius: .25rem}
"""  # sent once per page run, in pages/_style.LAYOUT_CSS, not with every table


def pre(text: str) -> str:
    """A printout as a plain <pre> block that wraps its lines (st.code's look, without its highlighter: a light
    block costs a click about a millisecond in Chromium, st.code several)."""
    return f'<pre class="light-pre">{html.escape(text)}</pre>'


def table(frame, css_class: str, digits: int | None = 4, formats: dict[str, str] | None = None) -> str:
    """A DataFrame as a plain HTML table that scrolls inside its box: text left, numbers right with `digits`
    decimals (a value that is not 0 but would read 0.0000 shows its first `digits` digits instead, as -9.984e-07;
    None: each float as Python prints it, every digit it has), or as `formats` says for its column (a format spec
    such as ".2e"); missing values as None. For tables that redraw on every click: as st.dataframe, its data grid
    cost a lesson step 10-20 ms in Chromium; st.table renders every cell as markdown."""
    text = {c for c in frame.columns if frame[c].dtype.kind not in "biuf"}  # strings (object or str dtype)
    formats = formats or {}

    def number(column, value: float) -> str:
        if column in formats:
            return format(value, formats[column])
        if digits is None:
            return f"{value:,}"
        if value and abs(value) < 0.5 * 10 ** -digits:  # a value that is not 0 never reads 0.0000
            return f"{value:.{max(digits - 1, 0)}e}"
        return f"{value:,.{digits}f}"

    def cell(column, value) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return '<td class="none">None</td>'
        if column in text:
            return f'<td class="text">{html.escape(str(value))}</td>'
        if isinstance(value, float):
            return f"<td>{number(column, value)}</td>"
        return f"<td>{value}</td>"

    head = "".join(f'<th class="text">{html.escape(str(c))}</th>' if c in text else f"<th>{html.escape(str(c))}</th>"
                   for c in frame.columns)
    rows = "".join("<tr>" + "".join(cell(c, v) for c, v in zip(frame.columns, row)) + "</tr>"
                   for row in frame.itertuples(index=False))
    # a box that scrolls is reached and scrolled from the keyboard (tabindex), and named for a screen reader
    name = html.escape(css_class.replace("-", " ") + " table", quote=True)
    return (f'<div class="light-table {css_class}" tabindex="0" role="region" aria-label="{name}"><table><thead>'
            f'<tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>')
