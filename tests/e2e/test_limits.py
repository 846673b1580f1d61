"""Chromium: the server's upload cap refuses a file just over it with a message, and user-supplied file names are
shown as text, never as HTML or markdown."""
from __future__ import annotations

import http.client
import tomllib
import urllib.parse
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


def load_sample(page) -> None:
    page.locator(".st-key-data_load_sample").get_by_role("button", name="Load the bundled sample").click()


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
    load_sample(page)  # and the app still answers
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


def test_server_refuses_an_oversized_body_that_got_past_the_browser(page, app_url):
    """The cap is the server's too: a client that skips the uploader's check (here: the real upload request of
    this session replayed from Python, announcing a body 1 MB over the cap) gets 413, and nothing is loaded."""
    seen = []
    page.on("request", lambda r: seen.append(r) if "upload_file" in r.url and r.method == "PUT" else None)
    open_page(page, app_url, "data")
    upload(page, "real.csv", candle_csv(30))
    assert seen and "upload: real.csv" in sidebar(page)
    request = seen[-1]
    url = urllib.parse.urlsplit(request.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.putrequest("PUT", url.path.rsplit("/", 1)[0] + "/hostile-file-id")
    for name, value in request.all_headers().items():
        if name.lower() not in ("content-length", "host") and not name.startswith(":"):
            conn.putheader(name, value)
    conn.putheader("Content-Length", str((CAP_MB + 1) * 1024 * 1024))
    conn.endheaders()
    conn.send(b"x" * 65536)  # the server answers from the announced length, before reading the body
    assert conn.getresponse().status == 413
    conn.close()
    load_sample(page)  # the session still answers
    wait_idle(page)
    assert "synthetic sample" in sidebar(page)
    assert_no_exception(page)
