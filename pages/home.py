"""Home: what the app is, and a guided path through the lessons with the seed's output beside the live one."""
from __future__ import annotations

import streamlit as st

from explorer.teaching import seed_notebooks, tour
from pages._common import current_candles, publish_state, share_state, show_code
from pages._state import widgets


@st.cache_data(max_entries=8, show_spinner="Running the lessons…")
def cached_results(frame_key: str, _frame) -> list[tour.Live]:
    """Every stop's live result, computed once per loaded data (a step only looks it up)."""
    return tour.live_results(_frame)


def show_stop(stop: tour.Stop, live: tour.Live) -> None:
    """The stop's seed cell and printed output beside the same code's output here, now."""
    st.subheader(stop.title)
    st.markdown(f"**Look at:** {live.look_at}")
    seed, ours = st.columns(2)
    seed.caption("Seed notebook — cell and printed output")
    seed.code(stop.seed_cell, language="python", wrap_lines=True)
    seed.code(stop.seed_output, language="text", wrap_lines=True)
    ours.caption("This app, now, on the loaded candles")
    ours.code(live.printout, language="text", wrap_lines=True)
    st.page_link(stop.page, label=f"Open {stop.name} →")


def stop_picker() -> int:
    """Which stop is shown: a radio of all stops, and previous / next buttons (keyboard ← / →)."""
    tour.resume(st.session_state)  # back where the learner was
    number, = widgets([st], tour.STOP_PICKER, tour.STOP_KEY)
    for column, (label, key, step, shortcut, kind) in zip(st.columns([1, 1, 3]), tour.STEP_BUTTONS):
        column.button(label, key=key, on_click=tour.move, args=(st.session_state, step), shortcut=shortcut,
                      disabled=not tour.can_move(number, step), width="stretch", type=kind)
    st.session_state[tour.TOUR_KEY] = number
    return number


st.title("Autograd Explorer")
st.markdown(tour.INTRO)
share_state(*tour.HOME_LINK)
frame = current_candles().frame
source = st.session_state["candles_source"]
results = cached_results(tour.data_key(source, frame), frame)
number = stop_picker()
show_stop(tour.STOPS[number - 1], results[number - 1])
publish_state(*tour.HOME_LINK)
show_code(*tour.STOPS[number - 1].lessons())  # the lessons this stop's live result ran
with st.container(key="secondary_home_seed_notebooks", horizontal=True):  # built when clicked
    for i, (label, file, build, tip) in enumerate(seed_notebooks.notebook_downloads(frame, source), start=1):
        st.download_button(label, build, file, key=f"home_seed_nb_{i}", on_click="ignore", icon=":material/download:",
                           help=tip, mime="application/x-ipynb+json")
