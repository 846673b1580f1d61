"""Streamlit glue shared by the pages: the loaded candles, cached loading, and 'the code that ran'."""
from __future__ import annotations

import inspect
import os
import re
import textwrap

import streamlit as st
import torch

from explorer import CandleData, CandleFormatError, load_candles
from explorer.config import AppConfig, ConfigError, load_config, resolve_data_path
from explorer.shareable import Shared, decode, encode


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


CANDLES_KEY = "candles"
SOURCE_KEY = "candles_source"
LINK_KEY = "candles_link"
MAX_SAMPLE_ROWS = 20_000
MIN_CANDLES = 10  # the lessons need a few candles in a row (lags, a batch); fewer is refused with a message
DEFAULT_MAX_ROWS = 2_000_000  # row cap per load: ~100 MB of float64 candles per learner at most
MARKUP = re.compile(r"([\\`*_{}\[\]()<>#+!|~$:])")


def literal(text: object, keep_code: bool = False) -> str:
    """`text` escaped for st.markdown/st.error: file and column names show as typed, never as markup or HTML.

    keep_code: the message's own `code` spans stay code (nothing renders inside them; escapes would show).
    """
    parts = re.split(r"(`[^`]*`)", str(text)) if keep_code else [str(text)]
    return "".join(p if keep_code and p.startswith("`") and p.endswith("`") and len(p) > 1
                   else MARKUP.sub(r"\\\1", p) for p in parts)


def max_rows() -> int:
    """Most rows one load may read (env AUTOGRAD_EXPLORER_MAX_ROWS, default 2,000,000): bounds each session's memory."""
    try:
        return max(MIN_CANDLES, int(os.environ.get("AUTOGRAD_EXPLORER_MAX_ROWS", DEFAULT_MAX_ROWS)))
    except ValueError:
        return DEFAULT_MAX_ROWS


def enough_candles(data: CandleData) -> CandleData:
    """Refuse data with too few candles for the lessons (CandleFormatError, so pages show it like any bad file)."""
    if len(data.frame) < MIN_CANDLES:
        raise CandleFormatError(f"only {len(data.frame)} usable candle(s) after cleaning; the lessons need at least "
                                f"{MIN_CANDLES} in a row.")
    return data


def load_upload(raw: bytes, sep: str | None, nrows: int | None,
                dayfirst: bool | None = None) -> tuple[CandleData, str | None]:
    """Uploaded bytes as candles within the row cap, and a message when the cap cut the file short."""
    cap = max_rows()
    data = enough_candles(load_bytes_cached(raw, sep, min(nrows or cap, cap), dayfirst))
    if (nrows is None or nrows > cap) and data.report.rows_read >= cap:
        return data, (f"Row cap reached: only the first {cap:,} rows were read (this server's limit per load, "
                      "AUTOGRAD_EXPLORER_MAX_ROWS). Trim the file or set 'Rows to read' to choose the rows.")
    return data, None


@st.cache_data(max_entries=16, show_spinner="Reading candles…")
def load_path_cached(path: str, mtime: float, sep: str, nrows: int, names: tuple[str, ...]) -> CandleData:
    """Load a file from disk once per (file version, options); moving a slider never re-reads it."""
    return load_candles(path, sep=sep, nrows=nrows, names=list(names))


@st.cache_data(max_entries=8, show_spinner="Reading the upload…")
def load_bytes_cached(raw: bytes, sep: str | None, nrows: int | None, dayfirst: bool | None) -> CandleData:
    """Load uploaded bytes once per (content, options)."""
    return load_candles(raw, sep=sep, nrows=nrows, dayfirst=dayfirst)


def load_from_config(config: AppConfig) -> CandleData:
    """Candles named by a config (paths restricted to data/)."""
    path = resolve_data_path(config)
    d = config.data
    if d.train_rows > max_rows():
        raise ConfigError(f"`data.train_rows` = {d.train_rows:,} is above this server's row cap of {max_rows():,}.")
    return enough_candles(load_path_cached(str(path), path.stat().st_mtime, d.separator, d.train_rows,
                                           tuple(d.features)))


def config_source_label(config: AppConfig) -> str:
    return f"config: {config.data.file_path} (first {config.data.train_rows} rows)"


def config_link(config: AppConfig) -> str:
    """How a config's data travels in a URL: the bundled config with a row count does; anything else cannot."""
    bundled = load_config().data
    same = config.data.model_copy(update={"train_rows": bundled.train_rows}) == bundled
    return f"sample:{config.data.train_rows}" if same else "custom-config"


