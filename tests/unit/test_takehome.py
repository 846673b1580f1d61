"""Take-home scripts: run with plain `python` (no explorer on the path), they print the numbers the page computed."""
from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.labs.accumulation import AccumulationLab, history_code, replay
from explorer.autograd.expr import ExpressionError
from explorer.autograd.lesson import EXAMPLES, gradient_printout, graph_lesson, run_lesson, seed_printout
from explorer.labs.retain import TRADING_LOSSES, RetainLab, calls_code, replay_calls
from explorer.data.sample import generate_candles
from explorer.teaching.source import lesson_source
from explorer.teaching.parts import read_candles
from explorer.teaching.takehome import (ACCUMULATION_PARTS, GRAPH_PARTS, RETAIN_PARTS, accumulation_script,
                                        data_script, expression_code, graph_script, retain_script)
from explorer.tensors import candle_row, candles_to_tensor, seeded_leaves, summarize


def run_script(text: str, tmp_path) -> str:
    """Write the script to an empty folder and run it with the bare interpreter; its stdout."""
    path = tmp_path / "script.py"
    path.write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def no_explorer_import(text: str) -> bool:
    tree = ast.parse(text)
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    return set(names) <= {"torch", "pandas", "io", "gzip", "base64", "__future__", "dataclasses", "enum", "typing",
                          "contextlib"}


def built_from(script: str, *objects) -> bool:
    """The script holds the source of each function or class, exactly as explorer has it (the code run)."""
    return all(textwrap.dedent(inspect.getsource(obj)) in script for obj in objects)


@pytest.fixture(scope="module")
def frame():
    return generate_candles(300)


@pytest.mark.parametrize("text", [EXAMPLES[0], EXAMPLES[2], EXAMPLES[5], "F.relu(x / 1000 @ w.T + b)",
                                  "(x * w).softmax().sum() + pow(b, 2)"])
def test_graph_script_prints_the_lesson(frame, tmp_path, text):
    lesson = run_lesson(frame, 123, 7, text)
    script = graph_script(lesson.x, 123, 7, text)
    assert no_explorer_import(script) and built_from(script, seeded_leaves, graph_lesson, seed_printout,
                                                     gradient_printout)
    assert "print(" not in "".join(lesson_source(*GRAPH_PARTS))  # the lesson prints nothing: the driver does
    out = run_script(script, tmp_path)
    assert seed_printout(*lesson.tensors()) in out  # x, w, b, y: every digit torch prints
    assert gradient_printout(lesson.w, lesson.b) in out
    assert out.count("w.grad, b.grad") == 1 and out.index("y\ntensor(") < out.index("w.grad, b.grad")


def test_expression_code_reparses_and_refuses():
    assert expression_code("relu(x @ w.T + b)") == "torch.relu(x @ w.T + b)"
    assert expression_code("torch.softmax(x * w)") == "torch.softmax(x * w, dim=-1)"
    assert expression_code("(x*w).sum()") == "(x * w).sum()"
    for bad in ["__import__('os').system('ls')", "x; import os", "open('f')", "x.__class__", "exec('1')"]:
        with pytest.raises(ExpressionError):
            expression_code(bad)


def test_accumulation_script_replays_the_history(frame, tmp_path):
    lab = AccumulationLab(candle_row(frame, 42), seed=3)
    lab.grad_zero_()  # fails: .grad is None before the first backward
    lab.run_steps(3)
    lab.zero_grad(set_to_none=False)
    lab.forward_backward()
    lab.zero_grad(set_to_none=True)
    lab.grad_zero_()  # fails again
    lab.zero_after_step = True
    lab.run_steps(2)
    lab.zero_after_step = False
    lab.forward_backward()
    lab.grad_zero_()  # works now: both grads exist
    script = accumulation_script(lab.x, lab.seed, lab.history)
    assert no_explorer_import(script) and built_from(script, *ACCUMULATION_PARTS)
    printed = [line for line in run_script(script, tmp_path).splitlines() if line.startswith("#")]
    expected = [r.line() for r in lab.history]
    assert printed == expected and len(expected) == 13
    assert "failed" in lab.history[1].note and lab.history[7].b_grad is None  # every kind of click is in there
    assert history_code(lab.history) == "GFFFZFNGffFG" and lab.history[-1].error is None
    assert lab.history[4].w_grad == (3 * lab.x).flatten().tolist()  # three backward() calls added x three times
    lab.reset()  # reset starts a fresh history: the script starts from the new leaves
    lab.forward_backward()
    printed = [line for line in run_script(accumulation_script(lab.x, lab.seed, lab.history), tmp_path).splitlines()
               if line.startswith("#")]
    assert printed == [r.line() for r in lab.history]


