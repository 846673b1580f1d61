"""Hooks and higher order: PyTorch's autograd tutorials on one candle (hooks, the grad of a grad, a custom Function,
anomaly mode), each opening on the broken call with PyTorch's message next to the fix."""
from __future__ import annotations

import streamlit as st

from explorer.mechanics import controls as ctl, scripts, tools
from explorer.mechanics.scratchpad import scratch_link
from pages._common import current_candles, publish_state, show_code
from pages._components import label_px, light_html, take_home
from pages._quiz import quiz_ask
from pages._state import enter_state, widgets

frame = current_candles().frame
STATE = ctl.tools_state(len(frame))  # the widgets: what a link carries
enter_state(STATE)
st.title("Hooks and higher order")
st.markdown(tools.PAGE_INTRO)
view, row = widgets(st.columns([3, 1]), STATE, "tools_view", "tools_row")
shown = tools.tools_view(view, frame, row, label_px())
if quiz_ask(shown.question):  # predict first, then see
    broken, fixed = st.columns(2)
    broken.error(shown.broken, icon=":material/error:")
    broken.code(shown.message, language="text", wrap_lines=True)  # PyTorch's own words
    fixed.success(shown.fixed_label, icon=":material/check_circle:")
    fixed.code(shown.fixed, language="text", wrap_lines=True)
    st.markdown(shown.intro)
    light_html(f'<p class="light-note">{shown.note}</p>{shown.svg}', key="tools_graph")
else:
    st.markdown(shown.intro)
show_code(*shown.lessons, key="secondary_tools_code")
if shown.scratch:
    st.markdown(f"[Open in scratchpad]({scratch_link(shown.scratch)}): the same steps, one statement at a time.")
take_home(scripts.tools_takehome(view, shown))
publish_state(*STATE.spec)
