"""Streamlit glue the pages share: the loaded candles, cached loading, 'the code that ran', the sidebar, the tour."""
from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from explorer.runtime import DEVICE_HELP, available_devices, settle_device
from explorer.data.sources import (candles_from_link, cap_note, config_file, enough_candles, literal, rows_and_span,
                                   upload_rows)
from explorer.teaching.source import source_of
from explorer.teaching.tour import go_to, next_stop
from pages._style import CONTROLS_JS, LAYOUT_CSS, PRESENTER_CSS, REPLICA_JS
from pages._state import (CANDLES_KEY, CANDLES_LINK, DEVICE_KEY, LINK_KEY, PRESENT_KEY, SOURCE_KEY,  # noqa: F401
                          publish_state, share_state)

if TYPE_CHECKING:  # the loader (pandas) and the config (pydantic) load when first used, after the first paint
    from explorer import CandleData
    from explorer.data.config import AppConfig


def _leave_pages_folder_mode() -> None:
    """Route every page through app.py, even on a fresh server's very first request.

    Streamlit treats a `pages/` folder as its old multipage mode until app.py has called st.navigation once in the
    process: a shared link to /graph opened first on a fresh server would run pages/graph.py bare (every file of
    the folder in the sidebar, no router). app.py and every page import this module, which switches that mode off
    and restarts the run through app.py. (AppTest re-arms the mode before each run, so under AppTest sub-pages
    run without the router; the browser tests cover the routed app.)
    """
    from streamlit.runtime.pages_manager import PagesManager
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_leave_pages_folder_mode()


def load_upload(raw: bytes, sep: str | None, nrows: int | None,
                dayfirst: bool | None = None) -> tuple[CandleData, str | None]:
    """Uploaded bytes as candles within the row cap, and a message when the cap cut the file short."""
    data = enough_candles(load_bytes_cached(raw, sep, upload_rows(nrows), dayfirst))
    return data, cap_note(nrows, data)


@st.cache_data(max_entries=16, show_spinner="Reading candles…")
def load_path_cached(path: str, mtime: float, sep: str, nrows: int, names: tuple[str, ...]) -> CandleData:
    """Load a file from disk once per (file version, options); moving a slider never re-reads it."""
    from explorer import load_candles
    return load_candles(path, sep=sep, nrows=nrows, names=list(names))


@st.cache_data(max_entries=8, show_spinner="Reading the upload…")
def load_bytes_cached(raw: bytes, sep: str | None, nrows: int | None, dayfirst: bool | None) -> CandleData:
    """Load uploaded bytes once per (content, options)."""
    from explorer import load_candles
    return load_candles(raw, sep=sep, nrows=nrows, dayfirst=dayfirst)


def load_from_config(config: AppConfig) -> CandleData:
    """Candles named by a config (paths restricted to data/, rows within the cap), cached per file version."""
    return enough_candles(load_path_cached(*config_file(config)))


def current_candles() -> CandleData:
    """The candles this session works on: what the learner loaded, else those a shared link names (or the sample)."""
    if CANDLES_KEY not in st.session_state:
        data, source, link, problem = candles_from_link(st.session_state.get(LINK_KEY), load_from_config, st.spinner)
        if problem:
            st.warning(problem)
        set_candles(data, source, link)
    return st.session_state[CANDLES_KEY]


def set_candles(data: CandleData, source: str, link: str, note: str | None = None) -> None:
    """Make `data` the session's candles; `link`: how a shareable URL writes them; `note`: what the load says."""
    st.session_state[CANDLES_KEY] = data
    st.session_state[SOURCE_KEY] = source
    st.session_state[LINK_KEY] = link
    publish_state(CANDLES_LINK)  # now, not at the end of the run: a link copied right away carries it
    if note:
        st.success(note)


def sidebar_data_summary(where) -> None:
    """Which data is loaded: source, rows, time range (drawn into the sidebar container `where`)."""
    frame = current_candles().frame
    where.markdown("**Loaded candles**")
    where.caption(literal(st.session_state[SOURCE_KEY]))
    where.caption(rows_and_span(frame))


def show_code(*functions, caption: str = "The code that ran", key: str | None = None) -> None:
    """Show the source of the functions that produced what is on screen (the code shown is the code run); `key`: in a
    container of that key (a secondary_… key hides it in presenter mode)."""
    with (st.container(key=key) if key else st).expander(caption, expanded=False):  # one block, not one per function: each element costs every rerun
        st.code("\n\n".join(source_of(fn) for fn in functions), language="python")


def presenter_mode() -> None:
    """Presenter mode: `?present=1` in the URL or the sidebar toggle; bigger type, no sidebar, no secondary controls."""
    st.session_state.setdefault(PRESENT_KEY, False)
    st.sidebar.toggle("Presenter mode", key=PRESENT_KEY, help="Larger fonts; sidebar and secondary controls hidden. "
                      "Also opened with ?present=1 in the URL.")
    st.html(LAYOUT_CSS)
    st.sidebar.html(CONTROLS_JS, unsafe_allow_javascript=True)  # a help icon's click must not flip its toggle
    if st.session_state[PRESENT_KEY]:
        st.html(PRESENTER_CSS)
        st.button("Exit presenter mode", key="present_exit", on_click=st.session_state.update,
                  args=({PRESENT_KEY: False},), type="tertiary")  # the click switches presenter mode off


def device_picker() -> None:
    """Sidebar picker for where the lessons' tensors live; a link's `?device=` is used when this machine has it."""
    devices = available_devices()
    problem = settle_device(st.session_state, DEVICE_KEY, devices)  # none yet, or a link's this machine lacks
    if problem:
        st.warning(literal(problem))
    st.sidebar.selectbox("Device", devices, key=DEVICE_KEY, help=DEVICE_HELP)


def current_device() -> str:
    """The device the learner picked (cpu until the picker has run)."""
    return st.session_state.get(DEVICE_KEY, "cpu")


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


def watch_replica() -> None:
    """Behind deploy/'s nginx: the page reloads on the replica that took over when its own died (pages/_replica.js)."""
    st.sidebar.html(REPLICA_JS, unsafe_allow_javascript=True)  # at the sidebar's end, where it takes no room
