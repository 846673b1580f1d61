"""The guided path's thread through the lesson pages: the stop a learner was at, and each page's link on."""
from __future__ import annotations

import streamlit as st

from explorer.teaching.tour import go_to, next_stop


def next_stop_link(page: str) -> None:
    """At the end of a lesson page: a link to the next stop, which opens the Guided path there."""
    found = next_stop(page)
    if found is None:
        return
    number, words = found
    st.divider()
    if st.button(words, key="tour_next", type="tertiary"):
        go_to(st.session_state, number)
        st.switch_page("pages/home.py")
