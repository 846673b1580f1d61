"""Time load_candles on a 1,000,000-row seed-format file against a bare pandas.read_csv(engine="pyarrow").

Run: .venv/bin/python bench/bench_load.py [rows]   — the last line printed is the ratio.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer.loader import load_candles  # noqa: E402
from explorer.sample import generate_candles  # noqa: E402

ROWS = 1_000_000
REPEATS = 3
NAMES = ["timestamp", "open", "high", "low", "close", "volume"]


def write_seed_file(path: Path, rows: int = ROWS) -> Path:
    """Write `rows` synthetic candles in the seed's format (pipe, no header, unix seconds), vectorised."""
    frame = generate_candles(rows)
    seconds = (frame.index.to_numpy().astype("datetime64[s]").astype("int64")).astype(str)
    fields = [seconds] + [np.char.mod("%.2f", frame[c].to_numpy()) for c in ("open", "high", "low", "close")]
    fields.append(np.char.mod("%.6f", frame["volume"].to_numpy()))
    lines = fields[0]
    for column in fields[1:]:
        lines = np.char.add(np.char.add(lines, "|"), column)
    path.write_text("\n".join(lines.tolist()) + "\n")
    return path


def best_of(fn, repeats: int = REPEATS) -> float:
    """The fastest of `repeats` wall-clock timings, in seconds (least disturbed by other processes)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(rows: int = ROWS) -> dict[str, float]:
    """Write the file, time the three reads, return their numbers."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_seed_file(Path(tmp) / "candles.csv", rows)
        loaded = load_candles(path, sep="|", names=NAMES)
        assert len(loaded.frame) == rows, "the benchmark file must load completely"
        baseline = best_of(lambda: pd.read_csv(path, sep="|", header=None, engine="pyarrow"))
        given = best_of(lambda: load_candles(path, sep="|", names=NAMES))
        detected = best_of(lambda: load_candles(path))
        baseline = min(baseline, best_of(lambda: pd.read_csv(path, sep="|", header=None, engine="pyarrow")))
    return {"rows": rows, "pyarrow_read_csv_s": baseline, "load_candles_s": given,
            "load_candles_autodetect_s": detected, "ratio": given / baseline,
            "ratio_autodetect": detected / baseline}


if __name__ == "__main__":
    result = main(int(sys.argv[1]) if len(sys.argv) > 1 else ROWS)
    print(f"rows: {result['rows']:,}")
    print(f"pandas.read_csv(engine='pyarrow'): {result['pyarrow_read_csv_s'] * 1000:.1f} ms (best of {REPEATS})")
    print(f"load_candles(sep='|', names=…): {result['load_candles_s'] * 1000:.1f} ms")
    print(f"load_candles(autodetect): {result['load_candles_autodetect_s'] * 1000:.1f} ms "
          f"(ratio {result['ratio_autodetect']:.2f}x)")
    print(f"ratio load_candles/pyarrow: {result['ratio']:.2f}x")
