"""Candles from Binance's public archive, against a loopback stand-in the tests start (tests/unit/archive_server.py):
real-format zips load exactly, ms and µs days alike; every failure names the day; the cache saves the second trip."""
from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import pytest

from explorer.data.archive_cache import ArchiveCache
from explorer.data.fetch import (MAX_DAYS, FetchError, fetch_candles, file_url, make_request, parse_link,
                                 seed_lines)
from explorer.data.loader import load_candles
from tests.unit.archive_server import archive  # noqa: F401 (the fixture)

DAY = dt.date(2024, 3, 5)
ZIP = "/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-03-05.zip"


def test_a_real_format_day_loads_to_its_candles_exactly(archive):
    expected = archive.add_day("BTCUSDT", "1h", DAY)
    data = fetch_candles("BTCUSDT", "1h", "2024-03-05")
    pd.testing.assert_frame_equal(data.frame, expected, check_freq=False)
    assert data.frame.index[0] == pd.Timestamp("2024-03-05 00:00") and len(data.frame) == 24
    assert data.report.time_unit == "unix milliseconds" and data.report.interval == pd.Timedelta(hours=1)
    assert data.report.source == "Binance archive: BTCUSDT 1h, 2024-03-05"
    assert archive.requests == [ZIP + ".CHECKSUM", ZIP]


def test_microsecond_days_load_and_join_millisecond_days(archive):
    days = [dt.date(2024, 12, 30), dt.date(2024, 12, 31), dt.date(2025, 1, 1), dt.date(2025, 1, 2)]
    frames = [archive.add_day("BTCUSDT", "15m", day) for day in days]
    data = fetch_candles("BTCUSDT", "15m", days[0], days[-1])
    pd.testing.assert_frame_equal(data.frame, pd.concat(frames), check_freq=False)
    assert data.report.time_unit == ("unix milliseconds from 2024-12-30, then unix microseconds from 2025-01-01")
    assert data.report.gaps == 0 and data.report.rows_kept == 4 * 96
    assert data.frame.index.is_monotonic_increasing and data.frame.index.is_unique


def test_progress_is_reported_per_file(archive):
    for day in (DAY, DAY + dt.timedelta(days=1)):
        archive.add_day("ETHUSDT", "5m", day)
    seen = []
    fetch_candles("ETHUSDT", "5m", DAY, DAY + dt.timedelta(days=1), progress=lambda *args: seen.append(args))
    assert {(i, n, day) for i, n, day, _ in seen} == {(0, 2, DAY), (1, 2, DAY + dt.timedelta(days=1))}
    assert [f for i, _, _, f in seen if i == 0][-1] == 1.0 and [f for i, _, _, f in seen if i == 1][-1] == 1.0


def test_second_fetch_comes_from_the_cache_with_no_request(archive, tmp_path):
    expected = archive.add_day("BTCUSDT", "1h", DAY)
    fetch_candles("BTCUSDT", "1h", DAY)
    archive.requests.clear()
    archive.files.clear()  # the archive is gone: only the cache can answer
    data = fetch_candles("BTCUSDT", "1h", DAY)
    pd.testing.assert_frame_equal(data.frame, expected, check_freq=False)
    assert archive.requests == []
    assert (tmp_path / "cache/BTCUSDT/1h/BTCUSDT-1h-2024-03-05.zip").is_file()


def test_a_cached_file_damaged_on_disk_is_fetched_again(archive, tmp_path):
    expected = archive.add_day("BTCUSDT", "1h", DAY)
    fetch_candles("BTCUSDT", "1h", DAY)
    cached = tmp_path / "cache/BTCUSDT/1h/BTCUSDT-1h-2024-03-05.zip"
    cached.write_bytes(cached.read_bytes()[:-10])
    archive.requests.clear()
    pd.testing.assert_frame_equal(fetch_candles("BTCUSDT", "1h", DAY).frame, expected, check_freq=False)
    assert archive.requests == [ZIP + ".CHECKSUM", ZIP]


def test_bad_checksum_is_refused_and_nothing_cached(archive, tmp_path):
    archive.add_day("BTCUSDT", "1h", DAY, checksum=hashlib.sha256(b"something else").hexdigest())
    with pytest.raises(FetchError, match=r"^2024-03-05: the checksum does not match: BTCUSDT-1h-2024-03-05.zip"):
        fetch_candles("BTCUSDT", "1h", DAY)
    assert not list(tmp_path.rglob("*.zip"))


def test_a_missing_day_names_the_day(archive):
    archive.add_day("BTCUSDT", "1h", DAY)
    with pytest.raises(FetchError, match=r"^2024-03-06: not in the archive \(HTTP 404\)"):
        fetch_candles("BTCUSDT", "1h", DAY, DAY + dt.timedelta(days=1))


def test_a_dropped_connection_names_the_day(archive):
    archive.add_day("BTCUSDT", "1h", DAY)
    archive.drop.add(ZIP)
    with pytest.raises(FetchError, match=r"^2024-03-05: the connection dropped while downloading"):
        fetch_candles("BTCUSDT", "1h", DAY)


