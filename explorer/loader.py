"""Load candle (OHLCV) files from paths or uploads into a clean, UTC-indexed DataFrame."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Union

import pandas as pd

COLUMNS = ["open", "high", "low", "close", "volume"]
Source = Union[str, Path, bytes, IO[bytes]]


class CandleFormatError(ValueError):
    """The file cannot be read as candles; the message says why in plain words."""


@dataclass
class LoadReport:
    """What the loader detected and cleaned."""
    format: str = "unknown"
    separator: str = ","
    header: bool = False
    time_column: str = ""
    time_unit: str = ""
    timezone: str = "UTC (no conversion)"
    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    interval: pd.Timedelta | None = None
    gaps: int = 0
    inconsistent_rows: int = 0
    notes: list[str] = field(default_factory=list)

    def as_table(self) -> list[tuple[str, str]]:
        """The report as (item, value) rows for display."""
        dropped = ", ".join(f"{n} {why}" for why, n in self.dropped.items()) or "none"
        return [
            ("format detected", self.format),
            ("separator", repr(self.separator)),
            ("header row", "yes" if self.header else "no"),
            ("time column", f"{self.time_column} ({self.time_unit})"),
            ("time zone", self.timezone),
            ("rows read / kept", f"{self.rows_read} / {self.rows_kept}"),
            ("rows dropped", dropped),
            ("duplicate timestamps", f"{self.duplicates} (kept the last of each)"),
            ("candle interval", str(self.interval) if self.interval is not None else "unknown"),
            ("gaps in the series", str(self.gaps)),
            ("rows with high/low outside open/close", f"{self.inconsistent_rows} (flagged, not changed)"),
        ]


@dataclass
class CandleData:
    """A loaded candle series and the report of how it was read."""
    frame: pd.DataFrame
    report: LoadReport


def _read_bytes(source: Source) -> bytes:
    if isinstance(source, (str, Path)):
        return Path(source).read_bytes()
    if isinstance(source, bytes):
        return source
    return source.read()


def load_candles(source: Source, *, sep: str | None = "|", nrows: int | None = None,
                 names: list[str] | None = None) -> CandleData:
    """Read the seed's format (pipe-separated, no header, unix seconds) into candles."""
    raw = _read_bytes(source)
    if not raw.strip():
        raise CandleFormatError("The file is empty: there are no candles to load.")
    names = names or ["timestamp", *COLUMNS]
    frame = pd.read_csv(io.BytesIO(raw), sep=sep, header=None, nrows=nrows, names=names,
                        usecols=range(len(names)))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s")
    frame = frame.set_index("timestamp").astype("float64")
    report = LoadReport(format="seed (timestamp|open|high|low|close|volume)", separator=sep or ",",
                        time_column="timestamp", time_unit="unix seconds",
                        rows_read=len(frame), rows_kept=len(frame))
    return CandleData(frame[COLUMNS], report)
