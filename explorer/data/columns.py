"""Decide which file column is the time and which are open, high, low, close and volume."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from explorer.data.sniff import is_missing, is_number

OHLCV = ("open", "high", "low", "close", "volume")  # the candle columns, in this order, everywhere
PRICES = OHLCV[:4]
# Spellings seen in real exports, after normalising (lower case, '_' and '-' become spaces).
TIME_NAMES = [  # most specific first: an open time beats a generic 'time'
    {"open time", "opentime", "kline open time", "start time", "open timestamp"},
    {"unix", "unix timestamp", "unix time", "unixtime", "epoch", "unix ms", "unix s"},
    {"timestamp", "time stamp", "ts", "t", "timestamp utc", "timestamp (utc)"},
    {"datetime", "date time", "datetime utc", "datetime (utc)", "date (utc)", "time (utc)", "gmt time", "utc"},
    {"date", "day", "period"},
    {"time"},
]
CLOSE_TIME_NAMES = {"close time", "closetime", "close timestamp", "kline close time", "end time"}
TIME_PART_NAMES = {"time", "hour", "time of day"}
PRICE_NAMES = {
    "open": {"open", "o", "open price", "opening price", "first"},
    "high": {"high", "h", "high price", "max", "highest"},
    "low": {"low", "l", "low price", "min", "lowest"},
    "close": {"close", "c", "close price", "closing price", "last", "last price"},
}
VOLUME_EXACT = {"volume", "vol", "v", "base volume", "base asset volume", "qty", "quantity", "amount"}
# Volume columns that are in the quote currency (or taker-side): used only when nothing better exists.
_QUOTE_VOLUME = re.compile(r"quote|usd|eur|currency|taker|turnover|notional")
DATE_ONLY = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")
TIME_ONLY = re.compile(r"^(\d{1,2}(:\d{2}){1,2}(\.\d+)?\s*([AaPp][Mm])?|\d{1,2}\s*-?\s*[AaPp][Mm])$")
_DATEISH = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
EPOCH_RANGE = (1e8, 1e20)  # 1973 in seconds … 5138 in nanoseconds
BINANCE = "Binance klines (12 columns: open time, OHLCV, close time, quote volume, …)"


@dataclass
class ColumnMap:
    """Positions (0-based) of the candle fields in the file and how they were found."""
    names: list[str]                       # display name of every file column
    time: int
    prices: dict[str, int]
    volume: int | None
    time_part: int | None = None           # a separate 'Time' column to glue to a date-only column
    layout_name: str = "columns matched by name"
    notes: list[str] = field(default_factory=list)

    def used(self) -> list[int]:
        """Every column index that is read."""
        cols = [self.time, *self.prices.values()]
        cols += [c for c in (self.volume, self.time_part) if c is not None]
        return cols

    def ignored(self) -> str:
        """The file's columns that are not read, by name ('none' when every column is used)."""
        used = set(self.used())
        return ", ".join(name for j, name in enumerate(self.names) if j not in used) or "none"

    def describe(self) -> str:
        """'time ← Open time, open ← Open, …' for the report."""
        glued = f" + {self.names[self.time_part]}" if self.time_part is not None else ""
        parts = [f"time ← {self.names[self.time]}{glued}"]
        parts += [f"{role} ← {self.names[i]}" for role, i in self.prices.items()]
        parts.append(f"volume ← {self.names[self.volume]}" if self.volume is not None else "volume ← (none)")
        return ", ".join(parts)


def normalise(name: str) -> str:
    """'Volume_(BTC)' → 'volume (btc)'; 'Open-Time' → 'open time'."""
    name = re.sub(r"[_\-.<>]+", " ", name.strip().strip('"').lower())  # '<CLOSE>' (MetaTrader) → 'close'
    return re.sub(r"\s+", " ", name.replace("( ", "(").replace(" )", ")")).strip()


def column_values(rows: list[list[str]], j: int) -> list[str]:
    """The non-missing sample values of column j."""
    return [r[j].strip() for r in rows if j < len(r) and not is_missing(r[j])]


def is_numeric_column(rows: list[list[str]], j: int) -> bool:
    """Most sample values of column j are plain numbers."""
    vals = column_values(rows, j)
    return bool(vals) and sum(is_number(v) for v in vals) >= 0.9 * len(vals)


