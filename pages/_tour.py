"""The guided path's thread through the lesson pages: the stop a learner was at, and each page's link on."""
from __future__ import annotations

import streamlit as st

from explorer.teaching.tour import TOUR_KEY, next_stop


def next_stop_link(page: str) -> None:
    """At the end of a lesson page: a link to the next stop, which opens the Guided path there."""
    found = next_stop(page)
    if found is None:
        return
    number, words = found
    st.divider()
    if st.button(words, key="tour_next", type="tertiary"):
        st.session_state[TOUR_KEY] = st.session_state["home_stop"] = number
        st.switch_page("pages/home.py")
