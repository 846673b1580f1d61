"""Chromium: the classroom deployment in deploy/ for real. deploy/start.sh starts two replicas and nginx (its
template deploy/nginx.conf) on loopback ports; 10 learners, each in its own browser context (its own cookies), go
through nginx. Each uploads its own CSV, trains three steps, moves to its own candle row on the Graph page and steps
it. Every response nginx sends names the replica that answered (X-Replica) and nginx's access log names it per
learner's sticky key: each learner stays on one replica, and both replicas get learners.

Then one replica is killed mid-lesson. Streamlit reconnects its learners to the surviving replica through nginx without
a word, so their pages would keep showing the dead session; pages/_replica.js sees the replica change and reloads the
page there, untouched by the learner: a fresh session that says the uploaded data is gone and keeps the lesson state
the URL carries (the candle row); the lesson goes on. The other replica's learners carry on with their own data, never
reloaded.

Installs nothing: `make test` installs Debian's nginx (as it installs Chromium)."""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, _free_port
from tests.e2e.helpers import SHOTS, TRAIN_STATUS
from pages._style import CHECK_EVERY_MS
from tests.e2e.test_concurrency import CHART_CODE, learner_csv, no_exception, sidebar, wait_idle

LEARNERS = int(os.environ.get("REPLICAS_TEST_LEARNERS", 10))
TIMEOUT = 180_000  # ms for one interaction; 10 learners share the machine's cores with two replicas
STEPS = 3
ARRIVAL_S = 1.5  # learner i opens the app i * ARRIVAL_S seconds after the first
SLIDER = ".st-key-graph_fwd_slider input[type=range]"
GONE = "This link was made with an uploaded file"  # what a fresh session says when the link's data was an upload


def nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        pytest.fail("nginx is missing: run `make test` (it installs Debian's nginx) or apt-get install -y nginx")
    return found


def wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"deploy/start.sh exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} never became healthy:\n{log.read_text()[-3000:]}")


