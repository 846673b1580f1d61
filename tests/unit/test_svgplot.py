"""The light SVG charts and tables: points land where their values say, gaps where values are missing, labels
escaped, numbers printed as asked."""
from __future__ import annotations

import math
import re

import pandas as pd

from explorer import svgplot


def test_points_are_scaled_into_the_box_with_high_values_at_the_top():
    svg = svgplot.curve([0, 5, 10], [2.0, 4.0, 6.0], (0, 10), (2.0, 6.0), "red")
    assert re.findall(r'points="([^"]*)"', svg) == [f"0.0,{svgplot.H:.1f} 500.0,150.0 1000.0,0.0"]


def test_missing_and_non_finite_values_break_the_line():
    svg = svgplot.curve([1, 2, 3, 4, 5, 6], [1.0, None, 2.0, 3.0, math.nan, math.inf], (1, 6), (1.0, 3.0), "red",
                        markers=True)
    assert re.findall(r'points="([^"]*)"', svg) == ["0.0,300.0", "400.0,150.0 600.0,0.0"]
    assert re.search(r'd="([^"]*)"', svg).group(1).count("M") == 3  # a dot per drawn point


def test_value_range_ignores_gaps_and_widens_a_flat_series():
    assert svgplot.value_range([3.0, None, math.nan], [1.0]) == (1.0, 3.0)
    assert svgplot.value_range([2.0, 2.0]) == (1.5, 2.5)
    assert svgplot.value_range([None]) == (0.0, 1.0)


def test_labels_are_html_escaped():
    out = svgplot.box("", ["<b>"], ["a & b"]) + svgplot.legend({"x<y": "#000"})
    assert "&lt;b&gt;" in out and "a &amp; b" in out and "x&lt;y" in out and "<b>" not in out


def test_table_prints_floats_with_the_digits_asked_or_all_of_them():
    frame = pd.DataFrame({"name": ["a<b"], "close": [4261.48], "volume": [0.111082], "n": [3]})
    assert "<td>4,261.4800</td>" in svgplot.table(frame, "t") and "<td>0.1111</td>" in svgplot.table(frame, "t")
    every = svgplot.table(frame, "t", digits=None)  # data.head(): each value as the file had it
    assert "<td>4,261.48</td>" in every and "<td>0.111082</td>" in every and "<td>3</td>" in every
    assert '<td class="text">a&lt;b</td>' in every
    assert svgplot.pre("x < 1\n") == '<pre class="light-pre">x &lt; 1\n</pre>'


def test_table_never_prints_a_value_that_is_not_zero_as_zero_and_follows_formats():
    frame = pd.DataFrame({"delta": [-9.983778e-07, 0.0, -0.0012], "error": [2.34375e-04, -1.953125e-05, 0.0],
                          "ok": [True, False, True]})
    out = svgplot.table(frame, "t")
    assert "<td>-9.984e-07</td>" in out and "<td>0.0000</td>" in out and "<td>-0.0012</td>" in out
    assert "<td>True</td>" in out and "<td>False</td>" in out
    assert "<td>6.2e-08</td>" in svgplot.table(pd.DataFrame({"v": [6.2e-08]}), "t", digits=2)
    formatted = svgplot.table(frame, "t", digits=None, formats={"error": ".2e"})
    assert "<td>2.34e-04</td>" in formatted and "<td>-1.95e-05</td>" in formatted
    assert "<td>-9.983778e-07</td>" in formatted  # digits=None: as Python prints it


def test_a_curve_and_its_legend_swatch_carry_the_series_dash():
    dashed = svgplot.curve([0, 1], [1.0, 2.0], (0, 1), (1.0, 2.0), "#1f77b4", dash="dash")
    assert f'stroke-dasharray="{svgplot.DASHARRAY["dash"]}"' in dashed
    assert "stroke-dasharray" not in svgplot.curve([0, 1], [1.0, 2.0], (0, 1), (1.0, 2.0), "#1f77b4")
    key = svgplot.legend({"a": "#1f77b4", "b": "#d95f02"}, {"b": "dot"})
    assert key.count("<line") == 2 and key.count(f'stroke-dasharray="{svgplot.DASHARRAY["dot"]}"') == 1
