"""`python -m explorer.fetch SYMBOL INTERVAL FIRST_DAY [LAST_DAY] -o FILE`, run as a teacher would, against the
loopback archive: the seed's format on success; one line, a non-zero exit and no file on any failure."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from explorer.data.fetch import main
from explorer.data.loader import load_candles
from tests.unit.archive_server import Archive

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def archive():
    server = Archive()
    yield server
    server.close()


def run(archive: Archive, tmp_path: Path, *args: str, module: str = "explorer.fetch") -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRAD_EXPLORER_BINANCE_URL": archive.url, "AUTOGRAD_EXPLORER_CACHE": str(tmp_path / "c"),
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)


def test_writes_the_seeds_format(archive, tmp_path):
    frames = [archive.add_day("BTCUSDT", "1h", dt.date(2024, 12, 31)), archive.add_day("BTCUSDT", "1h",
                                                                                        dt.date(2025, 1, 1))]
    out = tmp_path / "btc.csv"
    result = run(archive, tmp_path, "BTCUSDT", "1h", "2024-12-31", "2025-01-01", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote 48 candles (Binance archive: BTCUSDT 1h, 2024-12-31 → 2025-01-01) to {out}"
    lines = out.read_text().splitlines()
    assert len(lines) == 48 and lines[0].split("|")[0] == "1735603200" and len(lines[0].split("|")) == 6
    data = load_candles(out)
    assert data.report.format.startswith("the seed's format")
    pd.testing.assert_frame_equal(data.frame, pd.concat(frames), check_freq=False)


@pytest.mark.parametrize("case, args, message", [
    ("missing day", ["BTCUSDT", "1h", "2024-03-05", "2024-03-06"], "error: 2024-03-06: not in the archive (HTTP 404)"),
    ("bad checksum", ["ETHUSDT", "1h", "2024-03-05"], "error: 2024-03-05: the checksum does not match"),
    ("dropped", ["BNBUSDT", "1h", "2024-03-05"], "error: 2024-03-05: the connection dropped while downloading"),
    ("bad symbol", ["BTC-USDT", "1h", "2024-03-05"], "error: The symbol must be 2 to 20 letters or digits"),
    ("bad interval", ["BTCUSDT", "2m", "2024-03-05"], "error: The interval must be one of"),
    ("bad day", ["BTCUSDT", "1h", "2024-02-30"], "error: The first day must be a date written YYYY-MM-DD"),
    ("no output", ["BTCUSDT", "1h", "2024-03-05"], "error: the following arguments are required: -o/--output"),
])
def test_any_failure_is_one_line_a_nonzero_exit_and_no_file(archive, tmp_path, monkeypatch, capsys, case, args,
                                                            message):
    """In-process (main(argv)) for speed; the subprocess tests around it run the real command."""
    monkeypatch.setenv("AUTOGRAD_EXPLORER_BINANCE_URL", archive.url)
    monkeypatch.setenv("AUTOGRAD_EXPLORER_CACHE", str(tmp_path / "c"))
    day = dt.date(2024, 3, 5)
    archive.add_day("BTCUSDT", "1h", day)
    archive.add_day("ETHUSDT", "1h", day, checksum=hashlib.sha256(b"other").hexdigest())
    archive.add_day("BNBUSDT", "1h", day)
    archive.drop.add("/data/spot/daily/klines/BNBUSDT/1h/BNBUSDT-1h-2024-03-05.zip")
    out = tmp_path / "out.csv"
    try:
        code = main([*args, *([] if case == "no output" else ["-o", str(out)])])
    except SystemExit as exit_:  # argparse's own refusals
        code = exit_.code
    captured = capsys.readouterr()
    assert code != 0 and captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith(message), captured.err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name != "c"]


def test_a_failure_from_the_real_command(archive, tmp_path):
    out = tmp_path / "out.csv"
    result = run(archive, tmp_path, "BTCUSDT", "1h", "2024-03-05", "-o", str(out))
    assert result.returncode == 1 and result.stdout == "" and not out.exists()
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: 2024-03-05: not in the archive")


def test_unwritable_output_folder_is_one_line(archive, tmp_path):
    archive.add_day("BTCUSDT", "1h", dt.date(2024, 3, 5))
    result = run(archive, tmp_path, "BTCUSDT", "1h", "2024-03-05", "-o", str(tmp_path / "nope" / "x.csv"),
                 module="explorer.data.fetch")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: there is no folder") and not (tmp_path / "nope").exists()
