"""Long sessions: many reruns and full training runs in one browser session; the server's memory (VmRSS from
/proc/<pid>/status) and thread count are measured after a warm-up and at the end, and must stay flat.

The short form runs in `make test`; `pytest --soak` runs the long form (more cycles, and a training abandoned
mid-run whose worker must stop on its own once nobody polls it)."""
from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page

from explorer.training.worker import IDLE_TIMEOUT_S
from tests.e2e.conftest import start_server
from tests.e2e.helpers import TRAIN_STATUS, assert_no_exception, wait_idle

HEADER = b"timestamp,open,high,low,close,volume\n"
SHORT_CYCLES, LONG_CYCLES = 3, 30
MAX_GROWTH_MB = 150  # generous: caches are bounded (cache_data max_entries) and sessions hold small data


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS (MB) and thread count of a process, from /proc."""
    text = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1))
    return {"rss_mb": rss_kb // 1024, "threads": int(re.search(r"Threads:\s+(\d+)", text).group(1))}


def candles(seed: int) -> bytes:
    """A distinct random-walk CSV per cycle (so every upload is new to the cache)."""
    rng, price, rows = random.Random(seed), 100.0 + seed, []
    for j in range(300 + seed):
        close = price + rng.gauss(0, 1)
        rows.append(b"%d,%.3f,%.3f,%.3f,%.3f,%.1f\n" % (1_700_000_000 + 60 * j, price, max(price, close) + 0.5,
                                                      min(price, close) - 0.5, close, rng.uniform(1, 9)))
        price = close
    return HEADER + b"".join(rows)


def go(page: Page, stem: str, ready: str) -> None:
    """Follow the sidebar link to a page (same session) and wait for one of its widgets."""
    page.locator(f'[data-testid=stSidebarNav] a[href$="/{stem}"]').click()
    page.wait_for_selector(ready, timeout=120_000)
    wait_idle(page, timeout=120_000)


def click(page: Page, key: str) -> None:
    page.locator(f".st-key-{key} button").filter(visible=True).first.click()
    wait_idle(page, timeout=120_000)


def train_to_the_end(page: Page) -> str:
    """Reset, play at full speed until the progress bar says done; returns the progress text."""
    click(page, "train_reset")
    click(page, "train_play")
    progress = page.locator(TRAIN_STATUS).first
    progress.filter(has_text=re.compile(r"^(done|diverged)")).wait_for(timeout=240_000)
    wait_idle(page, timeout=120_000)
    return progress.inner_text()


def cycle(page: Page, n: int) -> None:
    """One learner's round: upload a new file, step the graph back and forth, train to the end."""
    go(page, "data", ".st-key-data_upload")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(
        files=[{"name": f"soak{n}.csv", "mimeType": "text/csv", "buffer": candles(n)}])
    page.locator("[data-testid=stSidebar]").get_by_text(f"upload: soak{n}.csv").wait_for(timeout=120_000)
    wait_idle(page, timeout=120_000)
    go(page, "graph", ".st-key-graph_fwd_prev")
    for key in ("graph_fwd_prev", "graph_fwd_prev", "graph_fwd_next", "graph_fwd_next"):
        click(page, key)
    go(page, "training", ".st-key-train_play")
    assert train_to_the_end(page).startswith(("done", "diverged"))
    assert_no_exception(page)


def soak(browser, cycles: int, abandon: bool) -> None:
    proc, url = start_server()
    try:
        context = browser.new_context(viewport={"width": 1300, "height": 900})
        page = context.new_page()
        page.goto(f"{url}/data")
        wait_idle(page, timeout=120_000)
        cycle(page, 0)  # warm-up: imports, first graphs, first training: not growth
        before = proc_status(proc.pid)
        started = time.perf_counter()
        for n in range(1, cycles + 1):
            cycle(page, n)
        reruns_done, seconds = proc_status(proc.pid), time.perf_counter() - started
        if abandon:  # a learner closes the tab mid-training: the worker must stop by itself
            click(page, "train_reset")
            page.locator(".st-key-train_pace input[type=range]").press("Home")  # slowest pace: lasts for ages
            wait_idle(page)
            click(page, "train_play")
        context.close()
        time.sleep(IDLE_TIMEOUT_S + 15 if abandon else 5)
        after = proc_status(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    growth = reruns_done["rss_mb"] - before["rss_mb"]
    print(f"\nsoak: {cycles} cycles (upload + 4 graph steps + a full training run each, ~{8 * cycles} reruns) in "
          f"{seconds:.0f} s; server RSS {before['rss_mb']} MB after warm-up → "
          f"{reruns_done['rss_mb']} MB after the cycles (+{growth} MB) → {after['rss_mb']} MB after the session "
          f"closed; threads {before['threads']} → {reruns_done['threads']} → {after['threads']}")
    assert growth < MAX_GROWTH_MB, f"server memory grew {growth} MB over {cycles} cycles"
    assert after["threads"] <= before["threads"] + 1, "a closed session left threads (a worker?) behind"


def test_soak_short(browser):
    soak(browser, SHORT_CYCLES, abandon=False)


@pytest.mark.soak
def test_soak_long(browser):
    soak(browser, LONG_CYCLES, abandon=True)
