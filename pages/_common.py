"""Streamlit glue shared by the pages: the loaded candles, cached loading, and 'the code that ran'."""
from __future__ import annotations

import inspect
from pathlib import Path

import streamlit as st

from explorer import CandleData, load_candles
from explorer.config import AppConfig, load_config, resolve_data_path

CANDLES_KEY = "candles"
SOURCE_KEY = "candles_source"


@st.cache_data(max_entries=16, show_spinner="Reading candles…")
def load_path_cached(path: str, mtime: float, sep: str, nrows: int, names: tuple[str, ...]) -> CandleData:
    """Load a file from disk once per (file version, options); moving a slider never re-reads it."""
    return load_candles(path, sep=sep, nrows=nrows, names=list(names))


@st.cache_data(max_entries=8, show_spinner="Reading the upload…")
def load_bytes_cached(raw: bytes, sep: str | None, nrows: int | None) -> CandleData:
    """Load uploaded bytes once per (content, options)."""
    return load_candles(raw, sep=sep, nrows=nrows)


def load_from_config(config: AppConfig) -> CandleData:
    """Candles named by a config (paths restricted to data/)."""
    path = resolve_data_path(config)
    d = config.data
    return load_path_cached(str(path), path.stat().st_mtime, d.separator, d.train_rows, tuple(d.features))


def config_source_label(config: AppConfig) -> str:
    return f"config: {config.data.file_path} (first {config.data.train_rows} rows)"


def current_candles() -> CandleData:
    """The candles this session works on: what the learner loaded, else the bundled sample via the config."""
    if CANDLES_KEY not in st.session_state:
        config = load_config()
        st.session_state[CANDLES_KEY] = load_from_config(config)
        st.session_state[SOURCE_KEY] = config_source_label(config) + " — synthetic sample"
    return st.session_state[CANDLES_KEY]


def set_candles(data: CandleData, source: str) -> None:
    st.session_state[CANDLES_KEY] = data
    st.session_state[SOURCE_KEY] = source


def sidebar_data_summary() -> None:
    """Which data is loaded: source, rows, time range."""
    data = current_candles()
    frame = data.frame
    with st.sidebar:
        st.markdown("**Loaded candles**")
        st.caption(st.session_state[SOURCE_KEY])
        st.caption(f"{len(frame):,} rows · {frame.index[0]:%Y-%m-%d %H:%M} → {frame.index[-1]:%Y-%m-%d %H:%M} UTC")


def show_code(*functions, caption: str = "The code that ran") -> None:
    """Show the source of the functions that produced what is on screen (the code shown is the code run)."""
    with st.expander(caption, expanded=False):
        for fn in functions:
            st.code(inspect.getsource(fn), language="python")


def source_file(fn) -> str:
    return str(Path(inspect.getsourcefile(fn)).relative_to(Path(__file__).resolve().parent.parent))


PRESENTER_CSS = """<style>
html { font-size: 20px; }
[data-testid=stSidebar], [data-testid=stSidebarCollapsedControl], [data-testid=stToolbar] { display: none; }
[class*="st-key-secondary"] { display: none; }
[data-testid=stMainBlockContainer] { max-width: 100%; padding-top: 2rem; }
button[kind=primary], button[kind=secondary] { font-size: 1.1rem; padding: 0.6rem 1.2rem; }
</style>"""


def presenter_mode() -> bool:
    """Presenter mode: `?present=1` in the URL or the sidebar toggle; bigger type, no sidebar, no secondary controls."""
    if "present" not in st.session_state:
        st.session_state["present"] = st.query_params.get("present") == "1"
    st.sidebar.toggle("Presenter mode", key="present", help="Larger fonts; sidebar and secondary controls hidden. "
                      "Also opened with ?present=1 in the URL.")
    if st.session_state["present"]:
        st.query_params["present"] = "1"
        st.html(PRESENTER_CSS)
        st.button("Exit presenter mode", key="present_exit", on_click=_exit_presenter, type="tertiary")
    else:
        st.query_params.pop("present", None)
    return st.session_state["present"]


def _exit_presenter() -> None:
    st.session_state["present"] = False
