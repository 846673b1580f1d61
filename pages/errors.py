"""Autograd errors: the seven errors learners hit most, each broken lesson run live next to its fix."""
from __future__ import annotations

import streamlit as st

from explorer.mechanics import controls as ctl, error_views as ev, errors as er
from explorer.runtime import available_devices
from pages._common import current_candles, current_device, publish_state, show_code
from pages._components import label_px, light_html, take_home
from pages._quiz import quiz_ask
from pages._state import enter_state, widgets


def side_panel(side: ev.Side, key: str) -> None:
    """One lesson: its code, PyTorch's words, what it returned, and its graph with the lesson's facts on the nodes."""
    st.markdown(f"**{side.title}**")
    st.code(side.source, language="python", wrap_lines=True)
    getattr(st, side.level)(side.message)
    st.code(side.printout, language="text", wrap_lines=True)
    light_html(side.svg, key=key)


frame = current_candles().frame
STATE = ctl.errors_state(len(frame))  # the widgets: what a link carries
enter_state(STATE)
st.title("Autograd errors")
st.markdown(er.INTRO)
(key,) = widgets([st], STATE, "errors_view")
c = st.columns(2)
row, seed = widgets((c[0], c[1].container(key="secondary_errors_seed")), STATE, "errors_row", "errors_seed")
publish_state(*STATE.spec)  # after the widgets: the URL shows what is on screen

view = ev.error_view(key, frame, row, seed, available_devices(), current_device(), label_px())
st.subheader(er.label(key))
st.markdown(view.error.why)
if quiz_ask(view.question):  # predict first: the broken side shows the answer
    for i, (col, side) in enumerate(zip(st.columns(2), view.sides)):
        with col:
            side_panel(side, f"errors_graph_{i}")
    st.markdown(view.error.fix)
    if view.more is not None:
        side_panel(view.more, "errors_graph_more")
st.markdown(f"[Open the broken version in the scratchpad]({view.scratch})")
take_home(ev.error_takehome(view))
show_code(er.candle_moves, er.make_weights, caption="Where x and w come from", key="secondary_errors_inputs")
