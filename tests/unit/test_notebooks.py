"""Take-home notebooks: valid nbformat, run top to bottom with nbclient in a kernel of their own (ipykernel), and print
what the page printed (the same checks as the take-home scripts' tests), with plain PyTorch as the reference.

Kernels start slowly, so the lesson notebooks share one kernel, `%reset -f` between two notebooks (each imports what it
needs itself, and nothing of the app); the seed notebooks and the training run each get a fresh kernel.
"""
from __future__ import annotations

import ast

import nbformat
import pytest
import torch
import torch.nn.functional as F
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from explorer.autograd.lesson import EXAMPLES, gradient_printout, run_lesson, seed_forward, seed_printout
from explorer.data.config import load_config, read_csv_arguments, resolve_data_path
from explorer.data.loader import load_candles
from explorer.data.sample import generate_candles
from explorer.labs import seed_bugs
from explorer.labs.accumulation import AccumulationLab
from explorer.labs.microbatch import compare_microbatches
from explorer.labs.optimizer_lab import OptimizerLab
from explorer.labs.retain import TRADING_LOSSES, RetainLab
from explorer.teaching import tour
from explorer.teaching.seed_notebooks import SEED_NOTEBOOKS, seed_notebook_1, seed_notebook_2
from explorer.teaching.source import source_of
from explorer.teaching.parts import TakeHome
from explorer.teaching.takehome import (GRAPH_PARTS, accumulation_parts, data_parts, expression_code, graph_takehome,
                                        microbatch_parts, optimizer_parts, retain_parts)
from explorer.tensors import candle_row, candles_to_tensor, summarize
from explorer.training.export import TrainingExport, export_notebook
from explorer.training.features import FeatureSpec, make_features
from explorer.training.trainer import Trainer, TrainSettings

ALLOWED_IMPORTS = {"torch", "pandas", "io", "gzip", "base64", "math", "sys", "__future__", "dataclasses", "enum",
                   "typing", "contextlib", "numpy", "torch.nn", "torch.nn.functional", "torch.nn.init"}
TIMEOUT = 300


def read(text: str) -> nbformat.NotebookNode:
    """Parse and validate a notebook's text (nbformat 4)."""
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    return nb


def imports_only_torch_and_pandas(nb) -> bool:
    """Every code cell parses as Python and imports nothing but torch, pandas and the standard library."""
    names = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    return names <= ALLOWED_IMPORTS and not any("explorer" in name for name in names)


def outputs(cell) -> str:
    """What a code cell printed (stdout) and showed (its last expression's text/plain), as Jupyter shows it."""
    parts = []
    for out in cell.get("outputs", []):
        assert out.output_type != "error", out
        assert not (out.output_type == "stream" and out.name == "stderr"), out.text  # no warning, no traceback
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "execute_result":
            parts.append(out.data["text/plain"] + "\n")
    return "".join(parts)


def printed(nb) -> str:
    return "".join(outputs(cell) for cell in nb.cells if cell.cell_type == "code")


def execute(nb, km: KernelManager | None = None):
    """Run the notebook top to bottom (a cell that raises fails the test); in `km` after %reset -f, or fresh."""
    if km is not None:
        NotebookClient(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%reset -f")]), km=km,
                       timeout=TIMEOUT).execute()
    NotebookClient(nb, km=km, timeout=TIMEOUT, kernel_name="python3").execute()
    return nb


@pytest.fixture(scope="module")
def kernel():
    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    yield km
    km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def frame():
    return generate_candles(300)


@pytest.fixture(scope="module")
def sample():
    """The bundled sample, as the app loads it from configs/configs.yaml."""
    config = load_config()
    args = read_csv_arguments(config.model_dump())
    return load_candles(str(resolve_data_path(config)), sep=args["sep"], nrows=args["nrows"], names=args["names"]).frame


def run_lesson_notebook(parts, kernel):
    """The lesson's notebook, checked for its shape, then run: one cell per lesson function and per step."""
    nb = read(parts.notebook())
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].cell_type == "markdown" and parts.explanation and parts.explanation in nb.cells[0].source
    assert all(source.strip("\n") in code for source in parts.lessons)  # one cell per lesson function
    assert code[-len(parts.steps):] == [step.strip("\n") for step in parts.steps]  # one cell per step
    assert imports_only_torch_and_pandas(nb)
    return execute(nb, kernel)


