"""The pages' own Streamlit components and drawing helpers: light HTML (trusted HTML + SVG), a graphviz chart that is
drawn again when the browser left it blank, a lab's buttons, the graph labels' size, messages by kind, and the
take-home downloads. (The Training page declares its live board itself: only it loads the training code.)"""
from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from pages._state import PRESENT_KEY

if TYPE_CHECKING:
    from explorer.labs import LabButton
    from explorer.teaching.parts import TakeHome

HERE = Path(__file__).parent
_LIGHT_HTML = st.components.v2.component("light_html", isolate_styles=False,
                                         js=(HERE / "_light_html.js").read_text())


_REDRAW = st.components.v2.component("graphviz_redraw", isolate_styles=False,
                                     js=(HERE / "_graphviz_redraw.js").read_text())
REDRAW_AFTER_MS = 2500  # blank this long after it was drawn: ask for a redraw
REDRAW_PAUSE_S = 10.0  # and not again within this time (a chart that never draws must not rerun the page forever)


def graphviz_chart(dot: str, key: str) -> None:
    """st.graphviz_chart, drawn again when the browser left it blank.

    The browser's graphviz (WebAssembly, shared by every chart of the page) now and then fails to lay a graph out
    when another graph was laid out before it (hpcc-js/wasm#139: its C library is not re-entrant): the chart stays
    blank, with a page error 'undefined'. The next layout works, so a watcher asks for a rerun that draws the chart
    again (a DOT comment makes it new). browser_safe_dot makes the failure rarer."""
    from explorer.autograd.graph_dot import browser_safe_dot  # only pages with a graphviz chart pay its import

    redraws, last = st.session_state.setdefault("_graphviz_redraws", {}).get(key, (0, -REDRAW_PAUSE_S))
    st.graphviz_chart(browser_safe_dot(dot) + (f"\n// drawn again ({redraws})" if redraws else ""))
    if time.monotonic() - last >= REDRAW_PAUSE_S:
        _REDRAW(key=f"{key}_gvredraw", data={"attempt": redraws, "after_ms": REDRAW_AFTER_MS},
                on_blank_change=functools.partial(_draw_again, key))


def _draw_again(key: str) -> None:
    redraws = st.session_state["_graphviz_redraws"]
    redraws[key] = (redraws.get(key, (0, 0.0))[0] + 1, time.monotonic())


def light_html(html: str, key: str) -> None:
    """Trusted HTML + SVG that the browser parses itself: st.markdown runs it through its markdown pipeline (for the
    six SVG gradient panels, 20 ms of each click in Chromium), and st.html's sanitiser strips SVG."""
    _LIGHT_HTML(key=key, data=html)


def buttons(lab: object, specs: tuple[LabButton, ...], per_row: int = 3) -> None:
    """A lab's buttons in rows of `per_row`; a click calls the button's action on the lab."""
    columns = [col for _ in range(0, len(specs), per_row) for col in st.columns(per_row)]
    for col, b in zip(columns, specs):
        if col.button(b.label, key=b.key, width="stretch", shortcut=b.shortcut, help=b.help):
            b.action(lab)


def label_px() -> int:
    """Graph labels' size: the body text's in presenter mode (20 px), a little under it at a desk (14 px)."""
    return 20 if st.session_state.get(PRESENT_KEY) else 14


def say(place, said: list[tuple[str, str]]) -> None:
    """Each (element, text) in `place`: ('error', …) as st.error, ('markdown', …) as st.markdown, and so on;
    ('code', …) as plain text in a code block."""
    for how, text in said:
        if how == "code":
            place.code(text, language="text", wrap_lines=True)
        else:
            getattr(place, how)(text)


def take_home(t: TakeHome) -> None:
    """A lesson's take-home downloads, the script and the same lesson as a notebook (secondary controls: hidden in
    presenter mode). A lazy take-home is built only when a button is clicked; a notebook always is."""
    with st.container(key=f"secondary_{t.key}", horizontal=True):
        st.download_button("Take it home: Python script", (lambda: t.script) if t.lazy else t.script, t.file,
                           key=t.key, on_click="ignore", icon=":material/download:", help=t.help)
        st.download_button("Take it home: notebook", t.notebook, t.notebook_file, key=f"{t.key}_nb",
                           on_click="ignore", icon=":material/download:", mime="application/x-ipynb+json",
                           help="The same lesson as a Jupyter notebook (torch + pandas): one cell per lesson function "
                                "and per step, each printing what this page printed.")
