"""Chromium: the server's upload cap refuses a file just over it with a message, and user-supplied file names are
shown as text, never as HTML or markdown."""
from __future__ import annotations

import tomllib
from pathlib import Path

from tests.e2e.helpers import assert_no_exception, open_page, shot, wait_idle

ROOT = Path(__file__).resolve().parents[2]
CAP_MB = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
HEADER = b"timestamp,open,high,low,close,volume\n"


def candle_csv(n: int) -> bytes:
    return HEADER + b"".join(b"%d,%d,%d,%d,%d,1\n" % (1_700_000_000 + 60 * i, 100 + i, 102 + i, 99 + i, 101 + i)
                             for i in range(n))


def upload(page, name: str, payload: bytes) -> None:
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": payload}])
    page.wait_for_timeout(500)
    wait_idle(page)


def sidebar(page) -> str:
    return page.locator("[data-testid=stSidebar]").inner_text()


def test_upload_just_over_the_cap_is_refused_and_the_app_keeps_working(page, app_url, tmp_path):
    open_page(page, app_url, "data")
    upload(page, "small.csv", candle_csv(30))
    assert "upload: small.csv" in sidebar(page)
    over = tmp_path / "too_big.csv"  # 1 kB over the cap (Playwright passes big files by path)
    over.write_bytes(candle_csv(30) + b"#" * (CAP_MB * 1024 * 1024 + 1024))
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(over))
    wait_idle(page)
    uploader = page.locator("[data-testid=stFileUploader]").first
    page.wait_for_function("() => document.body.innerText.includes('or smaller')", timeout=30_000)
    assert f"{CAP_MB}" in uploader.inner_text() and "or smaller" in uploader.inner_text()
    assert_no_exception(page)
    shot(page, "limits_upload_over_cap")
    assert "upload: small.csv" in sidebar(page)  # nothing reached the server: the data loaded before stays
    page.get_by_text("Load the bundled sample").click()  # and the app still answers
    wait_idle(page)
    assert "synthetic sample" in sidebar(page)
    assert_no_exception(page)


def test_file_name_with_html_and_markdown_is_shown_as_text(page, app_url):
    name = "<img src=x onerror=alert(1)>*bold*.csv"
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, app_url, "data")
    upload(page, name, b"")  # refused: the name appears in the error
    main = page.locator("[data-testid=stMain]")
    assert name in main.locator("[data-testid=stAlertContentError]").inner_text()
    upload(page, name, candle_csv(30))  # loaded: the name appears in the subheader, success and sidebar
    assert_no_exception(page)
    assert f"Loaded 30 candles from {name}." in main.inner_text()
    assert f"Loaded: upload: {name}" in main.inner_text()
    assert f"upload: {name}" in sidebar(page)
    assert page.locator("img[src=x]").count() == 0  # never HTML
    assert page.locator("[data-testid=stMain] em, [data-testid=stSidebar] em").filter(has_text="bold").count() == 0
    assert not dialogs
    shot(page, "limits_markup_file_name")
