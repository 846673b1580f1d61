"""Sniff a candle file's layout from its first few kilobytes: encoding, separator, banner lines, header."""
from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field

SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 200
# Tried in this order; on a tie in column count the earlier one wins (comma is the most common).
SEPARATORS = (",", "\t", ";", "|", " ")
SEPARATOR_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe", " ": "space(s)"}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
MISSING = {"", "null", "none", "nan", "na", "n/a", "#n/a", "-", "--"}


class SniffError(ValueError):
    """The first kilobytes already show the file is not a text table (converted to CandleFormatError)."""


@dataclass
class Layout:
    """How the table is laid out in the file, as far as the first lines tell."""
    encoding: str
    sep: str
    skip_lines: int            # raw lines before the first data row (banners, blank lines, header)
    banner_lines: list[str]    # lines before the table, e.g. a URL
    header: list[str] | None   # column names from the file, if it has a header row
    ncols: int                 # fields per data row (a trailing empty column included)
    rows: list[list[str]]      # a sample of data rows, split into fields
    trailing_empty: bool = False  # every row ends with a separator: an empty extra column
    notes: list[str] = field(default_factory=list)


def is_number(text: str) -> bool:
    """True for plain decimal numbers such as '4261.48', '1e3' or '1502942400'."""
    return bool(_NUMBER.match(text.strip()))


def is_missing(text: str) -> bool:
    """True for empty cells and the usual spellings of 'no value'."""
    return text.strip().lower() in MISSING