@pytest.mark.parametrize("name, pnl", [(name, -3.0) for name in TRADING_LOSSES] + [
    (next(iter(TRADING_LOSSES)), 0.0), (next(iter(TRADING_LOSSES)), 2.5)])
def test_retain_script_replays_the_calls(tmp_path, name, pnl):
    lab = RetainLab(pnl, name)
    lab.backward(retain_graph=True)
    lab.autograd_grad(retain_graph=False)
    lab.backward(retain_graph=False)  # fails unless the graph was kept: autograd.grad freed it
    lab.autograd_grad(retain_graph=True)
    script = retain_script(pnl, TRADING_LOSSES[name], lab.events)
    assert no_explorer_import(script) and built_from(script, TRADING_LOSSES[name], *RETAIN_PARTS)
    printed = run_script(script, tmp_path).splitlines()
    assert printed == [e.line() for e in lab.events] and len(printed) == 5
    if pnl == -3.0:  # the third call failed on the freed graph, in the script as on the page
        assert printed[3].endswith(lab.events[3].result) and lab.events[3].result.startswith("RuntimeError: ")


@pytest.mark.parametrize("rows", [50, 2500])
def test_data_script_prints_the_tensor(tmp_path, rows):
    frame = generate_candles(rows)
    script = data_script(frame, "test")
    assert no_explorer_import(script) and built_from(script, candles_to_tensor, read_candles)
    out = run_script(script, tmp_path)
    tensor = candles_to_tensor(frame)
    summary = summarize(tensor)
    assert f"({summary.dtype}, {summary.shape}, {summary.device})" in out
    assert summary.text in out
    assert f"sum of all values (float64): {tensor.double().sum().item()!r}" in out
    assert str(frame.head()) in out and str(frame.tail()) in out


def test_device_argument_reaches_the_leaves(frame):
    """No GPU here: the 'meta' device shows the tensors are created where asked; 'cpu' gives the default numbers."""
    x = candle_row(frame, 3, "meta")
    w, b = seeded_leaves(x, 0)
    assert (x.device.type, w.device.type, b.device.type) == ("meta", "meta", "meta")
    assert w.is_leaf and w.requires_grad and b.is_leaf
    on_cpu = run_lesson(frame, 3, 0, device="cpu")  # y = x @ w.T + b: dy/dw = x, dy/db = 1
    reference_w, _ = seeded_leaves(candle_row(frame, 3), 0)
    assert on_cpu.x.device.type == "cpu" and torch.equal(on_cpu.w.detach(), reference_w.detach())
    assert torch.equal(on_cpu.w.grad, on_cpu.x) and on_cpu.b.grad.tolist() == [1.0]
    lab = RetainLab(-3.0, device="cpu")
    lab.backward()
    assert lab.pnl.device.type == "cpu" and lab.pnl.grad.item() == -6.0


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet="FfNZG", max_size=12))
def test_history_code_round_trips_any_clicks(code):
    """Clicks → letters in a URL → replayed on a fresh lab: the same history, number for number."""
    x = candle_row(generate_candles(20), 3)
    lab = AccumulationLab(x, seed=1)
    replay(lab, code)
    assert history_code(lab.history) == code
    again = AccumulationLab(x, seed=1)
    replay(again, history_code(lab.history))
    assert again.history == lab.history


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet="BbAa", max_size=8), st.sampled_from([-3.0, 0.0, 2.5]))
def test_calls_code_round_trips_any_calls(code, pnl):
    lab = RetainLab(pnl)
    replay_calls(lab, code)
    assert calls_code(lab) == code
    again = RetainLab(pnl)
    replay_calls(again, calls_code(lab))
    assert again.events == lab.events


