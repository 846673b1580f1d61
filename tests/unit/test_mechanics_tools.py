"""Hooks, higher order, a custom Function and anomaly mode: each lesson's numbers and messages against plain torch."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
import torch
from torch.autograd.gradcheck import GradcheckError

from explorer.data.sample import generate_candles
from explorer.mechanics import tools
from explorer.mechanics.scripts import tools_script
from explorer.teaching.quiz import check


@pytest.fixture(scope="module")
def frame():
    return generate_candles(300)


def move(frame, row):
    """The candle's move in percent, computed here in plain torch."""
    c = frame.iloc[row]
    return torch.tensor(100 * (c["close"] - c["open"]) / c["open"], dtype=torch.float64)


def torch_message(call) -> str:
    try:
        call()
    except RuntimeError as exc:
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError("torch did not raise")


@pytest.mark.parametrize("row", [0, 100, 299])
def test_hooks_fire_in_order_and_the_hook_scales_w_grad(frame, row):
    x = move(frame, row)
    y, w, b, fired = tools.hooks_lesson(x, scale=3.0)
    z = 0.5 * x + 0.1  # plain torch: the same y without hooks
    dy_dz = 1 - torch.tanh(z) ** 2
    assert [where for where, _ in fired] == ["TanhBackward0 pre-hook", "TanhBackward0 hook", "z hook", "w hook"]
    assert fired[0][1].item() == 1.0
    assert fired[1][1].item() == pytest.approx(dy_dz.item(), rel=1e-15)
    assert fired[2][1].item() == fired[1][1].item()
    assert w.grad.item() == pytest.approx(3.0 * (dy_dz * x).item(), rel=1e-14)
    assert fired[3][1].item() == w.grad.item()  # the second hook sees the scaled gradient
    assert b.grad.item() == pytest.approx(dy_dz.item(), rel=1e-15)  # no hook on b


def test_hooks_view_shows_torchs_refusal_and_draws_where_each_hook_fires(frame):
    x = move(frame, 100)
    shown = tools.tools_view("hooks", frame, 100, 14)
    assert shown.message == torch_message(lambda: x.clone().register_hook(lambda g: g))
    labels = [t for t in re.findall(r"<tspan[^>]*>([^<]*)</tspan>", shown.svg) if t.strip()]  # not the separators
    def under(name):  # the lines drawn under a node's name
        return labels[labels.index(next(t for t in labels if t.startswith(name))) + 1:][:3]
    assert "fires: pre-hook 1, hook 2" in under("TanhBackward0")
    assert "fires: z hook 3" in under("AddBackward0")
    assert "fires: hook 4" in under("w ")
    question = shown.question
    assert check(question, repr(shown.facts["w_grad"])).correct
    assert not check(question, repr(shown.facts["dy_dw"])).correct


@pytest.mark.parametrize("row", [0, 57, 100, 299])
def test_second_derivative_of_tanh_equals_hessian(frame, row):
    x = move(frame, row)
    leaf, dy_dx, d2 = tools.second_derivative(x)
    hessian = torch.autograd.functional.hessian(torch.tanh, x)
    assert d2.item() == pytest.approx(hessian.item(), rel=1e-14, abs=1e-300)
    t = torch.tanh(x)
    assert d2.item() == pytest.approx((-2 * t * (1 - t ** 2)).item(), rel=1e-12)
    assert dy_dx.grad_fn is not None  # create_graph=True: the first gradient has a graph
    shown = tools.tools_view("higher", frame, row, 14)
    assert shown.facts["d2"] == d2.item() and shown.facts["hessian"] == hessian.item()
    leaf2 = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(torch.tanh(leaf2), leaf2)
    assert shown.message == torch_message(lambda: torch.autograd.grad(g, leaf2))
    assert "TanhBackwardBackward0" in shown.svg  # the graph drawn is the gradient's own


