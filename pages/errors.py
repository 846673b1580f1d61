"""Autograd errors: the seven errors learners hit most, each broken lesson run live next to its fix."""
from __future__ import annotations

import streamlit as st

from explorer.mechanics import errors as er
from explorer.mechanics.error_views import Side, error_takehome, error_view
from explorer.runtime import available_devices
from explorer.teaching.shareable import Shared
from explorer.teaching.source import source_of
from pages._common import current_candles, current_device, publish_state, share_state, show_code
from pages._components import light_html, take_home
from pages._graph_views import FONT_PX
from pages._quiz import quiz_ask
from pages._state import PRESENT_KEY, init_widgets


def side_panel(side: Side, key: str) -> None:
    """One lesson: its code, PyTorch's words, what it returned, and its graph with the lesson's facts on the nodes."""
    st.markdown(f"**{side.title}**")
    st.code(source_of(side.fn), language="python", wrap_lines=True)
    getattr(st, side.level)(side.message)
    st.code(side.printout, language="text", wrap_lines=True)
    light_html(side.svg, key=key)


frame = current_candles().frame
SPEC = (Shared("errors_view", "str", choices=tuple(er.ERRORS)),
        Shared("errors_row", "int", er.FIRST_ROW, len(frame) - 1), Shared("errors_seed", "int", 0, 2**31 - 1))
share_state(*SPEC)
init_widgets({"errors_view": er.FIRST, "errors_row": min(100, len(frame) - 1), "errors_seed": 0})
st.title("Autograd errors")
st.markdown(er.INTRO)
key = st.radio("error", list(er.ERRORS), key="errors_view", format_func=er.label, horizontal=True,
               help="Each view opens on the broken code with PyTorch's message, next to the fix.")
c = st.columns(2)
row = int(c[0].number_input("last candle row", er.FIRST_ROW, len(frame) - 1, key="errors_row",
                            help="x holds the moves of this candle and the three before it."))
with c[1].container(key="secondary_errors_seed"):
    seed = int(st.number_input("seed for w", 0, 2**31 - 1, key="errors_seed",
                               help="w is drawn from torch.randn with this seed: same seed, same numbers."))
publish_state(*SPEC)  # after the widgets: the URL shows what is on screen

view = error_view(key, frame, row, seed, available_devices(), current_device(),
                  FONT_PX[bool(st.session_state.get(PRESENT_KEY))])
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
take_home(error_takehome(view))
with st.container(key="secondary_errors_inputs"):
    show_code(er.candle_moves, er.make_weights, caption="Where x and w come from")
