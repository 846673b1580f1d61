"""Behind deploy/'s nginx: a page whose replica died reloads itself on the replica that took over.

When a replica dies, Streamlit reconnects its learners' browsers through nginx to another replica without a word,
and their pages keep showing what the dead session drew (their upload in the sidebar, say) until their next click.
This watcher asks nginx every few seconds which replica answers (the X-Replica header of deploy/nginx.conf); when
that changes, it reloads the page: a fresh session on the new replica shows at once what it could restore from the
URL, and says that an upload did not travel. Without nginx in front (no X-Replica header) it does nothing.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

CHECK_EVERY_MS = 3000
WATCHER = "<script>" + (Path(__file__).parent / "_replica.js").read_text().replace("__CHECK_EVERY_MS__",
                                                                                  str(CHECK_EVERY_MS)) + "</script>"


def watch_replica() -> None:
    """Start the watcher in this browser tab (drawn at the sidebar's end, where it takes no room)."""
    st.sidebar.html(WATCHER, unsafe_allow_javascript=True)
