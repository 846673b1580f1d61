"""Get bytes from a path or upload, and read the table body in one fast pass (pyarrow's CSV reader)."""
from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Union

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from explorer.data.damage import Damage, scan_lines
from explorer.data.sniff import SNIFF_BYTES, Layout

Source = Union[str, Path, bytes, bytearray, memoryview, IO[bytes]]
_CHUNK = 1 << 20


@dataclass
class RawSource:
    """A candle file: its first bytes for sniffing, and either a path (read later) or all of its bytes."""
    head: bytes
    truncated: bool
    path: Path | None = None
    data: bytes | None = None
    label: str = "upload"


@dataclass
class Table:
    """The needed columns of the body, as pandas Series keyed by file column index."""
    columns: dict[int, pd.Series]
    rows_read: int
    damage: Damage = field(default_factory=Damage)
    lines: np.ndarray | None = None  # each row's line number in the file; None: not worked out (fast path)


def open_source(source: Source) -> RawSource:
    """Read just enough of a path to sniff it; read uploads (bytes or file-like) whole."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"There is no file at '{path}'.")
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES + 1)
        return RawSource(head[:SNIFF_BYTES], len(head) > SNIFF_BYTES, path=path, label=path.name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        if hasattr(source, "seek") and getattr(source, "seekable", lambda: True)():
            source.seek(0)  # an upload read once before (e.g. on a previous rerun) starts at its end
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
    return RawSource(data[:SNIFF_BYTES], len(data) > SNIFF_BYTES, data=data,
                     label=getattr(source, "name", "upload"))


def _first_lines(raw: RawSource, count: int) -> bytes:
    """The bytes of the first `count` lines (nrows), reading a path only as far as needed."""
    data = raw.data
    if data is None:
        chunks, seen = [], 0
        with raw.path.open("rb") as fh:  # type: ignore[union-attr]
            while seen < count and (chunk := fh.read(_CHUNK)):
                chunks.append(chunk)
                seen += chunk.count(b"\n")
        data = b"".join(chunks)
    if count > 1000:  # vectorised search beats a Python loop for long cuts
        newlines = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
        return data if newlines.size < count else data[: newlines[count - 1] + 1]
    end = -1
    for _ in range(count):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return data
    return data[: end + 1]


def _arrow_read(body, layout: Layout, used: list[int], text_cols: set[int], as_text: bool,
                float_cols: frozenset[int] = frozenset()) -> pa.Table:
    """One strict pyarrow pass over the body: typed numbers, or (as_text) every used column as text, for stray
    words among numbers. A line with the wrong number of fields makes it raise: see damage.py."""
    parse = pacsv.ParseOptions(delimiter=layout.sep, quote_char='"')
    read = pacsv.ReadOptions(column_names=[f"c{i}" for i in range(layout.ncols)], skip_rows=layout.skip_lines,
                             encoding="utf8" if layout.encoding == "utf-8" else layout.encoding)
    # Prices are typed, not inferred: a word among them ('open' of a repeated header) fails this pass wherever it is,
    # instead of silently turning the whole column into text when it happens to sit in the first block.
    types = {f"c{i}": pa.string() for i in used} if as_text else {
        **{f"c{i}": pa.float64() for i in float_cols}, **{f"c{i}": pa.string() for i in text_cols}}
    convert = pacsv.ConvertOptions(include_columns=[f"c{i}" for i in used], column_types=types)
    if hasattr(body, "seek"):
        body.seek(0)
    return pacsv.read_csv(body, read_options=read, parse_options=parse, convert_options=convert)


def _whitespace_read(body, layout: Layout, used: list[int]) -> pd.DataFrame:
    """Space-aligned files (runs of spaces between fields) need pandas' whitespace splitting."""
    return pd.read_csv(body, sep=r"\s+", header=None, names=[f"c{i}" for i in range(layout.ncols)],
                       usecols=[f"c{i}" for i in used], dtype=str, skiprows=layout.skip_lines,
                       encoding=layout.encoding, on_bad_lines="skip", quotechar='"', keep_default_na=False)


def body_bytes(raw: RawSource, layout: Layout, nrows: int | None) -> bytes:
    """All the bytes the table is read from (the first lines only, with nrows)."""
    if nrows is not None:
        return _first_lines(raw, layout.skip_lines + nrows)
    return raw.data if raw.data is not None else raw.path.read_bytes()  # type: ignore[union-attr]


def _scanned(raw: RawSource, layout: Layout, used: list[int], text_cols: set[int], nrows: int | None,
             float_cols: frozenset[int]) -> Table:
    """The slow, careful read: damaged lines set aside one by one (damage.py), the rest read as usual."""
    scan = scan_lines(body_bytes(raw, layout, nrows), layout)
    clean = replace(layout, skip_lines=0, encoding="utf-8")
    if layout.sep == " ":
        frame = _whitespace_read(io.BytesIO(scan.body), clean, used)
    else:
        try:
            frame = _arrow_read(pa.BufferReader(scan.body), clean, used, text_cols, False, float_cols).to_pandas()
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a stray word among numbers: read as text, parse later
            frame = _arrow_read(pa.BufferReader(scan.body), clean, used, text_cols, True).to_pandas()
    lines, damaged = scan.lines, sum(scan.damage.counts.values())
    if nrows is not None and len(frame) > nrows:  # old-Mac '\r' line endings slip past the newline cut
        frame, lines = frame.iloc[:nrows], lines[:nrows]
    return Table({i: frame[f"c{i}"] for i in used}, rows_read=len(frame) + damaged, damage=scan.damage,
                 lines=lines)


def read_table(raw: RawSource, layout: Layout, used: list[int], text_cols: set[int],
               nrows: int | None, careful: bool = False, float_cols: frozenset[int] = frozenset()) -> Table:
    """Read the needed columns of every data row (or the first nrows): one strict pass, or (careful, or when
    that pass fails) line by line, knowing each row's line number."""
    if careful or layout.sep == " ":
        return _scanned(raw, layout, used, text_cols, nrows, float_cols)
    if nrows is not None:
        body = pa.BufferReader(_first_lines(raw, layout.skip_lines + nrows))
    elif raw.data is not None:
        body = pa.BufferReader(raw.data)
    else:
        body = str(raw.path)
    try:
        table = _arrow_read(body, layout, used, text_cols, False, float_cols)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # A damaged line, or a stray word among numbers: read line by line so that only that line is lost.
        return _scanned(raw, layout, used, text_cols, nrows, float_cols)
    if nrows is not None and table.num_rows > nrows:
        table = table.slice(0, nrows)  # old-Mac '\r' line endings slip past the newline cut above
    frame = table.to_pandas()  # one multithreaded conversion beats converting column by column
    return Table({i: frame[f"c{i}"] for i in used}, rows_read=table.num_rows)