@pytest.mark.parametrize("text", [EXAMPLES[0], EXAMPLES[2], "F.relu(x / 1000 @ w.T + b)"])
def test_graph_notebook_prints_the_lesson(frame, kernel, text):
    lesson = run_lesson(frame, 123, 7, text)
    take = graph_takehome(lesson.x, 123, 7, text)  # what the page's button builds
    assert take.lazy and take.notebook_file == "graph_lesson.ipynb"
    nb = run_lesson_notebook(take.parts(), kernel)
    assert nb.cells[-1].source == "print()\nprint(gradient_printout(w, b))"
    out = printed(nb)
    assert seed_printout(*lesson.tensors()) in out and gradient_printout(lesson.w, lesson.b) in out
    forward = cell_after(nb, "def seed_forward").source  # the learner's expression in the seed's forward pass
    assert forward.endswith(f"return {expression_code(text)}")
    assert all(source_of(p).strip("\n") in [c.source for c in nb.cells] for p in GRAPH_PARTS if p is not seed_forward)


def test_accumulation_notebook_replays_the_history(frame, kernel):
    lab = AccumulationLab(candle_row(frame, 42), seed=3)
    lab.grad_zero_()  # fails: .grad is None before the first backward
    lab.run_steps(3)
    lab.zero_grad(set_to_none=False)
    lab.zero_grad(set_to_none=True)
    lab.zero_after_step = True
    lab.run_steps(2)
    lab.zero_after_step = False
    lab.forward_backward()
    lab.grad_zero_()
    parts = accumulation_parts(lab.x, lab.seed, lab.history)
    nb = run_lesson_notebook(parts, kernel)
    lines = [line for line in printed(nb).splitlines() if line.startswith("#")]
    assert lines == [r.line() for r in lab.history] and len(lines) == 11
    step_cells = [c for c in nb.cells if c.cell_type == "code"][-len(lab.history):]
    assert [outputs(c).splitlines()[-1] for c in step_cells] == lines  # each step's cell prints its own row


@pytest.mark.parametrize("name, pnl", [(name, -3.0) for name in TRADING_LOSSES] + [(next(iter(TRADING_LOSSES)), 0.0)])
def test_retain_notebook_replays_the_calls(kernel, name, pnl):
    lab = RetainLab(pnl, name)
    lab.backward(retain_graph=True)
    lab.autograd_grad(retain_graph=False)
    lab.backward(retain_graph=False)  # fails unless the graph was kept: autograd.grad freed it
    lab.autograd_grad(retain_graph=True)
    nb = run_lesson_notebook(retain_parts(pnl, TRADING_LOSSES[name], lab.events), kernel)
    assert printed(nb).splitlines() == [e.line() for e in lab.events]


@pytest.mark.parametrize("rows", [50, 2500])  # plain CSV, and gzip + base64 above 2,000 rows
def test_data_notebook_prints_the_tensor(kernel, rows):
    frame = generate_candles(rows)
    nb = run_lesson_notebook(data_parts(frame, "test"), kernel)
    out = printed(nb)
    tensor = candles_to_tensor(frame)
    summary = summarize(tensor)
    assert f"({summary.dtype}, {summary.shape}, {summary.device})" in out and summary.text in out
    assert f"sum of all values (float64): {tensor.double().sum().item()!r}" in out
    assert str(frame.head()) in out and str(frame.tail()) in out


def test_microbatch_notebook_prints_the_table(frame, kernel):
    result = compare_microbatches(frame, 40, 12, 3, seed=2)
    nb = run_lesson_notebook(microbatch_parts(frame, 40, 12, 3, 2), kernel)
    rows = dict(line.split(": ", 1) for line in printed(nb).splitlines())
    for label, column in [("full batch", "full batch"), ("sum of loss_i / k", "Σ loss_i / k"),
                          ("sum of loss_i (no / k)", "Σ loss_i (no / k)")]:
        assert ast.literal_eval(rows[label]) == result.table[column].tolist()  # bit for bit


