"""Damaged lines: find them one by one, so that a bad line costs only itself, and say which lines went and why.

The fast path (one strict pyarrow pass) never comes here. When that pass fails, or when cleaning drops rows, the
body is scanned line by line: a line with too many or too few fields, an unclosed quote, a repeated header, a NUL
byte or bytes that are not text is set aside with its line number; every other line is kept, in order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from explorer.data.sniff import Layout, split_line

EXAMPLES = 5  # line numbers listed per load report
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the same line ends as pyarrow's reader


@dataclass
class Damage:
    """Lines set aside: a count per reason and the first few (line number, reason)."""
    counts: dict[str, int] = field(default_factory=dict)
    examples: list[tuple[int, str]] = field(default_factory=list)
    blank: int = 0

    def add(self, line: int, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        if len(self.examples) < EXAMPLES:
            self.examples.append((line, reason))


@dataclass
class Scan:
    """The kept data lines as clean UTF-8 text, the file line number (1-based) of each, and what was set aside."""
    body: bytes
    lines: np.ndarray
    damage: Damage


def _reason(line: str, sep: str, ncols: int, header: list[str] | None) -> str | None:
    """Why this (non-blank) line cannot be a data row, or None when it can."""
    if "\x00" in line:
        return "NUL byte in the line"
    if "\ufffd" in line:
        return "bytes that are not text"
    quotes = line.count('"')
    if quotes % 2:
        return "unclosed quote"
    fields = split_line(line, sep) if quotes or sep == " " else line.split(sep)
    if header is not None and len(fields) == len(header) and \
            [f.strip().strip('"').strip() for f in fields] == header:
        return "the header repeated"
    if len(fields) != ncols:
        return f"too {'many' if len(fields) > ncols else 'few'} fields"
    return None


def _per_line(data: bytes, arr: np.ndarray, value: int, ends: np.ndarray) -> np.ndarray:
    """How many times the byte `value` occurs on each line (lines given by their end positions)."""
    if bytes([value]) not in data:
        return np.zeros(ends.size, dtype=np.int64)
    before = np.searchsorted(np.flatnonzero(arr == value), ends)  # occurrences before each line's end
    return np.diff(before, prepend=0)


def _fast_scan(body: bytes, layout: Layout) -> Scan | None:
    """The scan, vectorised for the usual file (UTF-8, '\n' or '\r\n' line ends, rows starting with a number): only
    lines with a wrong separator count, a quote or a NUL are looked at one by one. None: use the plain scan."""
    data = body.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
    numeric_rows = all(r and r[0][:1] in tuple("0123456789+-.") for r in layout.rows)
    if layout.sep == " " or layout.encoding != "utf-8" or b"\r" in data or not numeric_rows:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    arr = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(arr == 10)
    ends = ends if data.endswith(b"\n") else np.append(ends, len(data))
    starts = np.r_[0, ends[:-1] + 1]
    first = arr[np.minimum(starts, max(len(data) - 1, 0))] if len(data) else np.zeros(0, np.uint8)
    odd = (_per_line(data, arr, ord(layout.sep), ends) != layout.ncols - 1) | (_per_line(data, arr, 34, ends) > 0) \
        | (_per_line(data, arr, 0, ends) > 0) | ~np.isin(first, np.frombuffer(b"0123456789+-.", np.uint8))
    keep = ends > starts  # empty lines are skipped
    keep[: layout.skip_lines] = False
    damage = Damage(blank=int((~keep[layout.skip_lines:]).sum()))
    for i in np.flatnonzero(odd & keep):
        line = data[starts[i]:ends[i]].decode("utf-8")
        why = None if line.strip() else "blank"
        why = why or _reason(line, layout.sep, layout.ncols, layout.header)
        if why is not None:
            keep[i] = False
            damage.blank += why == "blank"
            if why != "blank":
                damage.add(int(i) + 1, why)
    pieces, prev = [], int(starts[layout.skip_lines]) if layout.skip_lines < starts.size else len(data)
    for i in np.flatnonzero(~keep[layout.skip_lines:]) + layout.skip_lines:
        pieces.append(data[prev:starts[i]])
        prev = int(ends[i]) + 1
    joined = b"".join(pieces) + data[prev:]
    joined += b"\n" * (bool(joined) and not joined.endswith(b"\n"))
    return Scan(joined, np.flatnonzero(keep) + 1, damage)


def scan_lines(body: bytes, layout: Layout) -> Scan:
    """Keep each line that can be a data row; set the others aside with a reason. Blank lines are skipped."""
    fast = _fast_scan(body, layout)
    if fast is not None:
        return fast
    encoding = "utf-8" if layout.encoding == "utf-8" else "latin-1"
    text = body.removeprefix(b"\xef\xbb\xbf").decode(encoding, errors="replace")
    raw_lines = _LINE_BREAK.split(text)
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()  # the file's final line end
    damage, kept, numbers = Damage(), [], []
    for index in range(layout.skip_lines, len(raw_lines)):
        line = raw_lines[index]
        if not line.strip():
            damage.blank += 1
            continue
        why = _reason(line, layout.sep, layout.ncols, layout.header)
        if why is None:
            kept.append(line)
            numbers.append(index + 1)
        else:
            damage.add(index + 1, why)
    joined = "\n".join(kept) + ("\n" if kept else "")
    return Scan(joined.encode("utf-8"), np.asarray(numbers, dtype=np.int64), damage)


def describe(counts: dict[str, int], examples: list[tuple[int, str]]) -> str:
    """'2 too few fields (lines 4, 9), 1 unclosed quote (line 12 …)' for the report: each reason with its count and
    the line numbers among the first few examples."""
    if not counts:
        return "none"
    parts = []
    for why, n in counts.items():
        lines = [str(line) for line, reason in sorted(examples) if reason == why]
        where = f" (line{'s' * (len(lines) > 1)} {', '.join(lines)}{' …' * (n > len(lines))})" if lines else ""
        parts.append(f"{n} {why}{where}")
    return ", ".join(parts)
