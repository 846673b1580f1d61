"""Vectorised clean-up of parsed candles: drop unusable rows, sort, de-duplicate, measure interval and gaps."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

COLUMNS = ["open", "high", "low", "close", "volume"]


@dataclass
class CleanStats:
    """What cleaning did, for the load report."""
    dropped: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    order: str = "ascending as read"
    interval: pd.Timedelta | None = None
    gaps: int = 0
    missing_candles: int = 0
    off_grid: int = 0
    inconsistent_rows: int = 0
    inconsistent_examples: list[str] = field(default_factory=list)


def _drop_unusable(times: np.ndarray, values: dict[str, np.ndarray], stats: CleanStats) -> np.ndarray | None:
    """Mask of rows to keep (None when all are fine), counting why the others go."""
    if times.size and not np.isnat(times.min()) and not any(np.isnan(values[k].min()) for k in COLUMNS):
        return None  # min() propagates NaN/NaT: a cheap reduction proves there is nothing to drop
    bad_time = np.isnat(times)
    bad_price = np.zeros(times.shape, bool)
    for name in COLUMNS[:4]:
        bad_price |= np.isnan(values[name])
    bad_volume = np.isnan(values["volume"])
    if not (bad_time.any() or bad_price.any() or bad_volume.any()):
        return None
    reasons = {"unreadable or missing time": bad_time,
               "missing or non-numeric price": bad_price & ~bad_time,
               "missing or non-numeric volume": bad_volume & ~bad_time & ~bad_price}
    for why, mask in reasons.items():
        if (n := int(mask.sum())):
            stats.dropped[why] = stats.dropped.get(why, 0) + n
    return ~(bad_time | bad_price | bad_volume)


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
        stats.off_grid = int((steps % step != 0).sum())
    stats.interval = pd.Timedelta(step, unit="us")


def _flag_inconsistent(times: np.ndarray, values: dict[str, np.ndarray], stats: CleanStats) -> None:
    """Rows whose high is below the body or low above it: counted, left unchanged."""
    o, h, l, c = (values[k] for k in COLUMNS[:4])
    bad = (h < np.maximum(o, c)) | (l > np.minimum(o, c))
    stats.inconsistent_rows = int(np.count_nonzero(bad))
    if stats.inconsistent_rows:
        stats.inconsistent_examples = [str(pd.Timestamp(t)) for t in times[bad][:3]]


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
    index = pd.DatetimeIndex(times, name="timestamp")
    # Separate float64 arrays (not one 2-D block) keep frame.values writable for torch.from_numpy.
    frame = pd.DataFrame({k: _writable(values[k]) for k in COLUMNS}, index=index, copy=False)
    return frame, stats