def test_optimizer_notebook_prints_the_labs_steps(frame, kernel):
    x = candle_row(frame, 7) / 1000
    lab = OptimizerLab(x, seed=3, lr=1e-3)
    flags = [True, False, True]
    for flag in flags:
        lab.train_step(zero_grad=flag)
    lines = printed(run_lesson_notebook(optimizer_parts(x, 3, 1e-3, flags), kernel)).splitlines()
    for line, step in zip(lines, lab.steps):
        y, weight, bias = (part.split(" = ", 1)[1] for part in line.split(": ", 1)[1].split("; "))
        assert float(y) == step.y and ast.literal_eval(weight) == step.weight_grad and float(bias) == step.bias_grad
    assert ast.literal_eval(lines[-2].split(" = ", 1)[1]) == lab.model.weight.detach().flatten().tolist()
    assert float(lines[-1].split(" = ", 1)[1]) == lab.model.bias.item()


def test_a_script_only_take_home_still_gets_a_notebook(kernel):
    take = TakeHome("x", lambda: 'import torch\nprint(torch.tensor([1.0, 2.0]).sum().item())\n', "sum.py", "")
    nb = read(take.notebook())
    assert take.notebook_file == "sum.ipynb" and printed(execute(nb, kernel)) == "3.0\n"


def test_training_notebook_prints_the_apps_epoch_losses(frame):
    spec = FeatureSpec(rows=300)
    settings = TrainSettings(epochs=2, batch_size=32)
    trainer = Trainer(make_features(frame, spec), settings)
    trainer.step(2 * trainer.steps_per_epoch)
    nb = read(export_notebook(frame, spec, settings))
    assert imports_only_torch_and_pandas(nb)
    assert TrainingExport(frame, spec, settings).notebook() == nbformat.writes(nb) + "\n"
    lines = [line for line in printed(execute(nb)).splitlines() if line.startswith("epoch ")]
    got = [(float(line.split("train loss ")[1].split()[0]), float(line.split("valid loss ")[1])) for line in lines]
    assert got == [(row["train_loss"], row["valid_loss"]) for row in trainer.history.epochs]  # bit for bit


def cell_after(nb, start: str):
    """The first code cell whose source starts with `start`."""
    return next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(start))


def same_words(a: str, b: str) -> bool:
    return a.split() == b.split()


def test_seed_notebook_1_prints_the_seed_stops(sample):
    nb = read(seed_notebook_1(sample, "sample"))
    assert imports_only_torch_and_pandas(nb)
    execute(nb)
    live = tour.live_results(sample)
    assert outputs(cell_after(nb, "data_tensor.dtype")).strip() == live[0].printout  # 1 · Data
    graph = outputs(cell_after(nb, "y.backward()\nw.grad"))  # 2 · Graph: w.grad, b.grad and the check
    assert same_words("w.grad, b.grad\n" + graph + outputs(cell_after(nb, "# added: dy/dw")), live[1].printout)
    accumulate = outputs(cell_after(nb, "torch.manual_seed(0)  # added\nw = "))  # 3 · Gradient accumulation
    assert same_words(accumulate, live[2].printout)
    first, then = (float(v) for v in live[3].printout.split("pnl.grad ")[1].split("\n")[0].split(" → "))
    assert outputs(nb.cells[-2]).strip() == f"tensor([{first:g}.])" and outputs(nb.cells[-1]).strip() == \
        f"tensor([{then:g}.])"  # 4 · retain_graph
    error = live[3].printout.split("RuntimeError: ")[1]
    assert outputs(cell_after(nb, "try:\n    y2.backward()")).strip() == f"RuntimeError: {error}"


def test_seed_notebook_1_keeps_the_seeds_mistake_beside_the_fix(sample):
    nb = read(seed_notebook_1(sample, "sample"))
    cell = cell_after(nb, "# data_tensor = torch.from_numpy(data.values)")
    assert "to_numpy(copy=True)" in cell.source
    note = nb.cells[nb.cells.index(cell) - 1]
    assert note.cell_type == "markdown" and "read-only" in note.source


# The seed's own first candles (seed notebook 1, Part A, cell 2), in the seed's file format.
SEED_FILE = """1502942400|4261.48|4261.48|4261.48|4261.48|1.775183
1502942460|4261.48|4261.48|4261.48|4261.48|0.0
1502942520|4280.56|4280.56|4280.56|4280.56|0.261074
1502942580|4261.48|4261.48|4261.48|4261.48|0.012008
1502942640|4261.48|4261.48|4261.48|4261.48|0.140796
1502942700|4261.48|4261.48|4261.48|4261.48|0.0
"""
SEED_HEAD = """    timestamp     open     high      low    close    volume
0  1502942400  4261.48  4261.48  4261.48  4261.48  1.775183
1  1502942460  4261.48  4261.48  4261.48  4261.48  0.000000
2  1502942520  4280.56  4280.56  4280.56  4280.56  0.261074
3  1502942580  4261.48  4261.48  4261.48  4261.48  0.012008
4  1502942640  4261.48  4261.48  4261.48  4261.48  0.140796
"""


