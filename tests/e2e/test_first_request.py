"""A shared link opened as the first request of a fresh server goes through the router (not pages-folder mode)."""
from __future__ import annotations

from tests.e2e.conftest import start_server
from tests.e2e.helpers import assert_no_exception, open_page


def test_fresh_server_first_request_to_a_subpage(page):
    proc, url = start_server()
    try:
        open_page(page, url, "retain_graph?data=sample%3A300")
        assert_no_exception(page)
        sidebar = page.locator("[data-testid=stSidebar]").inner_text()
        assert "Loaded candles" in sidebar and "300 rows" in sidebar
        assert "common" not in sidebar  # pages-folder mode would list every file in pages/
        assert "Backward" in page.locator("[data-testid=stMain]").inner_text() or "backward" in \
            page.locator("[data-testid=stMain]").inner_text()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
