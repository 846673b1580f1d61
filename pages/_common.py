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
