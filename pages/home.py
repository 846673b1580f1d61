"""Home: what the app is, and a guided path through the lessons with the seed's output beside the live one."""
from __future__ import annotations

import streamlit as st

from explorer.teaching.tour import STOPS, Stop
from pages._common import current_candles, show_code


@st.cache_data(max_entries=8, show_spinner="Running the lessons…")
def live_results(frame_key: str, _frame) -> list[str]:
    """Every lesson's live result for these candles (computed once per loaded data)."""
    results = []
    for stop in STOPS:
        try:
            results.append(stop.live(_frame))
        except ValueError as exc:  # e.g. an uploaded file with fewer than 101 rows
            results.append(f"(not available for the loaded data: {exc})")
    return results


def show_stop(stop: Stop, live: str) -> None:
    st.subheader(stop.title)
    st.markdown(f"**Look at:** {stop.look_at}")
    seed, ours = st.columns(2)
    with seed:
        st.caption("Seed notebook — cell and printed output")
        st.code(stop.seed_cell, language="python", wrap_lines=True)
        st.code(stop.seed_output, language="text", wrap_lines=True)
    with ours:
        st.caption("This app, now, on the loaded candles")
        st.code(live, language="text", wrap_lines=True)
    st.page_link(stop.page, label=f"Open {stop.title.split('· ')[1]} →")


st.title("Autograd Explorer")
st.markdown(
    "See what PyTorch autograd really does, on candle (OHLCV) market data: every tensor operation, the graph it "
    "builds, the numbers on its nodes, and `backward()` one node at a time. Follow the path below; each stop shows "
    "what the seed notebook printed and what the same code gives here, live. Every number is computed by PyTorch "
    "as you watch — nothing is pre-recorded.")
frame = current_candles().frame
results = live_results(f"{st.session_state['candles_source']}|{len(frame)}|{frame.index[0]}|{frame.index[-1]}",
                       frame)
for stop, live in zip(STOPS, results):
    show_stop(stop, live)
    st.divider()
show_code(*(stop.live for stop in STOPS))