def test_unreachable_archive_names_the_day(archive, monkeypatch):
    archive.close()
    with pytest.raises(FetchError, match=r"^2024-03-05: could not reach the archive at 127\.0\.0\.1:\d+ .*offline"):
        fetch_candles("BTCUSDT", "1h", DAY)


def test_server_error_names_the_day(archive):
    archive.files[ZIP + ".CHECKSUM"] = b"not a checksum"
    archive.files[ZIP] = b"PK"
    with pytest.raises(FetchError, match=r"^2024-03-05: the archive's checksum file .* is not a SHA-256 line"):
        fetch_candles("BTCUSDT", "1h", DAY)


def test_a_zip_that_is_not_a_zip_names_the_day(archive):
    archive.files[ZIP] = b"this is not a zip"
    archive.files[ZIP + ".CHECKSUM"] = f"{hashlib.sha256(b'this is not a zip').hexdigest()}  x.zip".encode()
    with pytest.raises(FetchError, match=r"checksum file for BTCUSDT-1h-2024-03-05.zip is not"):
        fetch_candles("BTCUSDT", "1h", DAY)  # names another file: refused
    archive.files[ZIP + ".CHECKSUM"] = hashlib.sha256(b"this is not a zip").hexdigest().encode()
    with pytest.raises(FetchError, match=r"^2024-03-05: the archive's zip could not be opened"):
        fetch_candles("BTCUSDT", "1h", DAY)


@pytest.mark.parametrize("args, message", [
    (("btc/../x", "1h", "2024-01-01"), "symbol must be 2 to 20 letters or digits"),
    (("BTCUSDT?x=1", "1h", "2024-01-01"), "symbol must be"),
    (("B", "1h", "2024-01-01"), "symbol must be"),
    (("BTCUSDT", "7m", "2024-01-01"), "interval must be one of 1m, 3m"),
    (("BTCUSDT", "1h", "2024-13-01"), "first day must be a date written YYYY-MM-DD"),
    (("BTCUSDT", "1h", "yesterday"), "first day must be"),
    (("BTCUSDT", "1h", "2024-01-05", "2024-01-01"), r"last day \(2024-01-01\) is before the first day"),
    (("BTCUSDT", "1h", "2024-01-01", "2024-02-01"), f"At most {MAX_DAYS} days at a time"),
    (("BTCUSDT", "1h", "2016-12-31"), r"The archive's days run from 2017-01-01 to today"),
    (("BTCUSDT", "1h", "2024-01-01", "2999-01-01"), r"The archive's days run from 2017-01-01 to today"),
])
def test_bad_requests_are_refused_before_any_request(archive, args, message):
    with pytest.raises(FetchError, match=message):
        fetch_candles(*args)
    assert archive.requests == []


def test_url_is_built_from_validated_parts_only(monkeypatch):
    monkeypatch.delenv("AUTOGRAD_EXPLORER_BINANCE_URL", raising=False)
    request = make_request(" ethbtc ", "1d", "2024-01-31")
    assert file_url(request, request.first, ".CHECKSUM") == ("https://data.binance.vision/data/spot/daily/klines/"
                                                              "ETHBTC/1d/ETHBTC-1d-2024-01-31.zip.CHECKSUM")
    monkeypatch.setenv("AUTOGRAD_EXPLORER_BINANCE_URL", "file:///etc")
    with pytest.raises(FetchError, match="must be an http"):
        file_url(request, request.first)


def test_links_round_trip_and_bad_links_are_refused():
    request = make_request("BTCUSDT", "4h", "2024-01-01", "2024-01-07")
    assert request.link() == "binance:BTCUSDT:4h:2024-01-01:2024-01-07" and parse_link(request.link()) == request
    assert parse_link("sample:500") is None and parse_link(None) is None
    with pytest.raises(FetchError, match="At most 31 days"):
        parse_link("binance:BTCUSDT:4h:2024-01-01:2024-06-07")


def test_cache_evicts_the_least_recently_used_beyond_its_cap(tmp_path):
    cache = ArchiveCache(tmp_path, cap_bytes=250)
    for i, name in enumerate(["a.zip", "b.zip", "c.zip"]):
        cache.put(f"S/1m/{name}", bytes([i]) * 100)
    assert sorted(p.name for p in tmp_path.rglob("*.zip")) == ["b.zip", "c.zip"]
    assert cache.get("S/1m/a.zip") is None and cache.get("S/1m/b.zip") == bytes([1]) * 100


def test_seed_lines_are_the_seeds_format_and_load_back(archive):
    expected = archive.add_day("BTCUSDT", "1h", DAY)
    text = seed_lines(fetch_candles("BTCUSDT", "1h", DAY).frame)
    assert text.splitlines()[0].startswith("1709596800|") and text.count("\n") == 24
    back = load_candles(text.encode())
    assert back.report.format.startswith("the seed's format")
    pd.testing.assert_frame_equal(back.frame, expected, check_freq=False)
