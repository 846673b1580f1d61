"""The seven autograd errors: each broken lesson raises (or warns) with PyTorch's own message, each fix gives plain
torch's numbers, the graph shows the versions torch has, and watching a lesson changes nothing it computes."""
from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import warnings
from urllib.parse import unquote

import pytest
import torch

from explorer.autograd.node import label_lines, read_saved
from explorer.data.sample import generate_candles
from explorer.mechanics import errors as er
from explorer.mechanics.error_views import error_parts, error_view, other_device, scratch_program
from explorer.mechanics.watch import Watch, lesson_graph, run_lesson

ROW, SEED = 100, 0


@pytest.fixture(scope="module")
def frame():
    return generate_candles(300)


@pytest.fixture(scope="module")
def x(frame):
    return er.candle_moves(frame, ROW)


def w0():
    return torch.randn(4, generator=torch.Generator().manual_seed(SEED), requires_grad=True)


def refusal(call) -> str:
    """What plain torch raises for `call()`."""
    with pytest.raises((RuntimeError, AssertionError)) as info:
        call()
    return f"{info.type.__name__}: {info.value}"


def view(frame, key, devices=("cpu",), picked="cpu"):
    return error_view(key, frame, ROW, SEED, list(devices), picked)


def marks(model, name):
    return [m for n in model.nodes.values() if n.name == name for m in n.marks]


def test_inputs_are_plain_torch(frame, x):
    candles = frame.iloc[ROW - 3:ROW + 1]
    opens = torch.tensor(candles["open"].to_numpy(), dtype=torch.float32)
    closes = torch.tensor(candles["close"].to_numpy(), dtype=torch.float32)
    assert torch.equal(x, 10_000 * (closes - opens) / opens)
    w = er.make_weights(SEED)
    assert torch.equal(w, w0()) and w.is_leaf and w.requires_grad


def test_inplace_on_saved_tensor(frame, x):
    def plain():
        w = w0()
        y = torch.sigmoid(x * w)
        y.add_(1)
        y.sum().backward()
    v = view(frame, "inplace")
    broken, fixed = v.sides
    assert broken.run.error == refusal(plain) and "is at version 1; expected version 0" in broken.run.error
    s = torch.sigmoid(x * w0().detach())
    assert torch.allclose(fixed.run.value, x * s * (1 - s), rtol=1e-6)
    assert v.question.answer == (1.0,)


def test_the_versions_drawn_are_torchs(x):
    w = w0()
    y = torch.sigmoid(x * w)
    y.add_(1)
    run = run_lesson(er.inplace_on_saved, x, er.make_weights(SEED))
    model = lesson_graph(run, "y.sum()")
    (saved,) = read_saved(next(f for f in run.watch.nodes if type(f).__name__ == "SigmoidBackward0"))
    assert saved.version == y._version == 1 and saved.stale
    assert marks(model, "SigmoidBackward0") == [f"saved result: v0, now v{y._version} ✗"]
    assert f"_version {w._version}" in marks(model, "w")
    fixed = run_lesson(er.sgd_step_under_no_grad, x, er.make_weights(SEED))
    assert fixed.value._version == 1 and "_version 1" in marks(lesson_graph(fixed, "loss"), "w")


def test_inplace_on_leaf(frame, x):
    def plain():
        w = w0()
        w -= 1.0
    v = view(frame, "leaf")
    assert v.sides[0].run.error == refusal(plain)
    w = w0()
    loss = ((x * w).sum() - 1) ** 2
    loss.backward()
    with torch.no_grad():
        expected = w - 0.1 * w.grad
    stepped = v.sides[1].run.value
    assert torch.equal(stepped, expected) and stepped.is_leaf and stepped.requires_grad


def test_nothing_requires_grad_and_the_cuts(frame, x):
    def plain():
        with torch.no_grad():
            loss = (x * w0()).sum()
        loss.backward()
    v = view(frame, "no_grad")
    assert v.sides[0].run.error == refusal(plain)
    w = w0()
    ((x * w).sum() - 1).pow(2).backward()
    assert torch.equal(v.sides[1].run.value, w.grad)
    made = v.more.run.value
    flags = {name: (t.requires_grad, t.grad_fn is None, t.is_leaf) for name, t in made.items()}
    assert flags["x * w"] == (True, False, False)
    assert all(f == (False, True, True) for name, f in flags.items() if name != "x * w")
    cuts = [n.name for n in lesson_graph(v.more.run, "x * w").nodes.values() if n.id.startswith("cut")]
    assert cuts == ["no_grad()", "inference_mode()", "detach()", "requires_grad_(False)"]
    assert v.question.answer == "RuntimeError"
    drawn = lesson_graph(v.sides[0].run, "loss")  # no graph at all: w, the cut, and the loss without grad_fn
    assert "is_leaf True · requires_grad False · grad_fn None" in marks(drawn, "loss")


def test_backward_of_a_vector_is_a_vector_jacobian_product(frame, x):
    v = view(frame, "vector")
    assert v.sides[0].run.error == refusal(lambda: torch.cumsum(x * w0(), 0).backward())
    weights = torch.tensor(er.V)
    jacobian = torch.autograd.functional.jacobian(lambda w: torch.cumsum(x * w, dim=0), w0().detach())
    assert torch.allclose(v.sides[1].run.value, jacobian.T @ weights, rtol=1e-6)
    assert torch.equal(v.more.run.value, jacobian.T @ weights)
    assert v.more.printout.endswith("equal to w.grad from backward(gradient=v): True")


