from tests.e2e.helpers import assert_no_exception, open_page, shot


def test_app_opens(page, app_url):
    open_page(page, app_url)
    assert_no_exception(page)
    assert "Loaded candles" in page.locator("[data-testid=stSidebar]").inner_text()
    shot(page, "smoke")
