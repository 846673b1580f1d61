"""Real candles from Binance's public data archive: daily kline zips, SHA-256 checked, cached on disk.

The archive (https://data.binance.vision, or AUTOGRAD_EXPLORER_BINANCE_URL) keeps one zip per symbol, interval and
day at data/spot/daily/klines/{SYMBOL}/{INTERVAL}/{SYMBOL}-{INTERVAL}-{YYYY-MM-DD}.zip, with a .CHECKSUM file beside
it ('<sha256>  <name>.zip'). Inside: 12 columns, no header; open times in milliseconds until 2024-12-31 and in
microseconds from 2025-01-01 (the loader reads both by their size). The URL is built only from validated parts.

Command line, for a teacher preparing data offline (writes the seed's format: pipe-separated, no header, unix s):
    python -m explorer.data.fetch BTCUSDT 1h 2024-01-01 2024-01-07 -o data/btcusdt_1h.csv
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import io
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, NoReturn

import pandas as pd

from explorer.data.archive_cache import ArchiveCache, write_atomic
from explorer.data.cleaning import COLUMNS, clean
from explorer.data.loader import CandleData, CandleFormatError, load_candles

DEFAULT_URL = "https://data.binance.vision"
URL_ENV = "AUTOGRAD_EXPLORER_BINANCE_URL"
INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d")
MAX_DAYS = 31
FIRST_DAY = dt.date(2017, 1, 1)  # before Binance opened: no day earlier can be in the archive
TIMEOUT_S = 20
MAX_ZIP_BYTES = 64 << 20   # a day of 1m klines is ~60 KB zipped
MAX_CSV_BYTES = 256 << 20  # refuses a zip bomb
_SYMBOL = re.compile(r"[A-Z0-9]{2,20}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LINK = re.compile(r"binance:([A-Z0-9]{2,20}):([0-9]{1,2}[mhd]):([0-9-]{10}):([0-9-]{10})")

# progress(file index, file count, day, fraction of that file done)
Progress = Callable[[int, int, dt.date, float], None]


class FetchError(ValueError):
    """The archive could not give these candles; the message says why (and which day) in plain words."""


@dataclass(frozen=True)
class ArchiveRequest:
    """Validated: a symbol, an interval, and a range of at most MAX_DAYS days."""
    symbol: str
    interval: str
    first: dt.date
    last: dt.date

    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def zip_name(self, day: dt.date) -> str:
        return f"{self.symbol}-{self.interval}-{day.isoformat()}.zip"

    def link(self) -> str:
        """How this request travels in a shareable URL (?data=…)."""
        return f"binance:{self.symbol}:{self.interval}:{self.first}:{self.last}"

    def label(self) -> str:
        span = str(self.first) if self.first == self.last else f"{self.first} → {self.last}"
        return f"Binance archive: {self.symbol} {self.interval}, {span}"


def _day(value: dt.date | str, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if _DAY.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise FetchError(f"The {what} must be a date written YYYY-MM-DD, not {text[:20]!r}.")


def make_request(symbol: str, interval: str, first: dt.date | str,
                 last: dt.date | str | None = None) -> ArchiveRequest:
    """Check every part (symbol, interval, days); a FetchError says what is wrong."""
    symbol = str(symbol).strip().upper()
    if not _SYMBOL.fullmatch(symbol):
        raise FetchError(f"The symbol must be 2 to 20 letters or digits, like BTCUSDT, not {symbol[:24]!r}.")
    if interval not in INTERVALS:
        raise FetchError(f"The interval must be one of {', '.join(INTERVALS)}, not {str(interval)[:10]!r}.")
    start = _day(first, "first day")
    end = start if last is None else _day(last, "last day")
    if end < start:
        raise FetchError(f"The last day ({end}) is before the first day ({start}).")
    today = dt.datetime.now(dt.timezone.utc).date()
    if start < FIRST_DAY or end > today:
        raise FetchError(f"The archive's days run from {FIRST_DAY} to today ({today}, UTC); {start} → {end} is "
                         "outside that.")
    if (end - start).days + 1 > MAX_DAYS:
        raise FetchError(f"At most {MAX_DAYS} days at a time: {start} → {end} is {(end - start).days + 1} days.")
    return ArchiveRequest(symbol, interval, start, end)


def parse_link(text: str | None) -> ArchiveRequest | None:
    """The request a shareable link's `data=binance:SYMBOL:INTERVAL:FIRST:LAST` names; None if it names none."""
    match = _LINK.fullmatch(text or "")
    return make_request(*match.groups()) if match else None