def decode_head(head: bytes) -> tuple[str, str]:
    """Decode the first bytes as text, refusing binary and compressed files with a reason."""
    if head.startswith(b"PK\x03\x04") and b"xl/" in head:
        raise SniffError("This is an Excel workbook, not a CSV: save the sheet as CSV and load that.")
    if head.startswith((b"\x1f\x8b", b"PK\x03\x04", b"BZh", b"\xfd7zXZ")):
        raise SniffError("This looks like a compressed file (zip/gzip), not a CSV: unpack it and load the CSV inside.")
    start = head.lstrip()[:64].lower()
    if start.startswith((b"<!doctype html", b"<html", b"<?xml")):
        raise SniffError("This is a web page or XML, not a CSV: download the raw CSV file itself.")
    if start.startswith((b"[{", b'{"')):
        raise SniffError("This is JSON, not a CSV: candles must be a table of comma- (or tab-, pipe-) "
                         "separated values.")
    if head.startswith(b"PAR1"):
        raise SniffError("This is a Parquet file, not a CSV text file.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SniffError("The file is saved as UTF-16 text; save it as UTF-8 (or plain CSV) and load it again.")
    control = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    lines = head.count(b"\n") + 1
    nul_lines = sum(b"\x00" in line for line in head.split(b"\n")) if b"\x00" in head else 0
    if nul_lines > max(1, lines // 100) or control - head.count(b"\x00") > max(2, len(head) // 100):
        # a NUL byte on a line or two is damage to those lines (damage.py); more is a binary file
        raise SniffError("This does not look like a text CSV file: it contains binary data.")
    head = head.removeprefix(b"\xef\xbb\xbf")
    try:
        return head.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        if err.start >= len(head) - 3:  # a multi-byte character cut by the sniff window
            return head[: err.start].decode("utf-8"), "utf-8"
    return head.decode("latin-1"), "latin-1"


def split_line(line: str, sep: str) -> list[str]:
    """Split one line into fields, honouring double quotes; runs of spaces count as one separator."""
    if sep == " ":
        return next(csv.reader([line.strip()], delimiter=" ", quotechar='"', skipinitialspace=True), [])
    return [f.strip() for f in next(csv.reader([line], delimiter=sep, quotechar='"'), [])]


def _table_start(counts: list[int], mode: int) -> int:
    """First line from which the rows mostly have the modal field count (earlier lines are banners).

    'Mostly' (half of the next ten): a damaged line among the first rows must not push the table's start past it (and the good rows
    above it into the banner)."""
    for i, n in enumerate(counts):
        after = counts[i + 1:i + 11]
        if abs(n - mode) <= 1 and n >= 2 and (not after or sum(c == mode for c in after) >= 0.5 * len(after)):
            return i
    return len(counts)


def _score(lines: list[str], sep: str) -> tuple[int, int, list[list[str]]]:
    """(field count, first table line, split lines) for one candidate separator; count 0 if inconsistent."""
    split = [split_line(line, sep) for line in lines]
    counts = [len(f) for f in split]
    body = counts[len(counts) // 2:] or counts  # the second half is past any banner
    mode = Counter(body).most_common(1)[0][0]
    end = len(counts)
    while end > 1 and len(counts) - end < 2 and counts[end - 1] != mode and counts[:end].count(mode) > 2:
        end -= 1  # up to two footer lines ('Total rows: 2') under a real table do not decide the separator
    start = _table_start(counts[:end], mode)
    rows = counts[start + 1:end] or counts[start:end]  # the first table line may be a header with one field less
    if mode < 2 or not rows or sum(c == mode for c in rows) < 0.8 * len(rows):
        return 0, start, split
    return mode, start, split


def _looks_like_header(first: list[str], rest: list[list[str]]) -> bool:
    """A header has a name where later rows have numbers, or is literally 0, 1, 2, …."""
    if [f.strip() for f in first] == [str(i) for i in range(len(first))] and len(first) > 2:
        return True
    for j, name in enumerate(first):
        if is_number(name) or is_missing(name):
            continue
        below = [r[j] for r in rest[:20] if j < len(r) and not is_missing(r[j])]
        if below and sum(is_number(v) for v in below) >= 0.8 * len(below):
            return True
        # 'Date' above '2020-01-01': a word without digits over values that all have digits
        if below and not re.search(r"\d", name) and all(re.search(r"\d", v) for v in below):
            return True
        if not rest and not re.search(r"\d", name):  # a lone line of words is a header with no data
            return True
    return False


def sniff(head: bytes, *, sep: str | None = None, truncated: bool = False) -> Layout:
    """Work out encoding, separator, banner lines and header from the first kilobytes of a file."""
    text, encoding = decode_head(head)
    raw_lines = _LINE_BREAK.split(text)  # not str.splitlines: it also breaks at \x85 and \u2028, pyarrow does not
    if truncated and len(raw_lines) > 1:
        raw_lines = raw_lines[:-1]  # the last line may be cut in the middle
    numbered = [(i, line) for i, line in enumerate(raw_lines) if line.strip()][:SNIFF_LINES]
    if not numbered:
        raise SniffError("The file is empty: there are no candles to load.")
    lines = [line for _, line in numbered]
    candidates = [sep] if sep else list(SEPARATORS)
    scored = []
    for rank, cand in enumerate(candidates):
        mode, start, split = _score(lines, " " if cand.isspace() and cand != "\t" else cand)
        # The separator that also splits the header (fewest banner lines) wins, then the most columns:
        # so '2020-01-01;4261,48' is semicolon-separated and ISO times do not make a file space-separated.
        scored.append(((mode > 0, -start, mode, -rank), (mode, start, split, cand)))
    mode, start, split, chosen = max(scored, key=lambda item: item[0])[1]
    if mode == 0:
        if sep:
            raise SniffError(f"The rows do not split into the same number of columns with the separator {sep!r}.")
        raise SniffError("Could not find a column separator: the lines do not split into columns with a comma, "
                         "tab, semicolon, pipe or spaces.")
    table = split[start:]
    header = table[0] if _looks_like_header(table[0], table[1:]) else None
    rows = [r for r in (table[1:] if header else table) if len(r) == mode and r != header
            and not any("\x00" in f for f in r)]  # ragged, repeated, damaged aside
    first_data = start + (1 if header else 0)
    skip = numbered[first_data][0] if first_data < len(numbered) else len(raw_lines)
    layout = Layout(encoding=encoding, sep=chosen, skip_lines=skip, banner_lines=lines[:start],
                    header=[h.strip().strip('"').strip() for h in header] if header else None,
                    ncols=mode, rows=rows)
    if rows and all(r and r[-1] == "" for r in rows) and mode > 2:
        layout.trailing_empty = True
        layout.notes.append("Every row ends with a separator, which makes an empty extra column; it is ignored.")
    if encoding != "utf-8":
        layout.notes.append("The file is not UTF-8; it was read as Latin-1.")
    return layout