def is_time_column(rows: list[list[str]], j: int) -> bool:
    """Column j holds unix times or date strings (judged by its sample values)."""
    vals = column_values(rows, j)
    if not vals:
        return False
    if is_numeric_column(rows, j):
        nums = sorted(abs(float(v)) for v in vals if is_number(v))
        return EPOCH_RANGE[0] <= nums[len(nums) // 2] < EPOCH_RANGE[1]
    return sum(bool(_DATEISH.search(v)) for v in vals) >= 0.9 * len(vals)


def _find(norm: list[str], spellings: set[str], taken: set[int]) -> int | None:
    """First untaken column whose name (or name without a '(unit)' suffix) is one of the spellings."""
    bare = [re.sub(r"\s*\(.*?\)", "", n).strip() for n in norm]
    hits = (i for i, (n, b) in enumerate(zip(norm, bare)) if (n in spellings or b in spellings) and i not in taken)
    return next(hits, None)


def _volume_by_name(norm: list[str], names: list[str], taken: set[int]) -> tuple[int | None, str | None]:
    """The base-currency volume column, and a note when the choice among several needed explaining."""
    exact = _find(norm, VOLUME_EXACT, taken)
    if exact is not None:
        return exact, None
    cands = [i for i, n in enumerate(norm) if i not in taken and re.match(r"^(volume|vol)\b", n)]
    base = [i for i in cands if not _QUOTE_VOLUME.search(norm[i])]
    pick = (base or cands or [None])[0]
    note = None
    if pick is not None and len(cands) > 1:
        others = ", ".join(f"'{names[i]}'" for i in cands if i != pick)
        note = f"Several volume columns: used '{names[pick]}' (base currency), not {others}."
    return pick, note


def _glue_time_part(cmap: ColumnMap, rows: list[list[str]], norm: list[str]) -> None:
    """A date-only time column next to a time-of-day column ('Date,Time,…') is read as one timestamp."""
    dates = column_values(rows, cmap.time)
    if not dates or not all(DATE_ONLY.match(v) for v in dates):
        return
    cands = [i for i, n in enumerate(norm) if n in TIME_PART_NAMES] + [cmap.time + 1]
    for i in cands:
        vals = column_values(rows, i) if i < len(norm) else []
        if i != cmap.time and i not in cmap.prices.values() and vals and all(TIME_ONLY.match(v) for v in vals):
            cmap.time_part = i
            cmap.notes.append(f"Date and time of day are separate columns ('{cmap.names[cmap.time]}' and "
                              f"'{cmap.names[i]}'); they were joined.")
            return


def map_by_name(names: list[str], rows: list[list[str]]) -> ColumnMap | None:
    """Map columns by their header names; None if no time column name is recognised."""
    norm = [normalise(n) for n in names]
    prices: dict[str, int] = {}
    for role in PRICES:
        i = _find(norm, PRICE_NAMES[role], set(prices.values()))
        if i is not None:
            prices[role] = i
    notes = []
    last = None if "close" in prices else _find(norm, {"price", "last", "close last"}, set(prices.values()))
    if last is not None:
        prices["close"] = last  # Investing.com's 'Price' is the close of the period
        notes.append(f"No 'Close' column: '{names[last]}' is used as the close price.")
    taken = set(prices.values())
    time = next((i for group in TIME_NAMES if (i := _find(norm, group, taken)) is not None), None)
    close_time = _find(norm, CLOSE_TIME_NAMES, taken)
    if time is None and close_time is None:
        # Prices are named but the time column's name is unknown (e.g. another language): go by its values.
        time = next((j for j in range(len(names)) if j not in taken and is_time_column(rows, j)), None)
        if time is None or len(prices) < 4:
            return None
        notes.append(f"The time column '{names[time]}' was recognised by its values, not its name.")
        return _finish(ColumnMap(names=names, time=time, prices=prices, volume=None, notes=notes), norm, rows)
    cmap = ColumnMap(names=names, time=time if time is not None else close_time, prices=prices, volume=None,
                     notes=notes)
    if time is None:
        cmap.notes.append(f"Only a close time ('{names[close_time]}'), no open time: each candle is indexed by "
                          "the time it closed.")
    return _finish(cmap, norm, rows)


def _finish(cmap: ColumnMap, norm: list[str], rows: list[list[str]]) -> ColumnMap:
    """Add the volume column and a separate time-of-day column to a map found by names."""
    cmap.volume, note = _volume_by_name(norm, cmap.names, set(cmap.prices.values()) | {cmap.time})
    if len(norm) == 12 and norm[0] == "open time" and norm[6] == "close time":
        cmap.layout_name = BINANCE
    if note:
        cmap.notes.append(note)
    _glue_time_part(cmap, rows, norm)
    return cmap


def _binance(names: list[str], rows: list[list[str]]) -> ColumnMap | None:
    """Binance klines: 12 columns, open time (ms) … close time (ms) … ignore."""
    if len(names) != 12 or not (is_time_column(rows, 0) and is_time_column(rows, 6)):
        return None
    if not all(float(r[6]) > float(r[0]) for r in rows[:20] if is_number(r[0]) and is_number(r[6])):
        return None
    return ColumnMap(names=names, time=0, prices={p: i + 1 for i, p in enumerate(PRICES)}, volume=5,
                     layout_name=BINANCE,
                     notes=["Binance kline layout recognised; the close time and quote volume are ignored."])


def map_by_position(names: list[str], rows: list[list[str]]) -> ColumnMap | None:
    """No usable names: the first time-like column, then four numeric columns (OHLC), then volume."""
    binance = _binance(names, rows)
    if binance is not None:
        return binance
    time = next((j for j in range(len(names)) if is_time_column(rows, j)), None)
    if time is None:
        return None
    cmap = ColumnMap(names=names, time=time, prices={}, volume=None, layout_name="columns by position")
    _glue_time_part(cmap, rows, [normalise(n) for n in names])
    start = (cmap.time_part if cmap.time_part is not None else time) + 1
    numeric = [j for j in range(start, len(names)) if is_numeric_column(rows, j)]
    cmap.prices = dict(zip(PRICES, numeric[:4]))
    cmap.volume = numeric[4] if len(numeric) > 4 else None
    skipped = [names[j] for j in range(time)]
    cmap.notes.append("No column names to go by: read as time, open, high, low, close, volume in file order"
                      + (f" (skipping {', '.join(skipped)} before the time)." if skipped else "."))
    return cmap
