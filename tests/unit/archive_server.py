"""A loopback stand-in for Binance's public data archive: real-format daily kline zips and .CHECKSUM files that
the tests make themselves, served by http.server on 127.0.0.1; it records every request and can misbehave."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pytest

STEPS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400}


def day_klines(symbol: str, interval: str, day: dt.date, micro: bool | None = None) -> tuple[bytes, pd.DataFrame]:
    """One day of klines in the archive's CSV format (12 columns, no header) and the candles they hold.
    Open times are ms until 2024-12-31 and µs from 2025-01-01, as in the real archive (or as `micro` says)."""
    micro = day >= dt.date(2025, 1, 1) if micro is None else micro
    step = STEPS[interval]
    start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())
    seconds = start + step * np.arange(86400 // step)
    rng = np.random.default_rng(abs(hash((symbol, interval, day.isoformat()))) % 2**32)
    close = np.round(42000 + np.cumsum(rng.normal(0, 20, seconds.size)), 2)
    open_ = np.round(np.r_[close[0] - 5, close[:-1]], 2)
    high = np.round(np.maximum(open_, close) + rng.uniform(0, 9, seconds.size).round(2), 2)
    low = np.round(np.minimum(open_, close) - rng.uniform(0, 9, seconds.size).round(2), 2)
    volume = np.round(rng.uniform(0.5, 80, seconds.size), 8)
    scale = 1_000_000 if micro else 1000
    lines = [f"{t * scale},{o:.8f},{h:.8f},{lo:.8f},{c:.8f},{v:.8f},{(t + step) * scale - 1},"
             f"{v * c:.8f},{100 + i},{v / 2:.8f},{v * c / 2:.8f},0"
             for i, (t, o, h, lo, c, v) in enumerate(zip(seconds, open_, high, low, close, volume))]
    index = pd.DatetimeIndex((seconds * 1_000_000).astype("datetime64[us]"), name="timestamp")
    frame = pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index)
    return ("\n".join(lines) + "\n").encode(), frame


def day_zip(symbol: str, interval: str, day: dt.date, micro: bool | None = None) -> tuple[bytes, pd.DataFrame]:
    """The day's zip (one CSV inside, named like the archive's) and its candles."""
    csv, frame = day_klines(symbol, interval, day, micro)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{symbol}-{interval}-{day}.csv", csv)
    return buffer.getvalue(), frame


class Archive:
    """Files by URL path; `drop` paths send half their bytes then close the connection."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.drop: set[str] = set()
        self.requests: list[str] = []
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def add_day(self, symbol: str, interval: str, day: dt.date, micro: bool | None = None,
                checksum: str | None = None) -> pd.DataFrame:
        """Serve the day's zip and its .CHECKSUM; the candles it holds."""
        data, frame = day_zip(symbol, interval, day, micro)
        path = f"/data/spot/daily/klines/{symbol}/{interval}/{symbol}-{interval}-{day}.zip"
        digest = checksum or hashlib.sha256(data).hexdigest()
        self.files[path] = data
        self.files[path + ".CHECKSUM"] = f"{digest}  {symbol}-{interval}-{day}.zip\n".encode()
        return frame

    def _handler(self):
        archive = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                archive.requests.append(self.path)
                body = archive.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in archive.drop:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def archive(monkeypatch, tmp_path):
    """A running loopback archive that fetch.py is pointed at, with an empty cache of the test's own."""
    server = Archive()
    monkeypatch.setenv("AUTOGRAD_EXPLORER_BINANCE_URL", server.url)
    monkeypatch.setenv("AUTOGRAD_EXPLORER_CACHE", str(tmp_path / "cache"))
    yield server
    server.close()
