"""Shared AppTest helpers: the app's entry script, a page opened through it, a click that must not raise."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"


def open_app_page(page: str) -> AppTest:
    """A fresh session: the home page first (as a browser opens the app), then `page`; neither run may raise."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    """Click the button with this key and rerun; the rerun must not raise."""
    at.button(key=key).click().run()
    assert not at.exception
    return at


def component_html(at: AppTest, marker: str) -> str:
    """The HTML a light_html component on screen draws (its data), the one that contains `marker`."""
    return next(h for h in light_drawn(at) if marker in h)


def light_drawn(at: AppTest) -> list[str]:
    """The HTML of every light_html component on screen."""
    return [h for h in (json.loads(c.proto.json) for c in at.get("bidi_component")) if isinstance(h, str)]


def printouts(at: AppTest) -> list[str]:
    """Every printout on screen: the st.code blocks, then the <pre> blocks that light_html components draw."""
    return [c.value for c in at.code] + [html.unescape(text) for h in light_drawn(at)
                                         for text in re.findall(r'<pre class="light-pre">(.*?)</pre>', h, re.S)]


def light_tables(at: AppTest) -> list[pd.DataFrame]:
    """Every light HTML table on screen (svgplot.table, drawn by light_html components), in page order."""
    return [html_table(table) for h in light_drawn(at) for table in re.findall(r"<table>.*?</table>", h, re.S)]


def light_table(at: AppTest, css_class: str) -> pd.DataFrame:
    """The light HTML table on screen drawn with this CSS class (svgplot.table's css_class)."""
    marker = f'<div class="light-table {css_class}" '
    return html_table(next(h[h.index(marker):] for h in light_drawn(at) if marker in h))


def as_shown(value: float, digits: int = 4):
    """`value` as svgplot.table prints it with `digits`, for ==: to `digits` decimals, or to `digits` significant
    digits where it prints e-notation (a value that would read 0.0000)."""
    if value and abs(value) < 0.5 * 10 ** -digits:
        return pytest.approx(value, rel=0.5 * 10 ** (1 - digits), abs=0)
    return pytest.approx(value, rel=0, abs=0.5 * 10 ** -digits * (1 + 1e-9) + abs(value) * 1e-15)


def html_table(html: str) -> pd.DataFrame:
    """The first <table> of some HTML as a DataFrame: numbers as floats (thousands commas dropped), "None" as NaN."""
    table = ElementTree.fromstring(re.search(r"<table>.*?</table>", html, re.S).group(0))
    columns = [th.text for th in table.iter("th")]

    def value(text: str):
        if text == "None":
            return float("nan")
        try:
            return float(text.replace(",", ""))
        except ValueError:
            return text
    return pd.DataFrame([[value(td.text or "") for td in tr.iter("td")] for tr in table.find("tbody")],
                        columns=columns)
