"""Turn a column of unix numbers or date strings into UTC datetimes, deciding formats from the data."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from explorer.data.sniff import is_number

TIME_DTYPE = "datetime64[us]"  # pandas 3's default resolution; candles never need nanoseconds
# Unix-time unit by the size of a value: a unit's window runs from 1973-03-03 (1e8 s) to 2200-01-01, so the
# windows of seconds, milliseconds, microseconds and nanoseconds never overlap and a value has at most one reading.
_Y2200 = 7_258_118_400
EPOCH_UNITS = [(1e8, _Y2200, "s", "seconds"), (1e11, _Y2200 * 1e3, "ms", "milliseconds"),
               (1e14, _Y2200 * 1e6, "us", "microseconds"), (1e17, _Y2200 * 1e9, "ns", "nanoseconds")]
_US_PER = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 1e-3}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{1,2}(:\d{2}){0,2}(\.\d+)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$", re.I)
_THOUSANDS = r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?"
_OFFSET = re.compile(r"(Z|UTC|GMT|[+-]\d{2}:?\d{2})$", re.I)
_CLOCKS = ["%H:%M:%S.%f", "%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p", "%I-%p", "%I %p", "%I%p", ""]
# Families of formats; a family is one way of writing the date part, tried with every clock format.
FAMILIES = {
    "Y-M-D": ["%Y-%m-%d"], "Y/M/D": ["%Y/%m/%d"], "Y.M.D": ["%Y.%m.%d"], "YYYYMMDD": ["%Y%m%d"],
    "Mon D, Y": ["%b %d, %Y"], "D Mon Y": ["%d %b %Y"], "D-Mon-Y": ["%d-%b-%Y"],
    "M/D/Y": ["%m/%d/%Y"], "D/M/Y": ["%d/%m/%Y"], "D.M.Y": ["%d.%m.%Y"], "M-D-Y": ["%m-%d-%Y"], "D-M-Y": ["%d-%m-%Y"],
}
AMBIGUOUS = [("M/D/Y", "D/M/Y"), ("M-D-Y", "D-M-Y")]


class TimeFormatError(ValueError):
    """Times cannot be read or their format cannot be decided (converted to CandleFormatError)."""


@dataclass
class TimeInfo:
    """How the time column was read."""
    unit: str
    timezone: str = "none stated; taken as UTC"
    notes: list[str] = field(default_factory=list)


def _unit_of_each(values: np.ndarray) -> np.ndarray:
    """Index into EPOCH_UNITS of the window holding each value; -1 for none (0, NaN, negative, 1e10, …)."""
    size = values.astype("float64")
    which = np.full(values.shape, -1, dtype=np.int8)
    for k, (lo, hi, _, _) in enumerate(EPOCH_UNITS):
        which[(size >= lo) & (size < hi)] = k
    return which


def _mixed(values: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, TimeInfo]:
    """A column that mixes units: each value read in the unit its size says; refused if some value fits none."""
    kinds = sorted(set(which.tolist()) - {-1})
    words = " and ".join(EPOCH_UNITS[k][3] for k in kinds)
    unreadable = (which == -1) & (np.isfinite(values) if values.dtype.kind == "f" else True)
    if unreadable.any():
        raise TimeFormatError(f"The time column mixes units ({words}) and also holds values like "
                              f"{values[unreadable][0].item()!r} that fit none of them (unix time from 1973 to 2200 in "
                              "seconds, milliseconds, microseconds or nanoseconds): cannot tell which unit is meant.")
    micros = np.zeros(values.shape, dtype="int64")
    for k in kinds:
        mask = which == k
        unit = EPOCH_UNITS[k][2]
        part = values[mask]
        micros[mask] = part // 1000 if unit == "ns" and part.dtype.kind in "iu" else \
            np.round(part.astype("float64") * _US_PER[unit]).astype("int64")
    counts = ", ".join(f"{int((which == k).sum())} in {EPOCH_UNITS[k][3]}" for k in kinds)
    info = TimeInfo(unit=f"unix {words} (each value read by its size)",
                    notes=[f"The time column mixes units ({counts}); each value was read in the unit its size says."])
    out = micros.view(TIME_DTYPE)
    out[which == -1] = np.datetime64("NaT")  # missing values (NaN): dropped as unreadable, never 1970
    return out, info


def from_epoch(values: np.ndarray) -> tuple[np.ndarray, TimeInfo]:
    """Unix numbers → datetimes; the unit (s, ms, µs, ns) comes from their size, value by value if they mix."""
    values = np.asarray(values)
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    if finite.size == 0:
        raise TimeFormatError("The time column has no values.")
    typical = float(np.median(np.abs(finite[:: max(1, finite.size // 1000)])))
    unit = next((u for lo, hi, u, _ in EPOCH_UNITS if lo <= typical < hi), None)
    if unit is None and len(set(_unit_of_each(finite).tolist()) - {-1}) > 1:
        return _with_timezone(*_mixed(values, _unit_of_each(values)))
    if unit is None and 20_000 < typical < 80_000:
        raise TimeFormatError(f"The time column holds numbers like {finite[0].item()!r}: these look like Excel "
                              "serial dates. Format the column as date and time in Excel, then save as CSV.")
    if unit is None:
        raise TimeFormatError(f"The time column holds numbers like {finite[0].item()!r} that are too small or too "
                              "large to be unix time (1973 to 2200) in seconds, milliseconds, microseconds or "
                              "nanoseconds.")
    words = next(w for _, _, u, w in EPOCH_UNITS if u == unit)
    lo, hi = next((lo, hi) for lo, hi, u, _ in EPOCH_UNITS if u == unit)
    if values.dtype.kind in "iu" and values.min() >= lo and values.max() < hi:
        # the common case, one vectorised pass: integer units → microseconds since 1970
        out = (values * int(_US_PER[unit]) if unit != "ns" else values // 1000).view(TIME_DTYPE)
        info = TimeInfo(unit=f"unix {words}")
    else:
        which = _unit_of_each(values)
        if len(set(which.tolist()) - {-1}) > 1:
            out, info = _mixed(values, which)
        else:
            bad = which == -1  # e.g. a stray 0: never a 1970 date
            floats = values.astype("float64")
            out = np.where(bad, 0, np.round(floats * _US_PER[unit])).astype("int64").astype(TIME_DTYPE)
            out[bad] = np.datetime64("NaT")
            fractional = bool(np.any(np.where(bad, 0, floats) % 1))
            info = TimeInfo(unit=f"unix {words}" + (" (with fractions)" if fractional else ""))
    return _with_timezone(out, info)


def _with_timezone(out: np.ndarray, info: TimeInfo) -> tuple[np.ndarray, TimeInfo]:
    info.timezone = "UTC (unix time counts from 1970-01-01 UTC)"
    return out, info


def _parse(strings: pd.Series, fmt: str) -> pd.Series:
    """Parse with one exact format; unreadable values become NaT."""
    if fmt == "ISO8601":
        return pd.to_datetime(strings, format="ISO8601", utc=True, errors="coerce")
    return pd.to_datetime(strings, format=fmt, errors="coerce")


def _candidates(sample: pd.Series) -> list[tuple[str, str]]:
    """(family, format) pairs that read every sampled value."""
    if sample.map(lambda s: bool(_ISO.match(s))).all():
        return [("ISO 8601", "ISO8601")]
    found = []
    for family, dates in FAMILIES.items():
        for date in dates:
            for clock in _CLOCKS:
                fmt = f"{date} {clock}".strip()
                if _parse(sample, fmt).notna().all():
                    found.append((family, fmt))
                    break
    return found


def regularity(times: pd.Series) -> float:
    """Share of consecutive steps (in file order) equal to the most common step: 1.0 for a clean series."""
    steps = times.diff().dropna().abs()
    steps = steps[steps > pd.Timedelta(0)]
    if steps.empty:
        return 1.0
    return float(steps.value_counts().iloc[0] / len(steps))


def _decide_order(strings: pd.Series, pair: tuple[tuple[str, str], tuple[str, str]],
                  dayfirst: bool | None) -> tuple[tuple[str, str], pd.Series, str]:
    """Pick month-first or day-first from which reading is valid, or regular; refuse to guess otherwise."""
    (mfam, mfmt), (dfam, dfmt) = pair
    if dayfirst is not None:
        (fam, fmt), (other, ofmt) = ((dfam, dfmt), (mfam, mfmt)) if dayfirst else ((mfam, mfmt), (dfam, dfmt))
        times, others = _parse(strings, fmt), _parse(strings, ofmt)
        if times.isna().sum() > others.isna().sum():  # the data contradicts the choice: say so, do not drop rows
            example = strings[times.isna() & others.notna()].iloc[0]
            raise TimeFormatError(f"You asked for {fam}, but values like '{example}' are impossible that way: the "
                                  f"data says {other}. Choose 'detect from the data' (or the other order).")
        return (fam, fmt), times, f"Date order {fam} as requested (dayfirst={dayfirst})."
    month, day = _parse(strings, mfmt), _parse(strings, dfmt)
    bad_m, bad_d = int(month.isna().sum()), int(day.isna().sum())
    if bad_m != bad_d:
        (fam, fmt), times, other = ((mfam, mfmt), month, dfam) if bad_m < bad_d else ((dfam, dfmt), day, mfam)
        example = strings[(day if bad_m < bad_d else month).isna()].iloc[0]
        return (fam, fmt), times, f"Date order decided as {fam}: values like '{example}' are impossible as {other}."
    reg_m, reg_d = regularity(month), regularity(day)
    if abs(reg_m - reg_d) > 0.01:
        (fam, fmt), times = ((mfam, mfmt), month) if reg_m > reg_d else ((dfam, dfmt), day)
        other = dfam if fam == mfam else mfam
        return (fam, fmt), times, (f"Date order decided as {fam}: read that way the candles are evenly spaced "
                                   f"({max(reg_m, reg_d):.0%} equal steps), read as {other} they jump around "
                                   f"({min(reg_m, reg_d):.0%}).")
    raise TimeFormatError(
        f"Cannot tell whether dates like '{strings.iloc[0]}' are month/day/year or day/month/year: every day is "
        "12 or less and both readings give an equally regular series. Re-export the file with ISO dates "
        "(2020-01-31 13:45), or load it with load_candles(..., dayfirst=True) or dayfirst=False.")


def from_strings(strings: pd.Series, dayfirst: bool | None = None) -> tuple[np.ndarray, TimeInfo]:
    """Date strings → UTC datetimes, choosing the format from the values themselves."""
    strings = strings.astype("string").str.strip()
    present = strings.dropna()
    present = present[present != ""]
    if present.empty:
        raise TimeFormatError("The time column is empty.")
    sample = present.iloc[:: max(1, len(present) // 300)].iloc[:300]
    if sample.str.contains(r"\d\s*(?:UTC|GMT)$", case=False).all():  # '2020-01-31 13:45:00 UTC' → '…Z'
        strings = strings.str.replace(r"\s*(?:UTC|GMT)$", "Z", case=False, regex=True)
        sample = strings[sample.index]
    found = _candidates(sample)
    if not found:
        raise TimeFormatError(f"The time column has values like '{sample.iloc[0]}' that are neither unix times nor a "
                              "date format I know (2020-01-31 13:45, 1/31/2020 1:45 PM, 31/01/2020 13:45, …).")
    notes: list[str] = []
    by_family = dict(found)
    pair = next(((a, b) for a, b in AMBIGUOUS if a in by_family and b in by_family), None)
    if pair:
        readings = ((pair[0], by_family[pair[0]]), (pair[1], by_family[pair[1]]))
        (family, fmt), times, note = _decide_order(strings, readings, dayfirst)
        notes.append(note)
    else:
        family, fmt = found[0]
        times = _parse(strings, fmt)
        other = next((b if a == family else a for a, b in AMBIGUOUS if family in (a, b)), None)
        if other and dayfirst is not None and family.startswith("D") != dayfirst:
            misfits = sample[_parse(sample, fmt.replace(FAMILIES[family][0], FAMILIES[other][0])).isna()]
            raise TimeFormatError(
                f"You asked for {other} (day {'first' if dayfirst else 'second'}), but values like "
                f"'{misfits.iloc[0]}' are impossible that way: the data says {family}. Choose 'detect from the data' "
                "(or the other order) to load this file.")
        if other:  # say why the other order was ruled out
            misfits = sample[_parse(sample, fmt.replace(FAMILIES[family][0], FAMILIES[other][0])).isna()]
            notes.append(f"Date order decided as {family}: values like '{misfits.iloc[0]}' are impossible as {other}.")
    info = TimeInfo(unit=f"text, {family}" + ("" if fmt == "ISO8601" else f" ({fmt})"), notes=notes)
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    _describe_offsets(present, info)
    return times.to_numpy(dtype=TIME_DTYPE), info


def _describe_offsets(present: pd.Series, info: TimeInfo) -> None:
    """Say which UTC offsets the values carried (they were converted to UTC while parsing)."""
    tails = pd.Series(present.str.slice(-6).unique())  # few distinct endings: the regex runs on those only
    offsets = sorted(set(tails.str.extract(_OFFSET, expand=False).dropna().str.upper()))
    if not offsets:
        return
    info.timezone = "UTC offsets " + ", ".join(offsets[:6]) + " converted to UTC"
    if len(offsets) == 1 and offsets[0] in ("Z", "UTC", "GMT", "+00:00", "+0000"):
        info.timezone = f"UTC ('{offsets[0]}' in the values)"
    elif len(offsets) > 1:
        info.notes.append(f"The UTC offset changes within the file ({', '.join(offsets[:6])}), e.g. at daylight "
                          "saving; every time was converted to UTC.")


def is_number_dtype(column: pd.Series) -> bool:
    """Integers or floats (booleans are not numbers here)."""
    return pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype)


def to_numbers(column: pd.Series) -> pd.Series:
    """Text → numbers, NaN where a value is missing or not a number; fast when every value is a number."""
    if is_number_dtype(column):
        return column
    text = column.astype("string").str.strip()
    try:
        return text.astype("int64" if text.str.isdigit().all() else "float64")  # one vectorised cast
    except (ValueError, TypeError, OverflowError):
        pass
    text = text.str.replace('"', "")
    with_commas = text[text.str.contains(",", regex=False, na=False)]
    if len(with_commas) and with_commas.str.fullmatch(_THOUSANDS).all() and text.str.contains(".", regex=False).any():
        text = text.str.replace(",", "", regex=False)  # '4,261.48': thousands separators, not decimal commas
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    suffixed = text.str.fullmatch(r"[+-]?[\d.]+[KMB]", case=False).fillna(False).astype(bool)
    if suffixed.any():  # '1.23K' volumes (Investing.com)
        scale = text[suffixed].str[-1].str.upper().map({"K": 1e3, "M": 1e6, "B": 1e9}).astype("float64")
        numbers[suffixed] = pd.to_numeric(text[suffixed].str[:-1], errors="coerce").astype("float64") * scale
    return numbers


def parse_times(column: pd.Series, dayfirst: bool | None = None) -> tuple[np.ndarray, TimeInfo]:
    """Any time column → datetime64[us] array (NaT where unreadable) and how it was read."""
    if is_number_dtype(column):
        numbers = column
    else:
        sample = column.dropna().astype("string").head(1000)
        if sum(is_number(v) for v in sample) < 0.9 * len(sample) or len(sample) == 0:
            return from_strings(column, dayfirst)  # dates as text: skip a costly failed cast to numbers
        numbers = to_numbers(column)
        if numbers.notna().sum() < 0.9 * column.notna().sum() or column.notna().sum() == 0:
            return from_strings(column, dayfirst)
    values = numbers.to_numpy() if numbers.dtype.kind in "iu" else numbers.to_numpy("float64", na_value=np.nan)
    if np.nanmedian(values[: 10_000]) < 1e8 and np.nanmin(values[: 10_000]) >= 19_000_101:
        # 20170817 is a date written as a number (YYYYMMDD), not a unix time
        return from_strings(pd.Series(values).astype("Int64").astype("string"), dayfirst)
    return from_epoch(values)
