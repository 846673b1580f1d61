"""Home: what the app is, and a guided path through the lessons with the seed's output beside the live one."""
from __future__ import annotations

import functools

import streamlit as st

from explorer.teaching.seed_notebooks import SEED_NOTEBOOKS
from explorer.teaching.shareable import Shared
from explorer.teaching.tour import STOPS, TOUR_KEY, Live, Stop, live_results
from pages._common import current_candles, publish_state, share_state, show_code

SPEC = (Shared("home_stop", "int", 1, len(STOPS)),)


@st.cache_data(max_entries=8, show_spinner="Running the lessons…")
def cached_results(frame_key: str, _frame) -> list[Live]:
    """Every stop's live result, computed once per loaded data (a step only looks it up)."""
    return live_results(_frame)


def show_stop(stop: Stop, live: Live) -> None:
    st.subheader(stop.title)
    st.markdown(f"**Look at:** {live.look_at}")
    seed, ours = st.columns(2)
    with seed:
        st.caption("Seed notebook — cell and printed output")
        st.code(stop.seed_cell, language="python", wrap_lines=True)
        st.code(stop.seed_output, language="text", wrap_lines=True)
    with ours:
        st.caption("This app, now, on the loaded candles")
        st.code(live.printout, language="text", wrap_lines=True)
    st.page_link(stop.page, label=f"Open {stop.title.split('· ')[1]} →")


def _move(step: int) -> None:
    st.session_state["home_stop"] = min(max(st.session_state["home_stop"] + step, 1), len(STOPS))


def stop_picker() -> int:
    """Which stop is shown: a radio of all stops, and previous / next buttons (keyboard ← / →)."""
    st.session_state.setdefault("home_stop", st.session_state.get(TOUR_KEY, 1))  # back where the learner was
    number = st.radio("Stop", range(1, len(STOPS) + 1), key="home_stop", horizontal=True,
                      format_func=lambda n: STOPS[n - 1].title, label_visibility="collapsed")
    back, ahead, _ = st.columns([1, 1, 3])
    back.button("previous stop", key="home_prev", on_click=_move, args=(-1,), disabled=number == 1,
                shortcut="Left", width="stretch")
    ahead.button("next stop", key="home_next", on_click=_move, args=(1,), disabled=number == len(STOPS),
                 shortcut="Right", width="stretch", type="primary")
    st.session_state[TOUR_KEY] = number
    return number


st.title("Autograd Explorer")
st.markdown(
    "See what PyTorch autograd really does, on candle (OHLCV) market data: every tensor operation, the graph it "
    "builds, the numbers on its nodes, and `backward()` one node at a time. Follow the path below; each stop shows "
    "what the seed notebook printed and what the same code gives here, live. Every number is computed by PyTorch "
    "as you watch — nothing is pre-recorded.")
share_state(*SPEC)
frame = current_candles().frame
results = cached_results(f"{st.session_state['candles_source']}|{len(frame)}|{frame.index[0]}|{frame.index[-1]}",
                       frame)
number = stop_picker()
show_stop(STOPS[number - 1], results[number - 1])
publish_state(*SPEC)
show_code(*STOPS[number - 1].lessons())  # the lessons this stop's live result ran
with st.container(key="secondary_home_seed_notebooks", horizontal=True):  # built when clicked
    for i, (label, file, build, tip) in enumerate(SEED_NOTEBOOKS, start=1):
        st.download_button(label, functools.partial(build, frame, st.session_state["candles_source"]), file,
                           key=f"home_seed_nb_{i}", on_click="ignore", icon=":material/download:", help=tip,
                           mime="application/x-ipynb+json")
