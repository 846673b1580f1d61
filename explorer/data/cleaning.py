"""Vectorised clean-up of parsed candles: drop unusable rows, sort, de-duplicate, measure interval and gaps."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from explorer.data.columns import OHLCV

COLUMNS = list(OHLCV)


@dataclass
class Cleaned:
    """What cleaning found that the load report passes on as it is."""
    duplicates: int = 0
    order: str = "ascending as read"
    interval: pd.Timedelta | None = None
    gaps: int = 0
    missing_candles: int = 0
    inconsistent_rows: int = 0
    inconsistent_examples: list[str] = field(default_factory=list)


@dataclass
class CleanStats(Cleaned):
    """What cleaning did, for the load report."""
    dropped: dict[str, int] = field(default_factory=dict)
    dropped_rows: list[tuple[int, str]] = field(default_factory=list)  # (row index as read, reason), a few each
    future_rows: int = 0
    latest: pd.Timestamp | None = None


def _drop_unusable(times: np.ndarray, values: dict[str, np.ndarray], stats: CleanStats) -> np.ndarray | None:
    """Mask of rows to keep (None when all are fine), counting why the others go."""
    prices = [values[k] for k in COLUMNS[:4]]
    volume = values["volume"]
    # min()/max() propagate NaN/NaT, so two cheap reductions per column prove there is nothing to drop
    if times.size and not np.isnat(times.min()) and all(p.min() > 0 and p.max() < np.inf for p in prices) \
            and volume.min() >= 0 and volume.max() < np.inf:
        return None
    bad_time = np.isnat(times)
    missing = np.logical_or.reduce([np.isnan(p) for p in prices])
    infinite = np.logical_or.reduce([np.isinf(p) for p in prices])
    not_positive = np.logical_or.reduce([p <= 0 for p in prices])
    bad_volume = ~(volume >= 0) | np.isinf(volume)  # NaN fails >= 0
    reasons = {"unreadable or missing time": bad_time,
               "missing or non-numeric price": missing & ~bad_time,
               "infinite price": infinite & ~bad_time & ~missing,
               "price zero or negative": not_positive & ~bad_time & ~missing & ~infinite,
               "missing, negative or infinite volume": bad_volume & ~(bad_time | missing | infinite | not_positive)}
    for why, mask in reasons.items():
        if (n := int(mask.sum())):
            stats.dropped[why] = stats.dropped.get(why, 0) + n
            stats.dropped_rows += [(int(i), why) for i in np.flatnonzero(mask)[:5]]
    return ~(bad_time | missing | infinite | not_positive | bad_volume)


def _order(ticks: np.ndarray, steps: np.ndarray, stats: CleanStats) -> np.ndarray | None:
    """Row order making time ascending and unique (None if it already is); the last duplicate wins."""
    if steps.size == 0 or steps.min() > 0:
        return None
    if steps.max() < 0:
        stats.order = "newest first in the file; reversed to ascending"
        return np.arange(ticks.size - 1, -1, -1)
    order = np.argsort(ticks, kind="stable")  # stable: among equal times, file order is kept
    if steps.max() <= 0:
        stats.order = "newest first in the file; sorted ascending"
    elif steps.min() < 0:
        stats.order = "not in time order in the file; sorted ascending"
    sorted_ticks = ticks[order]
    last_of_each = np.append(sorted_ticks[1:] != sorted_ticks[:-1], True)
    stats.duplicates = int((~last_of_each).sum())
    return order[last_of_each]


def _interval_and_gaps(steps: np.ndarray, stats: CleanStats) -> None:
    """The usual step between candles and how many times the series skips ahead."""
    if steps.size == 0:
        return
    smallest = steps.min()
    if smallest == steps.max():
        step = int(smallest)
    else:
        values, counts = np.unique(steps, return_counts=True)
        step = int(values[counts.argmax()])
        longer = steps[steps > step]
        stats.gaps = int(longer.size)
        stats.missing_candles = int((longer // step - 1).sum())
    stats.interval = pd.Timedelta(step, unit="us")


def _flag_inconsistent(times: np.ndarray, values: dict[str, np.ndarray], stats: CleanStats) -> None:
    """Rows whose high is below the body or low above it: counted, left unchanged."""
    o, h, l, c = (values[k] for k in COLUMNS[:4])
    bad = (h < np.maximum(o, c)) | (l > np.minimum(o, c))
    stats.inconsistent_rows = int(np.count_nonzero(bad))
    if stats.inconsistent_rows:
        stats.inconsistent_examples = [str(pd.Timestamp(t)) for t in times[bad][:3]]


def _flag_future(times: np.ndarray, stats: CleanStats) -> None:
    """Candles dated after tomorrow: kept, but almost always a wrong time unit or column, so they are counted."""
    if times.size:
        tomorrow = np.datetime64("now", "us") + np.timedelta64(1, "D")
        stats.future_rows = int(np.count_nonzero(times > tomorrow))
        stats.latest = pd.Timestamp(times[-1])


def _writable(array: np.ndarray) -> np.ndarray:
    """The array, writable: pandas hands out read-only views of data that only this loader still holds."""
    if not array.flags.writeable:
        try:
            array.setflags(write=True)  # no copy: the frame the view came from is discarded after loading
        except ValueError:  # memory owned by someone else (e.g. pyarrow): copy it
            array = array.copy()
    return array


def clean(times: np.ndarray, values: dict[str, np.ndarray]) -> tuple[pd.DataFrame, CleanStats]:
    """Parsed columns → candle frame indexed by ascending unique UTC time, plus what was done."""
    stats = CleanStats()
    keep = _drop_unusable(times, values, stats)
    if keep is not None:
        times = times[keep]
        values = {k: v[keep] for k, v in values.items()}
    ticks = times.view("int64")
    steps = np.diff(ticks)
    order = _order(ticks, steps, stats)
    if order is not None:
        times, ticks = times[order], ticks[order]
        values = {k: v[order] for k, v in values.items()}
        steps = np.diff(ticks)
    _interval_and_gaps(steps, stats)
    _flag_inconsistent(times, values, stats)
    _flag_future(times, stats)
    index = pd.DatetimeIndex(times, name="timestamp")
    # Separate float64 arrays (not one 2-D block) keep frame.values writable for torch.from_numpy.
    frame = pd.DataFrame({k: _writable(values[k]) for k in COLUMNS}, index=index, copy=False)
    return frame, stats