def test_grad_of_a_non_leaf_warns_and_retain_grad_keeps_it(frame, x):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        torch.set_warn_always(True)
        try:
            (x * w0()).grad
        finally:
            torch.set_warn_always(False)
    v = view(frame, "non_leaf")
    broken, fixed = v.sides
    assert broken.run.value is None and broken.run.warnings == [f"UserWarning: {seen[0].message}"]
    assert broken.level == "warning"
    w = w0()
    h = x * w
    expected = 2 * ((h.sum() - 1)) * torch.ones(4)
    assert torch.allclose(fixed.run.value, expected.detach())
    assert any(m.startswith("retains_grad True") for m in marks(lesson_graph(fixed.run, "loss"), "MulBackward0"))
    assert any(m.startswith("retains_grad False · .grad None")
               for m in marks(lesson_graph(broken.run, "loss"), "MulBackward0"))
    assert v.more.run.error == refusal(lambda: (x * w0().detach()).retain_grad())
    assert v.question.answer == "None"


def test_numpy_needs_detach(frame, x):
    v = view(frame, "numpy")
    assert v.sides[0].run.error == refusal(lambda: (x * w0()).numpy())
    assert (v.sides[1].run.value == (x * w0()).detach().numpy()).all()
    assert "detach()" in [n.name for n in lesson_graph(v.sides[1].run, "y").nodes.values()]


def test_devices_on_a_cpu_only_machine(frame, x, cpu_only):
    v = view(frame, "device")
    assert other_device(["cpu"], "cpu") is None and v.device is None
    assert v.sides[0].level == "info" and "no GPU" in v.sides[0].message
    assert torch.equal(v.sides[1].run.value, (x * w0()).detach())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU: the real two-device error")
def test_devices_with_a_gpu(frame, x):
    v = view(frame, "device", ("cpu", "cuda"), "cpu")
    assert v.device == "cuda" and v.sides[0].level == "error"
    assert v.sides[0].run.error == refusal(lambda: x * w0().to("cuda"))
    assert "Expected all tensors to be on the same device" in v.sides[0].run.error
    assert torch.equal(v.sides[1].run.value, (x * w0()).detach())


@pytest.mark.parametrize("fn", [er.out_of_place, er.sgd_step_under_no_grad, er.loss_with_grad,
                                er.retain_grad_of_non_leaf, er.numpy_of_detached])
def test_watching_changes_no_number(x, fn):
    bare = fn(x, er.make_weights(SEED))
    with Watch():
        watched = fn(x, er.make_weights(SEED))
    assert (bare == watched).all()


@pytest.mark.parametrize("key", list(er.ERRORS))
def test_scratch_program_is_the_broken_lesson(frame, x, key):
    v = view(frame, key)
    program = unquote(v.scratch.partition("?code=")[2])
    tree = ast.parse(program)
    assert ast.unparse(tree.body[0]).startswith("x = torch.tensor([")
    lesson = ast.parse(inspect.getsource(er.ERRORS[key].broken)).body[0].body[1:]  # after the docstring
    assert ast.unparse(lesson[0]) in program
    assert scratch_program(er.ERRORS[key].broken, x, w0(), "cuda") == program


@pytest.mark.parametrize("key", list(er.ERRORS))
def test_the_scratchpad_runs_the_broken_lesson_and_meets_the_same_error(frame, key):
    """"Open in scratchpad" opens a program the scratchpad accepts, and running it meets PyTorch's message."""
    from explorer.mechanics.scratchpad import parse_program, run_program
    program = parse_program(unquote(view(frame, key).scratch.partition("?code=")[2]))
    run = run_program(program, len(program.statements))
    said = " ".join(f"{o.error or ''} {' '.join(o.warnings)}" for o in run.outcomes)
    message = view(frame, key).sides[0].run.message  # what the page shows beside the broken lesson
    assert message and message.split("\n")[0][:60] in said


@pytest.mark.parametrize("key", list(er.ERRORS))
def test_take_home_script_prints_torchs_messages(frame, key, tmp_path):
    v = view(frame, key)
    script = tmp_path / "s.py"
    script.write_text(error_parts(v).script)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120).stdout
    broken = v.sides[0].run
    assert (broken.error or broken.warnings[0]) in out
    assert f"{er.ERRORS[key].fixed.__name__} returned\n{v.sides[1].run.value!r}" in out


def test_graph_labels_hold_the_marks(x):
    model = lesson_graph(run_lesson(er.grad_of_non_leaf, x, er.make_weights(SEED)), "loss")
    w = next(n for n in model.nodes.values() if n.name == "w")
    assert label_lines(w)[-2:] == ["is_leaf True · requires_grad True", "_version 0"]


def test_a_graph_cut_everywhere_still_draws_w_the_cut_and_the_loss(x):
    model = lesson_graph(run_lesson(er.loss_under_no_grad, x, er.make_weights(SEED)), "loss")
    names = {nid: n.name for nid, n in model.nodes.items()}
    assert sorted(names.values()) == ["loss", "no_grad()", "w", "x"]
    ids = {name: nid for nid, name in names.items()}
    assert {(e.src, e.dst) for e in model.edges} == {(ids["w"], ids["no_grad()"]), (ids["no_grad()"], ids["loss"])}


def test_the_second_device_is_the_picked_one_else_the_first_accelerator():
    assert other_device(["cpu"], "cpu") is None
    assert other_device(["cpu", "cuda"], "cpu") == "cuda"
    assert other_device(["cpu", "cuda", "mps"], "mps") == "mps"
    assert other_device(["cpu"], "cuda") is None  # a link's device this machine lacks