def base_url() -> str:
    """The archive's address: AUTOGRAD_EXPLORER_BINANCE_URL (for tests and mirrors) or data.binance.vision."""
    url = os.environ.get(URL_ENV, "").strip() or DEFAULT_URL
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"{URL_ENV} must be an http:// or https:// address, not {url[:60]!r}.")
    return url.rstrip("/")


def file_url(request: ArchiveRequest, day: dt.date, suffix: str = "") -> str:
    name = request.zip_name(day)
    return f"{base_url()}/data/spot/daily/klines/{request.symbol}/{request.interval}/{name}{suffix}"


def _download(url: str, day: dt.date, limit: int, progress: Callable[[float], None] | None = None) -> bytes:
    """GET `url` (bounded size and time); a FetchError naming the day on any failure."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 (http(s) checked)
            total = int(response.headers.get("Content-Length") or 0)
            if total > limit:
                raise FetchError(f"{day}: the archive's file is larger than expected ({total:,} bytes); not used.")
            chunks, got = [], 0
            while chunk := response.read(1 << 16):
                chunks.append(chunk)
                got += len(chunk)
                if got > limit:
                    raise FetchError(f"{day}: the archive's file is larger than expected; not used.")
                if progress and total:
                    progress(min(1.0, got / total))
    except urllib.error.HTTPError as err:
        if err.code == 404:
            raise FetchError(f"{day}: not in the archive (HTTP 404). Check the symbol and interval; the archive "
                             "adds each day's file a day later.") from None
        raise FetchError(f"{day}: the archive answered HTTP {err.code} ({err.reason}).") from None
    except urllib.error.URLError as err:
        host = urllib.parse.urlsplit(url).netloc
        raise FetchError(f"{day}: could not reach the archive at {host} ({err.reason}). Are you offline?") from None
    except (http.client.HTTPException, OSError) as err:  # dropped connection, timeout, reset
        raise FetchError(f"{day}: the connection dropped while downloading ({type(err).__name__}); "
                         "try again.") from None
    if total and got != total:
        raise FetchError(f"{day}: the connection dropped while downloading ({got:,} of {total:,} bytes); try again.")
    return b"".join(chunks)


def _verify(data: bytes, checksum: bytes, name: str, day: dt.date) -> None:
    """The zip's SHA-256 must be the one in its .CHECKSUM file ('<sha256>  <name>')."""
    fields = checksum.decode("ascii", errors="replace").split()
    if len(fields) < 1 or not re.fullmatch(r"[0-9a-fA-F]{64}", fields[0]) or fields[1:2] not in ([], [name]):
        raise FetchError(f"{day}: the archive's checksum file for {name} is not a SHA-256 line; not used.")
    if hashlib.sha256(data).hexdigest() != fields[0].lower():
        raise FetchError(f"{day}: the checksum does not match: {name} arrived damaged or altered; not used.")


def fetch_zip(request: ArchiveRequest, day: dt.date, cache: ArchiveCache | None,
              progress: Callable[[float], None] | None = None) -> bytes:
    """One day's verified zip: from the cache when there, else downloaded, checked and cached."""
    name = request.zip_name(day)
    key = f"{request.symbol}/{request.interval}/{name}"
    if cache is not None and (data := cache.get(key)) is not None:
        if progress:
            progress(1.0)
        return data
    checksum = _download(file_url(request, day, ".CHECKSUM"), day, 4096)
    data = _download(file_url(request, day), day, MAX_ZIP_BYTES, progress)
    _verify(data, checksum, name, day)
    if cache is not None:
        cache.put(key, data)
    return data


