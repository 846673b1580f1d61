"""Chromium: open the app, load the sample, upload a good and a bad CSV, see no exception."""
from __future__ import annotations

from explorer.data.sample import SAMPLE_PATH
from tests.e2e.helpers import assert_no_exception, open_page, shot, wait_idle


def upload(page, name: str, payload: bytes) -> None:
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": payload}])
    page.wait_for_timeout(500)
    wait_idle(page)


def test_data_page_load_and_upload(page, app_url, tmp_path):
    open_page(page, app_url, "data")
    assert_no_exception(page)
    page.get_by_role("button", name="Load the bundled sample").click()  # (its help tooltip repeats the label)
    wait_idle(page)
    body = page.locator("[data-testid=stMain]")
    assert "torch.float32" in body.inner_text()
    assert page.locator(".js-plotly-plot").count() >= 1
    shot(page, "data_sample")

    rows = b"".join(SAMPLE_PATH.read_bytes().splitlines(keepends=True)[:60])
    csv = b"Date,Open,High,Low,Close,Volume\r\n" + b"".join(
        b"%s,%s\r\n" % (__import__("datetime").datetime.utcfromtimestamp(int(r.split(b"|")[0])).isoformat().encode(),
                        b",".join(r.strip().split(b"|")[1:])) for r in rows.splitlines())
    upload(page, "my_candles.csv", csv)
    assert_no_exception(page)
    assert "upload: my_candles.csv" in page.locator("[data-testid=stSidebar]").inner_text()
    assert "[60, 5]" in body.inner_text()
    shot(page, "data_upload")

    upload(page, "junk.csv", b"\x00\xff\x10binary\x00junk" * 30)
    assert_no_exception(page)
    assert page.locator("[data-testid=stAlertContentError]").count() == 1
    assert "upload: my_candles.csv" in page.locator("[data-testid=stSidebar]").inner_text()  # old data stays
    shot(page, "data_bad_upload")


# --- Binance's public archive, served by a loopback stand-in (tests/unit/archive_server.py) -------------------------
import datetime as dt  # noqa: E402

import pytest  # noqa: E402

from tests.e2e.conftest import start_server  # noqa: E402
from tests.unit.archive_server import Archive  # noqa: E402


@pytest.fixture(scope="module")
def archive_app(tmp_path_factory):
    """An app whose archive is a loopback server holding BTCUSDT 1h for the page's default days (the last three)."""
    archive = Archive()
    today = dt.datetime.now(dt.timezone.utc).date()
    for back in (3, 2, 1):
        archive.add_day("BTCUSDT", "1h", today - dt.timedelta(days=back))
    proc, url = start_server(extra_env={"AUTOGRAD_EXPLORER_BINANCE_URL": archive.url,
                                        "AUTOGRAD_EXPLORER_CACHE": str(tmp_path_factory.mktemp("cache"))})
    yield archive, url
    proc.terminate()
    proc.wait(timeout=20)
    archive.close()


def test_fetch_from_the_archive_shows_progress_then_candles_and_a_failure_keeps_them(page, archive_app):
    archive, url = archive_app
    open_page(page, url, "data")
    page.get_by_role("button", name="Fetch from the archive").click()
    wait_idle(page)
    assert_no_exception(page)
    body = page.locator("[data-testid=stMain]")
    bars = page.locator("[data-testid=stProgress]")
    assert bars.count() == 3 and "(3 of 3) ✓" in bars.nth(2).inner_text()
    assert "Loaded 72 candles" in body.inner_text() and "[72, 5]" in body.inner_text()
    assert "Binance archive: BTCUSDT 1h" in page.locator("[data-testid=stSidebar]").inner_text()
    assert "data=binance%3ABTCUSDT%3A1h%3A" in page.url or "data=binance:BTCUSDT:1h:" in page.url
    shot(page, "data_archive_fetched")

    symbol = page.get_by_label("Symbol", exact=True).and_(page.locator("input"))
    symbol.fill("NOPEUSDT")
    symbol.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Fetch from the archive").click()
    wait_idle(page)
    assert_no_exception(page)
    error = page.locator("[data-testid=stAlertContentError]").inner_text()
    assert "not in the archive (HTTP 404)" in error and "still loaded" in error
    assert "Binance archive: BTCUSDT 1h" in page.locator("[data-testid=stSidebar]").inner_text()  # old data stays
    assert "[72, 5]" in body.inner_text()
    shot(page, "data_archive_failure")

    shared = page.url
    requests = len(archive.requests)
    page.goto(shared)  # the link, opened afresh: the same candles, from the cache
    page.wait_for_selector("[data-testid=stApp]", timeout=60_000)
    wait_idle(page)
    assert_no_exception(page)
    assert "[72, 5]" in page.locator("[data-testid=stMain]").inner_text()
    assert len(archive.requests) == requests


def test_data_page_presenter_mode_fits_1280x720(browser, archive_app):
    archive, url = archive_app
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    open_page(page, url, "data?present=1")
    assert_no_exception(page)
    page.get_by_role("button", name="Fetch from the archive").click()
    wait_idle(page)
    assert_no_exception(page)
    shot(page, "data_archive_present_1280x720")
    context.close()


def test_damaged_upload_names_the_dropped_lines(page, app_url):
    open_page(page, app_url, "data")
    rows = [f"{1_600_000_000 + 60 * i},{100 + i},{102 + i},{99 + i},{101 + i},{10 + i}" for i in range(40)]
    rows[10] = f"{1_600_000_600},1,2"               # too few fields: line 12
    rows[25] = f'{1_600_001_500},"1,2,0.5,1.5,3'   # unclosed quote: line 27
    upload(page, "damaged.csv", ("time,open,high,low,close,volume\n" + "\n".join(rows) + "\n").encode())
    assert_no_exception(page)
    body = page.locator("[data-testid=stMain]").inner_text()
    assert "Loaded 38 candles from damaged.csv" in body
    assert "1 too few fields (line 12), 1 unclosed quote (line 27)" in body
    shot(page, "data_damaged_upload")