def _config_from_link(link: str | None) -> AppConfig:
    """The bundled config, with the row count a shared link asked for; other links explain why they cannot load."""
    config = load_config()
    rows = re.fullmatch(r"sample:([0-9]{1,9})", link or "")  # ASCII digits only: int() refuses some isdigit() ones
    if rows and 10 <= int(rows[1]) <= MAX_SAMPLE_ROWS:
        config.data.train_rows = int(rows[1])
    elif link == "upload":
        st.warning("This link was made with an **uploaded file**, and uploaded data cannot travel in a URL: "
                   "the bundled sample is shown instead. Upload the same file on the Data page to match.")
    elif link:
        st.warning(f"The link's data setting {literal(repr(link[:40]))} cannot be reproduced here; the bundled "
                   "sample is shown.")
    config.data.train_rows = min(config.data.train_rows, max_rows())  # a server with a small row cap still starts
    return config


def current_candles() -> CandleData:
    """The candles this session works on: what the learner loaded, else the sample (as a shared link asks)."""
    if CANDLES_KEY not in st.session_state:
        config = _config_from_link(st.query_params.get("data"))
        set_candles(load_from_config(config), config_source_label(config) + " — synthetic sample",
                    config_link(config))
    return st.session_state[CANDLES_KEY]


def set_candles(data: CandleData, source: str, link: str) -> None:
    """Make `data` the session's candles; `link` is how it is written in a shareable URL."""
    st.session_state[CANDLES_KEY] = data
    st.session_state[SOURCE_KEY] = source
    st.session_state[LINK_KEY] = link


def sidebar_data_summary(where) -> None:
    """Which data is loaded: source, rows, time range (drawn into the sidebar container `where`)."""
    data = current_candles()
    frame = data.frame
    with where:
        st.markdown("**Loaded candles**")
        st.caption(literal(st.session_state[SOURCE_KEY]))
        st.query_params["data"] = st.session_state[LINK_KEY]
        st.caption(f"{len(frame):,} rows · {frame.index[0]:%Y-%m-%d %H:%M} → {frame.index[-1]:%Y-%m-%d %H:%M} UTC")


def show_code(*functions, caption: str = "The code that ran") -> None:
    """Show the source of the functions that produced what is on screen (the code shown is the code run)."""
    with st.expander(caption, expanded=False):
        for fn in functions:
            st.code(textwrap.dedent(inspect.getsource(fn)), language="python")


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


def share_state(*spec: Shared) -> None:
    """Call before a page's widgets: the first time a session shows the page, take their values from the URL."""
    applied = st.session_state.setdefault("_shared_applied", set())
    page = tuple(item.key for item in spec)
    if page in applied:
        return
    applied.add(page)
    values, problems = decode(st.query_params.to_dict(), spec)
    st.session_state.update(values)
    for problem in problems:
        st.warning(literal(problem, keep_code=True))  # the value quoted is whatever the link said


def publish_state(*spec: Shared) -> None:
    """Call after a page's widgets and buttons: the URL mirrors their current values, ready to be copied."""
    st.query_params.update(encode(st.session_state, spec))


DEVICE_KEY = "device"


def available_devices() -> list[str]:
    """cpu always; cuda and mps only when this machine has them."""
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) + (
        ["mps"] if torch.backends.mps.is_available() else [])


def device_picker() -> str:
    """Sidebar picker for where the lessons' tensors live; a link's `?device=` is used when this machine has it."""
    devices = available_devices()
    if DEVICE_KEY not in st.session_state or st.session_state[DEVICE_KEY] not in devices:
        asked = st.query_params.get(DEVICE_KEY)
        if asked and asked not in devices:
            st.warning(f"This link asks for device {literal(repr(asked[:20]))}, which this machine does not have "
                       f"(available: {', '.join(devices)}): the lessons run on cpu. The numbers are the same.")
        st.session_state[DEVICE_KEY] = asked if asked in devices else "cpu"
    st.sidebar.selectbox("Device", devices, key=DEVICE_KEY, help="Where the lessons create their tensors "
                         "(torch.device). cuda / mps appear only when this machine has one.")
    if st.session_state[DEVICE_KEY] == "cpu":
        st.query_params.pop(DEVICE_KEY, None)  # the default stays out of the URL
    else:
        st.query_params[DEVICE_KEY] = st.session_state[DEVICE_KEY]
    return st.session_state[DEVICE_KEY]


def current_device() -> str:
    """The device the learner picked (cpu until the picker has run)."""
    return st.session_state.get(DEVICE_KEY, "cpu")