def read_zip(data: bytes, request: ArchiveRequest, day: dt.date) -> CandleData:
    """The day's candles, read by the loader from the one CSV inside the zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1 or members[0].file_size > MAX_CSV_BYTES:
                raise FetchError(f"{day}: the archive's zip should hold one CSV file of klines; it does not.")
            raw = archive.read(members[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as err:
        raise FetchError(f"{day}: the archive's zip could not be opened ({err}).") from None
    try:
        return load_candles(raw)
    except CandleFormatError as err:
        raise FetchError(f"{day}: the archive's file could not be read as candles: {err}") from None


def _time_units(parts: list[tuple[dt.date, CandleData]]) -> str:
    """'unix milliseconds', or 'unix milliseconds from 2024-12-31, then unix microseconds from 2025-01-01'."""
    runs: list[tuple[str, dt.date]] = []
    for day, data in parts:
        if not runs or runs[-1][0] != data.report.time_unit:
            runs.append((data.report.time_unit, day))
    return runs[0][0] if len(runs) == 1 else ", then ".join(f"{unit} from {day}" for unit, day in runs)


def _combine(request: ArchiveRequest, parts: list[tuple[dt.date, CandleData]]) -> CandleData:
    """All days as one series (sorted, de-duplicated by the loader's cleaning) with one report for the range."""
    frame = pd.concat([data.frame for _, data in parts])
    joined, stats = clean(frame.index.to_numpy(), {c: frame[c].to_numpy() for c in COLUMNS})
    dropped: dict[str, int] = {}
    for _, data in parts:
        for why, n in data.report.dropped.items():
            dropped[why] = dropped.get(why, 0) + n
    examples = [(line, f"{why}, {day}") for day, data in parts for line, why in data.report.dropped_lines][:5]
    notes = list(dict.fromkeys(note for _, data in parts for note in data.report.notes))
    report = replace(parts[0][1].report, source=request.label(), time_unit=_time_units(parts),
                     rows_read=sum(data.report.rows_read for _, data in parts), rows_kept=len(joined),
                     dropped=dropped, dropped_lines=examples, duplicates=stats.duplicates, order=stats.order,
                     interval=stats.interval, gaps=stats.gaps, missing_candles=stats.missing_candles,
                     inconsistent_rows=stats.inconsistent_rows, inconsistent_examples=stats.inconsistent_examples,
                     notes=notes)
    return CandleData(joined, report)


def fetch_candles(symbol: str, interval: str, first: dt.date | str, last: dt.date | str | None = None, *,
                  progress: Progress | None = None, cache: ArchiveCache | None = None) -> CandleData:
    """Every day's candles from the archive (cached ones from disk), as one series. FetchError names the day."""
    request = make_request(symbol, interval, first, last)
    cache = cache if cache is not None else ArchiveCache()
    days = request.days()
    parts = []
    for index, day in enumerate(days):
        report = None if progress is None else (lambda f, i=index, d=day: progress(i, len(days), d, f))
        parts.append((day, read_zip(fetch_zip(request, day, cache, report), request, day)))
    return _combine(request, parts)


def seed_lines(frame: pd.DataFrame) -> str:
    """Candles in the seed's format: timestamp|open|high|low|close|volume, unix seconds, no header."""
    seconds = frame.index.to_numpy().astype("datetime64[s]").astype("int64").tolist()
    columns = [frame[c].to_numpy().tolist() for c in COLUMNS]
    return "".join("|".join([str(t), *map(repr, row)]) + "\n" for t, *row in zip(seconds, *columns))


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (usage: python -m explorer.fetch SYMBOL INTERVAL FIRST_DAY [LAST_DAY] "
                     "-o FILE)\n")


def main(argv: list[str] | None = None) -> int:
    """The command line: fetch, then write FILE (only when everything worked); one line on failure, exit 1."""
    parser = _OneLineParser(prog="python -m explorer.fetch", description="Binance archive candles → the seed's "
                            "format (pipe-separated, no header, unix seconds).")
    parser.add_argument("symbol")
    parser.add_argument("interval", help=", ".join(INTERVALS))
    parser.add_argument("first_day", help="YYYY-MM-DD")
    parser.add_argument("last_day", nargs="?", help="YYYY-MM-DD (default: the first day)")
    parser.add_argument("-o", "--output", required=True, help="the file to write")
    args = parser.parse_args(argv)
    try:
        data = fetch_candles(args.symbol, args.interval, args.first_day, args.last_day)
        out = Path(args.output)
        if not out.parent.is_dir():
            raise FetchError(f"there is no folder {str(out.parent)!r} to write {out.name!r} into.")
        write_atomic(out, seed_lines(data.frame).encode())
    except (FetchError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {len(data.frame):,} candles ({data.report.source}) to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def form_defaults(link: str | None, today: dt.date) -> tuple[str, str, tuple[dt.date, dt.date]]:
    """What the archive form starts from: a shared link's request, else BTCUSDT 1h over the last three full days."""
    try:
        request = parse_link(link)
    except FetchError:
        request = None
    if request:
        return request.symbol, request.interval, (request.first, request.last)
    return "BTCUSDT", "1h", (today - dt.timedelta(days=3), today - dt.timedelta(days=1))