def test_replay_refuses_other_letters():
    with pytest.raises(ValueError):
        replay(AccumulationLab(candle_row(generate_candles(20), 3), seed=1), "FFx")
    with pytest.raises(ValueError):
        replay_calls(RetainLab(1.0), "B" * 51)


def test_microbatch_script_prints_the_table(frame, tmp_path):
    from explorer.labs import microbatch as mb
    from explorer.labs.microbatch import compare_microbatches
    from explorer.teaching.takehome import microbatch_script
    result = compare_microbatches(frame, 40, 12, 3, seed=2)
    script = microbatch_script(frame, 40, 12, 3, 2)
    assert no_explorer_import(script) and built_from(script, mb.candle_batch, mb.full_batch_grad, mb.accumulated_grad)
    printed = dict(line.split(": ", 1) for line in run_script(script, tmp_path).splitlines())
    for label, column in [("full batch", "full batch"), ("sum of loss_i / k", "Σ loss_i / k"),
                          ("sum of loss_i (no / k)", "Σ loss_i (no / k)")]:
        assert ast.literal_eval(printed[label]) == result.table[column].tolist()  # bit for bit (see microbatch_script)


def test_optimizer_script_prints_the_labs_steps(frame, tmp_path):
    from explorer.labs.optimizer_lab import OptimizerLab, seeded_linear, sgd_step
    from explorer.teaching.takehome import optimizer_script
    x = candle_row(frame, 7) / 1000  # smaller numbers keep SGD's updates readable; the script embeds them exactly
    lab = OptimizerLab(x, seed=3, lr=1e-3)
    flags = [True, False, False, True]
    for flag in flags:
        lab.train_step(zero_grad=flag)
    script = optimizer_script(x, 3, 1e-3, flags)
    assert no_explorer_import(script) and built_from(script, seeded_linear, sgd_step)
    lines = run_script(script, tmp_path).splitlines()
    for line, step in zip(lines, lab.steps):
        y, weight, bias = (part.split(" = ", 1)[1] for part in line.split(": ", 1)[1].split("; "))
        assert float(y) == step.y and ast.literal_eval(weight) == step.weight_grad and float(bias) == step.bias_grad
    assert ast.literal_eval(lines[-2].split(" = ", 1)[1]) == lab.model.weight.detach().flatten().tolist()
    assert float(lines[-1].split(" = ", 1)[1]) == lab.model.bias.item()


def test_lab_scripts_are_lesson_source_and_a_printing_driver(frame):
    """The labs' scripts define the lesson functions (as explorer has them) and a `show` that prints, nothing else:
    no instrument (Click, GradRecord, run_click, run_call, OptimizerLab) travels home."""
    from explorer.labs import microbatch as mb
    from explorer.labs.optimizer_lab import OptimizerLab, seeded_linear, sgd_step, sgd_step_without_zero_grad
    from explorer.teaching.takehome import microbatch_script, optimizer_script
    lab = AccumulationLab(candle_row(frame, 4), seed=2)
    lab.grad_zero_()
    lab.run_steps(2)
    retain_lab = RetainLab(-3.0)
    retain_lab.backward()
    retain_lab.backward()
    opt = OptimizerLab(candle_row(frame, 4) / 1000, seed=2, lr=1e-3)
    opt.train_step(zero_grad=False)
    scripts = {accumulation_script(lab.x, 2, lab.history): ACCUMULATION_PARTS,
               retain_script(-3.0, TRADING_LOSSES[retain_lab.loss_name], retain_lab.events): (
                   TRADING_LOSSES[retain_lab.loss_name], *RETAIN_PARTS),
               optimizer_script(opt.x, 2, 1e-3, [False]): (seeded_linear, sgd_step, sgd_step_without_zero_grad),
               microbatch_script(frame, 10, 6, 2, 1): (mb.candle_batch, seeded_linear, mb.flat_grads,
                                                       mb.full_batch_grad, mb.accumulated_grad)}
    for script, parts in scripts.items():
        assert built_from(script, *parts)
        defined = {n.name for n in ast.parse(script).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        lessons = {p.__name__ for p in parts} | {"seeded", "seeded_leaves", "candles_to_tensor"}
        assert defined - lessons <= {"show", "read_candles"}, defined - lessons
        assert not any(name in script for name in ("Click", "GradRecord", "run_click", "run_call", "OptimizerLab"))
