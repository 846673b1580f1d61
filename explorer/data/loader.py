"""Load candle (OHLCV) files from paths or uploads into a clean, UTC-indexed DataFrame, saying what was done.

The pipeline, one module per step: sniff.py looks at the first 64 KB (separator, banner lines, header) →
columns.py decides which column is the time, open, high, low, close and volume → readtable.py reads the body
in one pyarrow pass → timeparse.py turns unix numbers or date text into UTC → cleaning.py drops, sorts and
de-duplicates with numpy. Every decision ends up in the LoadReport; nothing is guessed silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from explorer.data.cleaning import COLUMNS, Cleaned, CleanStats, clean
from explorer.data.columns import (DATE_ONLY, PRICES, TIME_ONLY, ColumnMap, column_values, is_numeric_column,
                              map_by_name, map_by_position)
from explorer.data.readtable import RawSource, Source, Table, open_source, read_table
from explorer.data.sniff import SEPARATOR_NAMES, Layout, SniffError, is_missing, sniff
from explorer.data.damage import EXAMPLES, describe
from explorer.data.timeparse import TimeFormatError, TimeInfo, parse_times, to_numbers

__all__ = ["COLUMNS", "CandleData", "CandleFormatError", "LoadReport", "load_candles"]


class CandleFormatError(ValueError):
    """The file cannot be read as candles; the message says why in plain words."""


@dataclass
class LoadReport(Cleaned):
    """What the loader detected and cleaned."""
    source: str = ""
    format: str = "unknown"
    separator: str = ","
    header: bool = False
    banner_lines: list[str] = field(default_factory=list)
    columns: str = ""
    ignored: str = "none"  # the file's columns not read, by name
    time_column: str = ""
    time_unit: str = ""
    timezone: str = "none stated; taken as UTC"
    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    dropped_lines: list[tuple[int, str]] = field(default_factory=list)  # the first few: (line in the file, reason)
    notes: list[str] = field(default_factory=list)

    def as_table(self) -> list[tuple[str, str]]:
        """The report as (item, value) rows for display."""
        dropped = describe(self.dropped, self.dropped_lines)
        gaps = f"{self.gaps}" + (f" ({self.missing_candles} missing candles)" if self.gaps else "")
        odd = f"{self.inconsistent_rows} (flagged, not changed)"
        if self.inconsistent_examples:
            odd += ": " + ", ".join(self.inconsistent_examples) + (" …" if self.inconsistent_rows > 3 else "")
        banner = "none"
        if self.banner_lines:
            banner = f"{len(self.banner_lines)} skipped: " + " | ".join(self.banner_lines)[:120]
        return [
            ("source", self.source),
            ("format detected", self.format),
            ("separator", f"{self.separator!r} ({SEPARATOR_NAMES.get(self.separator, 'given')})"),
            ("header row", "yes" if self.header else "no"),
            ("lines before the table", banner),
            ("columns used", self.columns),
            ("columns ignored", self.ignored),
            ("time column", f"{self.time_column} ({self.time_unit})"),
            ("time zone", self.timezone),
            ("rows read / kept", f"{self.rows_read} / {self.rows_kept}"),
            ("rows dropped", dropped),
            ("duplicate timestamps", f"{self.duplicates} (kept the last of each)"),
            ("order in the file", self.order),
            ("candle interval", human_interval(self.interval)),
            ("gaps in the series", gaps),
            ("rows with high/low outside open/close", odd),
        ]


@dataclass
class CandleData:
    """A loaded candle series and the report of how it was read."""
    frame: pd.DataFrame
    report: LoadReport


def human_interval(step: pd.Timedelta | None) -> str:
    """'1 min', '15 min', '1 h', '1 day' …, or 'unknown' for a single candle."""
    if step is None:
        return "unknown (fewer than two candles)"
    seconds = step.total_seconds()
    for size, unit in ((86400, "day"), (3600, "h"), (60, "min"), (1, "s")):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return str(step)


def _split_datetime_header(layout: Layout) -> list[str]:
    """Header names, with a name added where a 'date time' value was split in two by a space separator."""
    header = list(layout.header or [])
    if len(header) != layout.ncols - 1 or layout.trailing_empty:
        return header
    for j in range(len(header)):
        dates, clocks = column_values(layout.rows, j), column_values(layout.rows, j + 1)
        if dates and clocks and all(DATE_ONLY.match(d) for d in dates) and all(TIME_ONLY.match(c) for c in clocks):
            return header[: j + 1] + [f"{header[j]} (time of day)"] + header[j + 1:]
    return header


def _column_map(layout: Layout, names: list[str] | None) -> ColumnMap:
    """Decide the role of each column from names (given or in the header) or else from the values."""
    if names is not None:
        if len(names) > layout.ncols:
            raise CandleFormatError(f"You named {len(names)} columns but the rows have only {layout.ncols} fields.")
        display = [str(n) for n in names] + [f"column {i + 1}" for i in range(len(names), layout.ncols)]
    elif layout.header is not None:
        display = _split_datetime_header(layout)
        display += [f"column {i + 1}" for i in range(len(display), layout.ncols)]
        display = [d or f"column {i + 1}" for i, d in enumerate(display[: layout.ncols])]
    else:
        display = [f"column {i + 1}" for i in range(layout.ncols)]
    cmap = map_by_name(display, layout.rows) if (names or layout.header) else None
    cmap = cmap or map_by_position(display, layout.rows)
    if cmap is None:
        raise CandleFormatError("No time column found: no column is named like Date, Time, Timestamp, Open time or "
                                "Unix, and none holds dates or unix times. Columns: " + ", ".join(display))
    missing = [p for p in PRICES if p not in cmap.prices]
    if missing:
        raise CandleFormatError(f"No price columns for {', '.join(missing)}: the file needs open, high, low and "
                                "close prices (columns found: " + ", ".join(display) + ").")
    if names is not None and cmap.layout_name == "columns matched by name":
        cmap.layout_name = "columns named by you"
    return cmap


def _numbers(series: pd.Series, name: str) -> np.ndarray:
    """A column as float64 (NaN where missing or not a number); an error if nothing in it is a number."""
    if series.dtype == np.float64:
        return series.to_numpy()  # the common case: pyarrow already parsed numbers, NaN where missing
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    values = to_numbers(series).to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(values).all():
        present = [v for v in series.astype("string").dropna().head(1000) if not is_missing(v)]
        if present:
            hint = " (decimal commas are not supported: export with '.' as the decimal mark)" * ("," in present[0])
            raise CandleFormatError(f"The {name} column holds values like '{present[0]}' that are not numbers{hint}.")
    return values


def _times(table: Table, cmap: ColumnMap, dayfirst: bool | None):
    """Parse the time column (glued to a separate time-of-day column when there is one)."""
    column = table.columns[cmap.time]
    if cmap.time_part is not None:
        column = column.astype("string") + " " + table.columns[cmap.time_part].astype("string")
    return parse_times(column, dayfirst)


def _format_name(layout: Layout, cmap: ColumnMap, unit: str) -> str:
    """A short description of the kind of file that was recognised."""
    seed_like = (layout.sep == "|" and layout.header is None and layout.ncols == 6 and unit == "unix seconds"
                 and cmap.used() == [0, 1, 2, 3, 4, 5])
    if seed_like:
        return "the seed's format (timestamp|open|high|low|close|volume, no header, unix seconds)"
    if cmap.layout_name.startswith("Binance"):
        return cmap.layout_name + (", with header" if layout.header else ", no header")
    return ("CSV with a header row" if layout.header else "CSV without a header") + f"; {cmap.layout_name}"


@dataclass
class _Read:
    """One read of the body: the table, how its times were read, the clean frame and what cleaning did."""
    table: Table
    info: TimeInfo
    frame: pd.DataFrame
    stats: CleanStats
    notes: list[str]


def _read_and_clean(raw: RawSource, layout: Layout, cmap: ColumnMap, nrows: int | None, dayfirst: bool | None,
                    careful: bool) -> _Read:
    """Read the body (careful: line by line, knowing each row's line number), parse times and prices, clean."""
    text = {cmap.time} if not is_numeric_column(layout.rows, cmap.time) or cmap.time_part is not None else set()
    text |= {cmap.time_part} if cmap.time_part is not None else set()
    prices = frozenset(cmap.prices.values()) | frozenset([] if cmap.volume is None else [cmap.volume])
    table = read_table(raw, layout, cmap.used(), text, nrows, careful, prices - text)
    if table.rows_read == 0:
        raise CandleFormatError("The file has no data rows.")
    if len(next(iter(table.columns.values()))) == 0:
        raise CandleFormatError(f"No valid candles: all {table.rows_read} rows were dropped ("
                                + describe(table.damage.counts, table.damage.examples) + ").")
    times, info = _times(table, cmap, dayfirst)
    values = {role: _numbers(table.columns[i], role) for role, i in cmap.prices.items()}
    notes: list[str] = []
    if cmap.volume is None:
        values["volume"] = np.zeros(times.shape)
        notes.append("No volume column: volume is set to 0 so the charts still work.")
    else:
        values["volume"] = _numbers(table.columns[cmap.volume], "volume")
    frame, stats = clean(times, values)
    return _Read(table, info, frame, stats, notes)


def _load(raw: RawSource, sep: str | None, nrows: int | None, names: list[str] | None,
          dayfirst: bool | None) -> CandleData:
    """Sniff, read in one pass, parse times and prices, clean; fill in the report on the way."""
    if not raw.head.strip():
        raise CandleFormatError("The file is empty: there are no candles to load.")
    layout = sniff(raw.head, sep=sep, truncated=raw.truncated)
    if not layout.rows:
        raise CandleFormatError("The file has a header but no data rows.")
    cmap = _column_map(layout, names)
    read = _read_and_clean(raw, layout, cmap, nrows, dayfirst, careful=False)
    if read.stats.dropped and read.table.lines is None:  # rows were dropped: read again to name their lines
        read = _read_and_clean(raw, layout, cmap, nrows, dayfirst, careful=True)
    notes = [*layout.notes, *cmap.notes, *read.info.notes, *read.notes]
    report = _report(raw, layout, cmap, read, notes)
    if read.frame.empty:
        raise CandleFormatError(f"No valid candles: all {read.table.rows_read} rows were dropped ("
                                + describe(report.dropped, report.dropped_lines) + ").")
    return CandleData(read.frame, report)


def _dropped(read: _Read) -> tuple[dict[str, int], list[tuple[int, str]], list[str]]:
    """Every dropped row: a count per reason, the first few (line number, reason), and notes about them."""
    damage, stats, lines = read.table.damage, read.stats, read.table.lines
    dropped = {**damage.counts, **stats.dropped}
    examples = sorted(damage.examples + [(int(lines[i]) if lines is not None else i + 1, why)
                                         for i, why in stats.dropped_rows])[:EXAMPLES]
    notes = []
    if damage.counts:
        notes.append(f"{sum(damage.counts.values())} damaged line(s) set aside, every other row kept: "
                     + describe(damage.counts, damage.examples) + ".")
    if damage.blank:
        notes.append(f"{damage.blank} blank line(s) inside the table were skipped.")
    return dropped, examples, notes


def _report(raw: RawSource, layout: Layout, cmap: ColumnMap, read: _Read, notes: list[str]) -> LoadReport:
    """Collect what sniffing, reading and cleaning found into the load report."""
    info, table, stats = read.info, read.table, read.stats
    dropped, examples, damage_notes = _dropped(read)
    notes += damage_notes
    if stats.duplicates:
        notes.append(f"{stats.duplicates} duplicate timestamp(s): kept the last row of each.")
    if stats.order != "ascending as read":
        notes.append(f"Rows were {stats.order}.")
    if stats.future_rows:
        notes.append(f"{stats.future_rows} candle(s) are dated in the future (the last one: {stats.latest}): check "
                     "the time column and its unit (seconds vs milliseconds).")
    if stats.inconsistent_rows:
        notes.append(f"{stats.inconsistent_rows} row(s) have high below max(open, close) or low above "
                     "min(open, close); they are flagged, not changed.")
    return LoadReport(
        source=raw.label, format=_format_name(layout, cmap, info.unit), separator=layout.sep,
        header=layout.header is not None, banner_lines=layout.banner_lines, columns=cmap.describe(),
        ignored=cmap.ignored(),
        time_column=cmap.names[cmap.time], time_unit=info.unit, timezone=info.timezone,
        rows_read=table.rows_read, rows_kept=len(read.frame), dropped=dropped, dropped_lines=examples, notes=notes,
        **{f.name: getattr(stats, f.name) for f in fields(Cleaned)})


def load_candles(source: Source, *, sep: str | None = None, nrows: int | None = None,
                 names: list[str] | None = None, dayfirst: bool | None = None) -> CandleData:
    """Read candles from a path, bytes or an uploaded file; `sep=None` detects the separator."""
    if nrows is not None and (isinstance(nrows, bool) or not isinstance(nrows, (int, np.integer)) or nrows < 1):
        raise CandleFormatError(f"The number of rows to read must be a positive whole number, not {nrows!r}.")
    if sep is not None and (sep.isspace() or sep in (r"\s+", "\\s+")):
        sep = " " if sep != "\t" else "\t"
    elif sep is not None and len(sep) != 1:
        raise CandleFormatError(f"The separator must be a single character such as ',' or '|', not {sep!r}.")
    try:
        raw = open_source(source)
        return _load(raw, sep, None if nrows is None else int(nrows), names, dayfirst)
    except CandleFormatError:
        raise
    except (SniffError, TimeFormatError, FileNotFoundError) as err:
        raise CandleFormatError(str(err)) from err
    except MemoryError:
        raise
    except Exception as err:  # never let a raw pandas/pyarrow error reach the learner
        raise CandleFormatError(f"The file could not be read as candles: {err}") from err
