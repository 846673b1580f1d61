"""Where a session's candles come from: the bundled config, a shared link, an upload; and the limits on each."""
from __future__ import annotations

import os
import re
from contextlib import nullcontext
from typing import TYPE_CHECKING, Callable, ContextManager

if TYPE_CHECKING:  # imported where used: pydantic and pandas load after the first page has painted
    import pandas as pd

    from explorer.data.config import AppConfig
    from explorer.data.fetch import ArchiveRequest
    from explorer.data.loader import CandleData

MAX_SAMPLE_ROWS = 20_000  # the bundled sample's length
MIN_CANDLES = 10  # the lessons need a few candles in a row (lags, a batch); fewer is refused with a message
DEFAULT_MAX_ROWS = 2_000_000  # row cap per load: ~100 MB of float64 candles per learner at most
MARKUP = re.compile(r"([\\`*_{}\[\]()<>#+!|~$:])")


def literal(text: object, keep_code: bool = False) -> str:
    """`text` escaped for markdown: file and column names show as typed, never as markup or HTML.

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
    from explorer.data.loader import CandleFormatError
    if len(data.frame) < MIN_CANDLES:
        raise CandleFormatError(f"only {len(data.frame)} usable candle(s) after cleaning; the lessons need at least "
                                f"{MIN_CANDLES} in a row.")
    return data


def upload_rows(nrows: int | None) -> int:
    """How many rows to read from an upload: what the learner asked for, never more than the row cap."""
    return min(nrows or max_rows(), max_rows())


def cap_note(nrows: int | None, data: CandleData) -> str | None:
    """A message when the row cap, not the learner, cut an upload short."""
    cap = max_rows()
    if (nrows is None or nrows > cap) and data.report.rows_read >= cap:
        return (f"Row cap reached: only the first {cap:,} rows were read (this server's limit per load, "
                "AUTOGRAD_EXPLORER_MAX_ROWS). Trim the file or set 'Rows to read' to choose the rows.")
    return None


def check_config_rows(config: AppConfig) -> None:
    """A config may not ask for more rows than this server's cap."""
    from explorer.data.config import ConfigError
    if config.data.train_rows > max_rows():
        raise ConfigError(f"`data.train_rows` = {config.data.train_rows:,} is above this server's row cap of "
                          f"{max_rows():,}.")


def config_file(config: AppConfig) -> tuple[str, float, str, int, tuple[str, ...]]:
    """What reading a config's candles takes: its file (inside data/ only) and that file's version, the separator,
    the rows (within this server's cap) and the column names; ConfigError when the config asks for more."""
    from explorer.data.config import read_csv_arguments, resolve_data_path
    path = resolve_data_path(config)
    check_config_rows(config)
    args = read_csv_arguments(config.model_dump())
    return str(path), path.stat().st_mtime, args["sep"], args["nrows"], tuple(args["names"])


def archive_candles(request: ArchiveRequest, progress: Callable | None = None) -> CandleData:
    """Candles from Binance's public archive (days cached on disk); FetchError/CandleFormatError on failure."""
    from explorer.data.fetch import fetch_candles
    return enough_candles(fetch_candles(request.symbol, request.interval, request.first, request.last,
                                        progress=progress))


def config_source_label(config: AppConfig) -> str:
    return f"config: {config.data.file_path} (first {config.data.train_rows} rows)"


def config_link(config: AppConfig) -> str:
    """How a config's data travels in a URL: the bundled config with a row count does; anything else cannot."""
    from explorer.data.config import load_config
    bundled = load_config().data
    same = config.data.model_copy(update={"train_rows": bundled.train_rows}) == bundled
    return f"sample:{config.data.train_rows}" if same else "custom-config"


def config_from_link(link: str | None) -> tuple[AppConfig, str | None]:
    """The bundled config with the row count a shared link asks for, and a message when the link cannot be met."""
    from explorer.data.config import load_config
    config, message = load_config(), None
    rows = re.fullmatch(r"sample:([0-9]{1,9})", link or "")  # ASCII digits only: int() refuses some isdigit() ones
    if rows and MIN_CANDLES <= int(rows[1]) <= MAX_SAMPLE_ROWS:
        config.data.train_rows = int(rows[1])
    elif link == "upload":
        message = ("This link was made with an **uploaded file**, and uploaded data cannot travel in a URL: the "
                   "bundled sample is shown instead. Upload the same file on the Data page to match.")
    elif link:
        message = (f"The link's data setting {literal(repr(link[:40]))} cannot be reproduced here; the bundled "
                   "sample is shown.")
    config.data.train_rows = min(config.data.train_rows, max_rows())  # a server with a small row cap still starts
    return config, message


def candles_from_link(link: str | None, from_config: Callable[[AppConfig], CandleData],
                      busy: Callable[[str], ContextManager] = nullcontext) -> tuple[CandleData, str, str, str | None]:
    """The candles a shared link names (archive days, or the sample with its rows), with their label, their link,
    and a message when the link cannot be met (the bundled sample is then loaded instead). `busy(words)` is held
    while archive days are fetched (a page's spinner)."""
    from explorer.data.fetch import FetchError, parse_link
    from explorer.data.loader import CandleFormatError
    problem = None
    if (link or "").startswith("binance:"):
        try:
            request = parse_link(link)
            if request is None:
                raise FetchError(f"{literal(repr(str(link)[:60]))} is not an archive request this app writes.")
            with busy(f"Fetching {request.label()}…"):
                data = archive_candles(request)
            return data, request.label(), request.link(), None
        except (FetchError, CandleFormatError) as exc:
            problem = (f"This link's candles come from Binance's public archive and could not be fetched: "
                       f"{literal(exc)} The bundled sample is shown instead.")
            link = None
    config, message = config_from_link(link)
    data, label, sample_link = sample_candles(config, from_config)
    # a link made with an upload keeps saying so: a reload (a new replica, say) then explains the sample again
    return data, label, "upload" if link == "upload" else sample_link, problem or message


def sample_candles(config: AppConfig, from_config: Callable[[AppConfig], CandleData]) -> tuple[CandleData, str, str]:
    """The bundled sample as a config names it, with its label and its link."""
    return from_config(config), config_source_label(config) + " — synthetic sample", config_link(config)


# How an upload is read: the Data page's choices, by label (None: detect from the file).
SEPARATORS = {"detect": None, "comma ,": ",", "pipe |": "|", "semicolon ;": ";", "tab": "\t", "space": " "}
DATE_ORDERS = {"detect from the data": None, "day first (DD/MM/YYYY)": True, "month first (MM/DD/YYYY)": False}


def sample_rows(link: str, default: int) -> int:
    """The row count a sample link carries (sample:N), else `default`."""
    return int(link[7:]) if link.startswith("sample:") else default


def rows_and_span(frame: pd.DataFrame) -> str:
    """How many candles, from when to when (the sidebar's summary of the loaded data)."""
    return f"{len(frame):,} rows · {frame.index[0]:%Y-%m-%d %H:%M} → {frame.index[-1]:%Y-%m-%d %H:%M} UTC"
