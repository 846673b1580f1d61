"""Each page's rerun time (AppTest, in process) against an empty Streamlit page's rerun, in the same run."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["pages/home.py", "pages/data.py", "pages/config.py", "pages/graph.py", "pages/accumulation.py",
         "pages/retain_graph.py", "pages/training.py"]
RERUNS = 5


def rerun_seconds(at: AppTest) -> float:
    """Median wall time of a plain rerun (what moving a widget costs before the page's own work changes)."""
    times = []
    for _ in range(RERUNS):
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def empty_page() -> float:
    at = AppTest.from_string("import streamlit as st\nst.title('empty')", default_timeout=60)
    at.run()
    return rerun_seconds(at)


def page_rerun(page: str) -> float:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(page)
    at.run()  # first visit: loads and caches; the reruns after it are what a learner feels
    assert not at.exception, f"{page} raised: {at.exception[0].message}"
    return rerun_seconds(at)


def main() -> dict:
    empty = empty_page()
    pages = {page: page_rerun(page) for page in PAGES}
    slowest = max(pages, key=pages.get)
    return {"what": f"slowest page rerun ({Path(slowest).stem}) vs an empty page's", "ratio": pages[slowest] / empty,
            "target": "informational", "empty_s": empty, **{f"{Path(p).stem}_s": s for p, s in pages.items()}}


if __name__ == "__main__":
    result = main()
    print(f"empty page rerun: {result['empty_s'] * 1000:.1f} ms (median of {RERUNS})")
    for page in PAGES:
        seconds = result[f"{Path(page).stem}_s"]
        print(f"{page:24s} {seconds * 1000:8.1f} ms  ({seconds / result['empty_s']:.1f}x empty)")
    print(f"ratio {result['what']}: {result['ratio']:.1f}x")