@pytest.fixture
def classroom(tmp_path):
    """deploy/start.sh with two replicas and nginx on free loopback ports; yields (nginx URL, ports, run dir)."""
    nginx()
    ports, listen = [_free_port(), _free_port()], _free_port()
    env = {**os.environ, "LISTEN": f"127.0.0.1:{listen}", "APP_PORTS": " ".join(map(str, ports)),
           "RUN_DIR": str(tmp_path), "PYTHON": sys.executable, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "start.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["bash", str(ROOT / "deploy" / "start.sh")], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        for port in ports:
            wait_healthy(f"http://127.0.0.1:{port}", proc, log)
        url = f"http://127.0.0.1:{listen}"
        wait_healthy(url, proc, log)
        yield url, ports, tmp_path
    finally:
        proc.send_signal(signal.SIGTERM)  # start.sh stops its replicas and nginx
        try:
            proc.wait(timeout=30)
        finally:
            for pid_file in tmp_path.glob("replica-*.pid"):  # in case start.sh could not
                try:
                    os.kill(int(pid_file.read_text()), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass


class Learner:
    """One learner: a browser context of its own, the replicas that answered it, and what it saw."""

    def __init__(self, i: int, page: Page):
        self.i, self.page, self.replicas, self.seen = i, page, [], {}
        self.payload, self.rows = learner_csv(i)
        self.loads = 0
        page.on("response", self._record)
        page.on("load", self._loaded)

    def _loaded(self, _) -> None:
        self.loads += 1

    def _record(self, response) -> None:
        replica = response.headers.get("x-replica")
        if replica:  # the last address is the one that answered (earlier ones were tried and were down)
            self.replicas.append(replica)

    @property
    def replica(self) -> str:
        return self.replicas[-1].split(", ")[-1]

    async def click(self, key: str) -> None:
        await self.page.locator(f".st-key-{key} button").first.click()
        await wait_idle(self.page)

    async def open(self, path: str, ready: str) -> None:
        await self.page.locator(f'[data-testid=stSidebarNav] a[href$="/{path}"]').click()
        await self.page.wait_for_selector(ready, timeout=TIMEOUT)
        await wait_idle(self.page)


async def lesson(learner: Learner, url: str) -> None:
    """Upload, train STEPS steps, then the Graph page on the learner's own row, one step back."""
    page, i = learner.page, learner.i
    await asyncio.sleep(ARRIVAL_S * i)  # a classroom does not click at the same millisecond
    await page.goto(f"{url}/data", timeout=TIMEOUT)
    await wait_idle(page)
    await page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(
        files=[{"name": f"learner{i}.csv", "mimeType": "text/csv", "buffer": learner.payload}])
    await page.locator("[data-testid=stSidebar]").get_by_text(f"upload: learner{i}.csv").wait_for()
    await wait_idle(page)
    await learner.open("training", ".st-key-train_step")
    await train(learner, STEPS)
    learner.seen["loss"] = await page.locator("[data-testid=stMetric]").first.inner_text()
    learner.seen["train_sidebar"] = await sidebar(page)
    await learner.open("graph", ".st-key-graph_fwd_prev")
    row = page.locator(".st-key-graph_row input")
    await row.fill(str(20 + i))
    await row.press("Enter")
    await wait_idle(page)
    await step_graph(learner, "graph_fwd_prev")
    await no_exception(page)
    learner.seen["graph_sidebar"] = await sidebar(page)
    learner.seen["pos"] = await slider(page)


async def progress_step(page: Page) -> int:
    found = re.search(r"step (\d+)/", await page.locator(TRAIN_STATUS).first.inner_text())
    return int(found[1]) if found else -1


async def train(learner: Learner, steps: int) -> None:
    """Press Step until the trainer has taken `steps` steps. On a loaded machine a click that reaches the server
    while the previous rerun is still starting can be dropped; then Step is pressed again."""
    page = learner.page
    for _ in range(3 * steps):
        done = await progress_step(page)
        if done >= steps:
            return
        await learner.click("train_step")
        try:
            await page.locator(TRAIN_STATUS).filter(has_text=f"step {done + 1}/").wait_for(
                timeout=20_000)
        except PlaywrightTimeout:
            pass
    raise AssertionError(f"learner {learner.i}: {await progress_step(page)} steps after {3 * steps} presses")


async def step_graph(learner: Learner, key: str) -> None:
    """Press a stepper button of the Graph page and wait until its slider has moved (pressed again if dropped)."""
    page = learner.page
    before = await slider(page)
    for _ in range(3):
        await learner.click(key)
        try:
            await page.wait_for_function(f"v => document.querySelector('{SLIDER}')?.value !== v", arg=before,
                                         timeout=30_000)
            await wait_idle(page)
            return
        except PlaywrightTimeout:
            pass
    raise AssertionError(f"learner {learner.i}: {key} did not move the slider from {before}")


async def slider(page: Page) -> str:
    return await page.locator(SLIDER).first.input_value()


async def after_kill(learner: Learner) -> None:
    """The killed replica's learners: no click, the page reloads by itself on the survivor (pages/_replica.js) and
    says what was lost; the others: nothing happens. Then everyone steps the graph on."""
    page, loads, killed_at = learner.page, learner.loads, time.perf_counter()
    if learner.seen["killed"]:
        # Streamlit's reconnect may rerun the page on the survivor first (and show GONE there): the watcher's reload
        # still comes, and it is what this test is about, so wait for it before reading what the page says
        deadline = time.perf_counter() + TIMEOUT / 1000
        while learner.loads == loads and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        await page.locator("[data-testid=stAlert]").filter(has_text=GONE).wait_for()
        learner.seen["told_after_s"] = time.perf_counter() - killed_at
        await wait_idle(page)
        learner.seen["alerts"] = await page.locator("[data-testid=stAlert]").all_inner_texts()
        row = ".st-key-graph_row input"
        try:  # a loaded machine can show the reloaded page's widgets a moment before their values settle
            await page.wait_for_function(f"v => document.querySelector('{row}')?.value === v", arg=str(20 + learner.i),
                                         timeout=30_000)
        except PlaywrightTimeout:
            pass
        learner.seen["after_row"] = await page.locator(row).input_value()
    else:
        await page.wait_for_timeout(3 * CHECK_EVERY_MS)  # the watcher has looked at least twice
    learner.seen["reloads"] = learner.loads - loads
    learner.seen["pos"] = await slider(page)
    await step_graph(learner, "graph_fwd_next")
    await no_exception(page)
    learner.seen.setdefault("alerts", await page.locator("[data-testid=stAlert]").all_inner_texts())
    learner.seen["after_sidebar"] = await sidebar(page)
    learner.seen["after_pos"] = await slider(page)


async def warm_up(browser, ports: list[int]) -> None:
    """Each replica's first run imports the app (seconds): done once here, straight on the replica, not by a learner."""
    context = await browser.new_context()
    page = await context.new_page()
    for port in ports:
        await page.goto(f"http://127.0.0.1:{port}/data", timeout=TIMEOUT)
        await page.wait_for_selector("[data-testid=stFileUploaderDropzoneInput]", state="attached", timeout=TIMEOUT)
        await wait_idle(page)
    await context.close()


async def run_classroom(url: str, ports: list[int], kill) -> list[Learner]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await warm_up(browser, ports)
            learners = []
            for i in range(LEARNERS):
                context = await browser.new_context(viewport={"width": 1300, "height": 900}, reduced_motion="reduce")
                await context.route(CHART_CODE, lambda route: route.abort())  # as in test_concurrency
                page = await context.new_page()
                page.set_default_timeout(TIMEOUT)
                learners.append(Learner(i, page))
            try:
                await asyncio.gather(*(lesson(learner, url) for learner in learners))
            except Exception:
                for learner in learners:  # what each learner had on screen, to see why
                    await learner.page.screenshot(path=str(SHOTS / f"replicas_failed_{learner.i}.png"))
                raise
            for learner in learners:
                learner.seen["before_kill"] = list(learner.replicas)
                learner.seen["key"] = next(c["value"] for c in await learner.page.context.cookies()
                                           if c["name"] == "explorer_replica")
            kill(learners)
            await asyncio.gather(*(after_kill(learner) for learner in learners))
            moved = [learner for learner in learners if learner.seen.get("killed")]
            if moved:
                await moved[0].page.screenshot(path=str(SHOTS / "replicas_after_failover.png"))
        finally:
            await browser.close()
    return learners


def access_log(run_dir: Path) -> list[tuple[float, str, str, str]]:
    """nginx's log lines as (time, request, sticky key, replicas tried)."""
    pattern = re.compile(r'^(\S+) \d+ "([^"]*)" key=(\S+) replica=(.*)$')
    return [(float(m[1]), m[2], m[3], m[4]) for m in map(pattern.match, (run_dir / "access.log").read_text()
                                                         .splitlines()) if m]


def upload_cap_fits() -> None:
    """nginx lets through the biggest upload the app accepts (plus the multipart envelope)."""
    cap_mb = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    body_mb = int(re.search(r"client_max_body_size (\d+)m;", (ROOT / "deploy" / "nginx.conf").read_text())[1])
    assert body_mb > cap_mb, (body_mb, cap_mb)


def test_deploy_readme_quotes_nginx_conf():
    """deploy/README.md quotes deploy/nginx.conf as it is: each quoted run of lines is in the file."""
    section = (ROOT / "deploy" / "README.md").read_text()
    quoted = re.search(r"```nginx\n(.*?)```", section, re.S)[1]
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    parts = quoted.split("    ...\n")
    assert len(parts) == 2 and "hash $sticky_key consistent;" in quoted, quoted[:200]
    for part in parts:
        assert part.strip() and part in conf, part[:300]


def assert_sticky(learners: list[Learner], log: list, killed_at: float) -> dict[str, int]:
    """Each learner was answered by one replica only, by its headers and by nginx's log; returns learners per replica."""
    per_replica: dict[str, int] = {}
    for learner in learners:
        assert len(set(learner.seen["before_kill"])) == 1, (learner.i, set(learner.seen["before_kill"]))
        mine = learner.seen["before_kill"][0]
        per_replica[mine] = per_replica.get(mine, 0) + 1
        logged = [replica for t, _, key, replica in log if key == learner.seen["key"] and t < killed_at]
        assert logged and set(logged) == {mine}, (learner.i, set(logged))
    return per_replica


def assert_own_data(learner: Learner) -> None:
    i, seen = learner.i, learner.seen
    for side in (seen["train_sidebar"], seen["graph_sidebar"]):
        assert f"upload: learner{i}.csv" in side and f"{learner.rows} rows" in side, (i, side)
        assert len(re.findall(r"learner\d+\.csv", side)) == 1, (i, side)


@pytest.mark.e2e
def test_ten_learners_two_replicas_one_killed(classroom):
    upload_cap_fits()
    url, ports, run_dir = classroom
    victim, survivor = (f"127.0.0.1:{port}" for port in ports)
    killed_at, started = [], time.perf_counter()

    def kill(learners: list[Learner]) -> None:
        for learner in learners:
            learner.seen["killed"] = learner.replica == victim
        killed_at.append(time.time())
        os.kill(int((run_dir / f"replica-{ports[0]}.pid").read_text()), signal.SIGKILL)

    # its own thread: the session's sync Playwright (other tests' browser fixture) keeps an event loop running here
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        learners = pool.submit(asyncio.run, run_classroom(url, ports, kill)).result()
    log = access_log(run_dir)
    per_replica = assert_sticky(learners, log, killed_at[0])
    moved = [learner for learner in learners if learner.seen["killed"]]
    stayed = [learner for learner in learners if not learner.seen["killed"]]
    print(f"\n{LEARNERS} learners in {time.perf_counter() - started:.0f} s; learners per replica: {per_replica}; "
          f"killed {victim} (its {len(moved)} learners moved to {survivor})")
    for learner in moved:
        print(f"  learner {learner.i}: reloaded by itself on {survivor} {learner.seen['told_after_s']:.1f} s after the "
              f"kill ({learner.seen['reloads']} reload), row {learner.seen['after_row']} from its URL, alerts "
              f"{[a.split(':')[0] for a in learner.seen['alerts']]}")
    assert per_replica.get(victim, 0) >= 1 and per_replica.get(survivor, 0) >= 1, per_replica
    for learner in learners:
        assert_own_data(learner)
    losses = [learner.seen["loss"] for learner in learners]
    assert len(set(losses)) == LEARNERS, losses  # different data, different losses: nothing shared
    for learner in stayed:  # undisturbed: same replica, same session (its upload), the step went through
        assert set(learner.replicas) == {survivor}, (learner.i, set(learner.replicas))
        assert not any(GONE in alert for alert in learner.seen["alerts"]), learner.seen["alerts"]
        assert learner.seen["reloads"] == 0
        assert f"upload: learner{learner.i}.csv" in learner.seen["after_sidebar"]
        assert int(learner.seen["after_pos"]) > int(learner.seen["pos"])
        assert [r for t, _, key, r in log if key == learner.seen["key"] and r != survivor] == []
    for learner in moved:  # a fresh session on the survivor says the upload is gone and keeps the URL's row
        assert learner.seen["reloads"] == 1
        assert learner.replica == survivor
        assert any(GONE in alert for alert in learner.seen["alerts"]), learner.seen["alerts"]
        assert "synthetic sample" in learner.seen["after_sidebar"]
        assert learner.seen["after_row"] == str(20 + learner.i)
        assert int(learner.seen["after_pos"]) > int(learner.seen["pos"])  # and the lesson goes on there
