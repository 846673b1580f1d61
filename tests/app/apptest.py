"""Shared AppTest helpers: the app's entry script, a page opened through it, a click that must not raise."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"


def open_app_page(page: str) -> AppTest:
    """A fresh session: the home page first (as a browser opens the app), then `page`; neither run may raise."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    """Click the button with this key and rerun; the rerun must not raise."""
    at.button(key=key).click().run()
    assert not at.exception
    return at
