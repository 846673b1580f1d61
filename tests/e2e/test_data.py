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