def test_seed_notebook_1_on_the_seeds_own_candles_prints_the_seeds_head(tmp_path):
    path = tmp_path / "BTCUSDT.csv"
    path.write_text(SEED_FILE)
    frame = load_candles(str(path), sep="|", names=["timestamp", "open", "high", "low", "close", "volume"]).frame
    nb = execute(read(seed_notebook_1(frame, "the seed's file")))
    assert outputs(cell_after(nb, "# the seed: pd.read_csv")) == SEED_HEAD
    assert outputs(cell_after(nb, "data_tensor.dtype")).strip() == \
        "(torch.float32, torch.Size([6, 5]), device(type='cpu'))"


def test_seed_notebook_2_prints_the_apps_seed_lessons(sample):
    nb = read(seed_notebook_2(sample, "sample"))
    assert imports_only_torch_and_pandas(nb)
    execute(nb)
    t_indep, t_dep = seed_bugs.seed_tables(sample)
    coeffs = seed_bugs.seed_coeffs(t_indep.shape[1])
    preds = (t_indep * coeffs).sum(axis=1)
    mae, mse = F.l1_loss(preds, t_dep), F.mse_loss(preds, t_dep)  # the MAE is the MAE, the MSE the MSE
    assert outputs(cell_after(nb, "import torch.nn.functional as F")) == \
        f"mean absolute error: {mae!r}\nmean squared error: {mse!r}\n"  # printed as the seed printed (no CE)
    assert seed_bugs.fixed_losses(preds, t_dep) == f"mean absolute error: {mae.item()}\nmean squared error: " \
                                                   f"{mse.item()}"  # the same numbers the Modules page shows
    n, c = t_indep.shape
    fixed_w = seed_bugs.fixed_xavier(n, c, torch.Generator().manual_seed(0))
    assert f"weights.std() = {fixed_w.std():.4f}" in outputs(cell_after(nb, "import math"))
    grads = [outputs(cell_after(nb, start)) for start in ("from torch import nn", "coeffs.grad = None")]
    reference = coeffs.clone().requires_grad_()
    F.mse_loss((t_indep * reference).sum(axis=1), t_dep).backward()
    assert grads[0].endswith(f"{reference.grad}\n") and grads[1] == f"{reference.grad}\n"  # not doubled
    shown = outputs(cell_after(nb, "layer1, linear_layer, by_hand"))
    for line in tour.live_modules(sample).printout.splitlines():  # 6 · Modules and shapes
        assert line.strip() in shown
    assert "Predicted class: tensor([" in printed(nb)  # `device` is defined now


def test_seed_notebooks_have_each_fix_beside_the_seeds_line(sample):
    one, two = (read(build(sample, "sample")) for _, _, build, _ in SEED_NOTEBOOKS)
    code = "\n".join(c.source for c in (*one.cells, *two.cells) if c.cell_type == "code")
    for seed_line in ["# data_tensor = torch.from_numpy(data.values)", "# loss_ce = F.cross_entropy(preds, t_dep)",
                      "# bias = torch.zeros(n, requires_grad=True)", "# loss_mae = F.mse_loss(preds, t_dep)",
                      "# weights = torch.randn(c) / math.sqrt(n)", "# X = torch.rand(1, 28, 28, device=device)",
                      "# cel = nn.CrossEntropyLoss()"]:
        assert seed_line in code, seed_line
    assert "coeffs.grad = None" in code and "device = \"cuda\" if torch.cuda.is_available() else \"cpu\"" in code
    notes = [c.source for c in (*one.cells, *two.cells) if c.cell_type == "markdown" and "**Fixed:**" in c.source]
    assert len(notes) == 5
    assert seed_notebook_2(sample, "sample") == seed_notebook_2(sample, "sample")  # the same data, the same file
    packed = read(seed_notebook_1(generate_candles(2500), "big"))  # long data is packed
    assert "gzip.decompress" in packed.cells[2].source
