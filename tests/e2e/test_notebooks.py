"""Chromium: a lesson's "Take it home: notebook" and a rebuilt seed notebook on Home download as valid notebooks that
run top to bottom (nbclient, a fresh kernel) and print what the page shows."""
from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from tests.e2e.helpers import assert_no_exception, open_page, wait_idle


def download(page, key: str, folder, name: str) -> nbformat.NotebookNode:
    """Click the download button with this key (built on click) and read the file as a validated notebook."""
    with page.expect_download() as info:
        page.locator(f".st-key-{key} button").first.click()
    assert info.value.suggested_filename == name
    path = folder / name
    info.value.save_as(path)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def run(nb) -> str:
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") + "\n"
                   for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_data_lesson_notebook_prints_the_tensor_shown(page, app_url, tmp_path):
    open_page(page, app_url, "data?data=sample:300")
    page.wait_for_selector("[data-testid=stMain] [data-testid=stCode]", timeout=60_000)
    wait_idle(page)
    assert_no_exception(page)
    shown = [t.strip() for t in page.locator("[data-testid=stMain] [data-testid=stCode]").all_inner_texts()]
    assert "(torch.float32, torch.Size([300, 5]), device(type='cpu'))" in shown[0]
    nb = download(page, "data_takehome_nb", tmp_path, "candles_to_tensor.ipynb")
    assert nb.cells[0].cell_type == "markdown" and "float32" in nb.cells[0].source
    out = run(nb)
    assert shown[0].splitlines()[-1] in out and shown[1] in out


def test_home_seed_notebook_downloads_and_runs(page, app_url, tmp_path):
    open_page(page, app_url, "")
    assert_no_exception(page)
    nb = download(page, "home_seed_nb_1", tmp_path, "seed_notebook_1_parts_a_e.ipynb")
    sources = [c.source for c in nb.cells]
    assert [part for part in "ABCDE" if any(s.startswith(f"# Part {part}:") for s in sources)] == list("ABCDE")
    out = run(nb)
    assert "(torch.float32, torch.Size([1000, 5]), device(type='cpu'))" in out and "tensor([-12.])" in out
    nb2 = download(page, "home_seed_nb_2", tmp_path, "seed_notebook_2_linear_model.ipynb")
    assert any("nn.Linear" in s for s in (c.source for c in nb2.cells))
