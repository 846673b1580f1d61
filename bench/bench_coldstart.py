"""Cold start: `streamlit run serve.py` (what make run starts) to first paint in Chromium, against a minimal app
that imports torch."""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
MINIMAL_APP = "import torch\nimport streamlit as st\n\nst.title('minimal')\n"
ROUNDS = 5  # each round starts both servers once, in turn, so machine load hits both alike
TARGET = 1.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_paint(browser: Browser, script: Path, *options: str) -> tuple[float, float]:
    """Seconds from launching `streamlit run script` to its title painted, and to its first run finished."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true", *options],
                            cwd=script.parent, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:  # the browser can only ask once the server listens
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                if time.perf_counter() - start > 120:
                    raise RuntimeError(f"{script} did not start")
                time.sleep(0.05)
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("[data-testid=stMain] h1", timeout=120_000)
        painted = time.perf_counter() - start
        page.wait_for_selector("[data-test-script-state=notRunning]", state="attached", timeout=120_000)
        finished = time.perf_counter() - start
        page.close()
        return painted, finished
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        minimal = Path(tmp) / "minimal_app.py"
        minimal.write_text(MINIMAL_APP)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        app, base, unwatched = [], [], []
        for _ in range(ROUNDS):
            app.append(first_paint(browser, ROOT / "serve.py"))
            base.append(first_paint(browser, minimal))
            unwatched.append(first_paint(browser, minimal, "--server.fileWatcherType", "none"))  # as the app runs
        browser.close()
    app_paint, base_paint = statistics.median(a for a, _ in app), statistics.median(b for b, _ in base)
    return {"what": "cold start to first paint (Chromium): serve.py (the app) vs a minimal app importing torch",
            "ratio": app_paint / base_paint, "target": f"<= {TARGET}", "app_first_paint_s": app_paint,
            "minimal_first_paint_s": base_paint, "app_first_run_done_s": statistics.median(f for _, f in app),
            "minimal_first_run_done_s": statistics.median(f for _, f in base),
            "unwatched_minimal_first_paint_s": statistics.median(b for b, _ in unwatched)}


if __name__ == "__main__":
    result = main()
    print(f"serve.py    first paint {result['app_first_paint_s']:.2f} s, first run done "
          f"{result['app_first_run_done_s']:.2f} s (median of {ROUNDS})")
    print(f"minimal app first paint {result['minimal_first_paint_s']:.2f} s, first run done "
          f"{result['minimal_first_run_done_s']:.2f} s")
    print(f"ratio {result['ratio']:.2f}x (target {result['target']})")
    print(f"minimal app without a file watcher (as the app's config runs it): first paint "
          f"{result['unwatched_minimal_first_paint_s']:.2f} s, ratio "
          f"{result['app_first_paint_s'] / result['unwatched_minimal_first_paint_s']:.2f}x")