def test_custom_function_passes_gradcheck_and_matches_autograd(frame):
    last, first = (torch.tensor(float(frame[c].iloc[42]), dtype=torch.float64) for c in ("close", "open"))
    inputs = (last.clone().requires_grad_(), first.clone().requires_grad_())
    assert torch.autograd.gradcheck(tools.LogReturn.apply, inputs)
    r, last_leaf, first_leaf = tools.log_return_lesson(last, first)
    a, b = last.clone().requires_grad_(), first.clone().requires_grad_()
    torch.log(a / b).backward()  # autograd's own derivative of the same formula
    assert r.item() == torch.log(last / first).item()
    assert last_leaf.grad.item() == pytest.approx(a.grad.item(), rel=1e-12)
    assert first_leaf.grad.item() == pytest.approx(b.grad.item(), rel=1e-12)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        torch.autograd.gradcheck(tools.LogReturnSignBug.apply, inputs)
    shown = tools.tools_view("function", frame, 42, 14)
    assert shown.facts["gradcheck"] is True
    assert shown.message.startswith("GradcheckError: Jacobian mismatch for output 0 with respect to input 1")
    assert "LogReturnBackward" in shown.svg


def test_anomaly_mode_names_the_op_that_made_the_nan(frame):
    flat = frame.copy()
    flat.iloc[10, flat.columns.get_loc("close")] = flat["close"].iloc[9]  # candles 9 and 10 close alike
    assert tools.flat_window_end(flat) == 10
    prices = torch.tensor(flat["close"].iloc[9:11].to_numpy(copy=True), dtype=torch.float64)
    vol, leaf = tools.volatility(prices)
    assert vol.item() == 0.0 and torch.isnan(leaf.grad).all()  # without anomaly mode: quietly NaN
    shown = tools.tools_view("anomaly", flat, 0, 14)
    assert shown.inputs["prices"].tolist() == prices.tolist()
    assert shown.facts["named"] == "PowBackward0"
    assert "Function 'PowBackward0' returned nan values in its 0th output." in shown.message
    assert "vol = torch.sqrt((deviation ** 2).mean())" in shown.facts["trace"]  # the forward line that made it
    assert "in volatility" in shown.facts["trace"] and "in tools_view" not in shown.facts["trace"]
    assert "returned NaN (anomaly mode)" in shown.svg
    assert not torch.is_anomaly_enabled()


def test_anomaly_mode_without_a_flat_window_uses_a_halted_market(frame):
    assert tools.flat_window_end(frame.iloc[:20].assign(close=range(20))) is None
    moving = frame.iloc[:20].assign(close=[float(i) for i in range(1, 21)])
    shown = tools.tools_view("anomaly", moving, 5, 14)
    assert shown.inputs["prices"].tolist() == [6.0, 6.0]
    assert shown.facts["named"] == "PowBackward0"


@pytest.mark.parametrize("view", list(tools.VIEWS))
def test_take_home_script_prints_the_pages_numbers_and_torchs_message(frame, tmp_path, view):
    shown = tools.tools_view(view, frame, 100, 14)
    path = tmp_path / f"autograd_{view}.py"
    path.write_text(tools_script(view, shown))
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert shown.message.splitlines()[0] in done.stdout  # PyTorch's refusal, as on the page
    printed = set(done.stdout.splitlines())
    shared = [line.split("   (")[0].strip() for line in shown.fixed.splitlines()
              if line.split("   (")[0].strip() in printed]
    assert len(shared) >= 2, (shown.fixed, done.stdout)


def test_scratchpad_programs_run_there_and_give_the_lessons_numbers(frame):
    from explorer.mechanics.scratchpad import parse_program, run_program
    for view in ("higher", "function", "anomaly"):
        shown = tools.tools_view(view, frame, 100, 14)
        run = run_program(parse_program(shown.scratch), 99)
        assert [o.error for o in run.outcomes] == [None] * 4, view
        env = run.env
        if view == "higher":
            assert env["d2y_dx2"].item() == shown.facts["d2"]
        elif view == "function":
            assert env["last"].grad.item() == pytest.approx(shown.facts["last_grad"], rel=1e-12)
            assert env["first"].grad.item() == pytest.approx(shown.facts["first_grad"], rel=1e-12)
        else:
            assert torch.isnan(env["prices"].grad).all()
    assert tools.tools_view("hooks", frame, 100, 14).scratch is None  # hooks need a function: not a statement list
