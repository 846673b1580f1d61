"""PyTorch's autograd tutorials as lessons on one candle: hooks, higher-order gradients, a custom Function, anomaly
mode.

The lessons (top) are plain torch: the page shows them and the take-home scripts are made of them. The instrument
below runs them, keeps PyTorch's refusals and warnings as text, and draws their graphs with notes on the nodes.
"""
from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
import torch

from explorer.autograd.graph import build_graph
from explorer.autograd.graph_plot import graph_svg
from explorer.teaching import questions
from explorer.teaching.quiz import Question


def candle_move(frame, row):
    """The candle's move in percent, 100 * (close - open) / open, as a float64 number: the x of these lessons."""
    candle = frame.iloc[row]
    return torch.tensor(100 * (candle["close"] - candle["open"]) / candle["open"], dtype=torch.float64)


def hooks_lesson(x, scale=2.0):
    """y = tanh(w * x + b) with hooks on tensors and on y's grad_fn; backward() calls each as it gets there."""
    fired = []
    w = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    z = w * x + b
    y = torch.tanh(z)
    y.grad_fn.register_prehook(lambda grad_outputs: fired.append(("TanhBackward0 pre-hook", grad_outputs[0])))
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: fired.append(("TanhBackward0 hook", grad_inputs[0])))
    z.register_hook(lambda grad: fired.append(("z hook", grad)))
    w.register_hook(lambda grad: grad * scale)  # a hook that returns a tensor replaces the gradient
    w.register_hook(lambda grad: fired.append(("w hook", grad)))  # hooks run in order: this one sees the scaled one
    y.backward()
    return y, w, b, fired


def hook_on_a_constant(x):
    """register_hook on a tensor that does not require grad: autograd will never compute its gradient."""
    x.register_hook(lambda grad: grad * 2)


def second_derivative(x):
    """d²tanh/dx²: the first grad with create_graph=True is itself a graph, so it can be differentiated again."""
    x = x.detach().requires_grad_()
    y = torch.tanh(x)
    (dy_dx,) = torch.autograd.grad(y, x, create_graph=True)  # 1 - tanh(x)**2, with a grad_fn of its own
    (d2y_dx2,) = torch.autograd.grad(dy_dx, x)
    return x, dy_dx, d2y_dx2


def second_derivative_without_create_graph(x):
    """The same without create_graph=True: the first grad is a plain number, there is nothing to differentiate."""
    x = x.detach().requires_grad_()
    y = torch.tanh(x)
    (dy_dx,) = torch.autograd.grad(y, x)
    (d2y_dx2,) = torch.autograd.grad(dy_dx, x)
    return d2y_dx2


def hessian_of_tanh(x):
    """torch.autograd.functional.hessian does the grad of a grad for you."""
    return torch.autograd.functional.hessian(torch.tanh, x)


class LogReturn(torch.autograd.Function):
    """log(last / first) with its gradient written by hand."""

    @staticmethod
    def forward(ctx, last, first):
        ctx.save_for_backward(last, first)
        return torch.log(last / first)

    @staticmethod
    def backward(ctx, grad_output):
        last, first = ctx.saved_tensors
        return grad_output / last, -grad_output / first  # d/dlast = 1/last, d/dfirst = -1/first


class LogReturnSignBug(LogReturn):
    """The same forward, with a mistake in backward: the minus sign of d/dfirst is missing."""

    @staticmethod
    def backward(ctx, grad_output):
        last, first = ctx.saved_tensors
        return grad_output / last, grad_output / first


def log_return_lesson(last, first):
    """r = LogReturn.apply(last, first); backward() runs LogReturn.backward with the tensors forward saved."""
    last, first = last.detach().requires_grad_(), first.detach().requires_grad_()
    r = LogReturn.apply(last, first)
    r.backward()
    return r, last, first


def check_function(function, last, first):
    """gradcheck compares backward() with finite differences of forward() (float64 inputs that require grad)."""
    inputs = (last.detach().requires_grad_(), first.detach().requires_grad_())
    return torch.autograd.gradcheck(function.apply, inputs)


def volatility(prices):
    """The window's volatility written out: sqrt of the mean squared deviation; backward() gives each price's grad."""
    prices = prices.detach().requires_grad_()
    deviation = prices - prices.mean()
    vol = torch.sqrt((deviation ** 2).mean())
    vol.backward()
    return vol, prices


def volatility_in_anomaly_mode(prices):
    """The same under detect_anomaly: backward() raises at the first NaN and names the op that made it."""
    with torch.autograd.detect_anomaly():
        return volatility(prices)


def window_closes(frame, end, size=2):
    """The closes of candles end-size+1 … end, as float64."""
    return torch.tensor(frame["close"].iloc[end - size + 1:end + 1].to_numpy(copy=True), dtype=torch.float64)


# --- the instrument: run the lessons, keep PyTorch's messages as text, draw and annotate the graphs ---------------

VIEWS = {"hooks": "Hooks", "higher": "Higher order", "function": "Custom Function", "anomaly": "Anomaly mode"}
PAGE_INTRO = ("Four ideas from PyTorch's autograd tutorials, each a few lines of plain PyTorch run now on a candle of "
              "the loaded data: the broken call with PyTorch's own message, next to the fix.")
ROW_HELP = "Which candle the lessons use: its move in percent, 100·(close − open)/open, or its close and open."
ANOMALY_LOCK = threading.Lock()  # anomaly mode is process-wide: two sessions must not switch it off under each other
HOOK_SITES = {"TanhBackward0": "TanhBackward0", "z": "AddBackward0", "w": "w"}  # where each hook of hooks_lesson sits


@dataclass
class ToolView:
    """What one view shows: the intro, the broken call with PyTorch's message, the fix's printout, the graph."""
    intro: str
    broken: str  # the heading over PyTorch's message: the broken call, in words
    message: str  # PyTorch's own text
    fixed: str  # the fix, printed
    lessons: tuple[Callable, ...]  # what the page shows (show_code)
    svg: str = ""
    note: str = ""
    scratch: str | None = None  # a program for the scratchpad
    facts: dict = field(default_factory=dict)  # numbers the quiz and the tests read
    inputs: dict[str, torch.Tensor] = field(default_factory=dict)  # what the lessons ran on (the take-home embeds it)
    question: Question | None = None  # asked before the printouts, in quiz mode
    fixed_label: str = "**The fix**, run now"


def caught(call: Callable, *args) -> str:
    """The text of the RuntimeError `call(*args)` raises (PyTorch's refusal), or '' when it runs."""
    try:
        call(*args)
    except RuntimeError as exc:
        return f"{type(exc).__name__}: {exc}".rstrip()
    return ""


def annotated(model, notes: dict[str, str]):
    """The graph model with a note on the nodes named in `notes` (a line under the node's name: GraphNode.marks)."""
    for node in model.nodes.values():
        if node.name in notes:
            node.marks.append(notes[node.name])
    return model


def hooks_view(x: torch.Tensor, font_px: float, scale: float = 2.0) -> ToolView:
    """Hooks: the order they fire in, drawn on the graph; the refusal of a hook on a constant."""
    y, w, b, fired = hooks_lesson(x, scale)
    notes: dict[str, list[str]] = {}
    for i, (where, _) in enumerate(fired, start=1):
        tensor, hook = where.split(" ", 1)
        notes.setdefault(HOOK_SITES[tensor], []).append(f"{hook} {i}" if HOOK_SITES[tensor] in where else
                                                        f"{where} {i}")  # the order they fired in
    model = annotated(build_graph(y, {"x": x, "w": w, "b": b}),
                      {site: "fires: " + ", ".join(hooks) for site, hooks in notes.items()})
    lines = [f"{i}. {where:<22} grad = {grad.item():.6f}" for i, (where, grad) in enumerate(fired, start=1)]
    return ToolView(
        "Hooks let you watch (or change) a gradient as backward() passes. `Tensor.register_hook(fn)` runs when "
        "that tensor's gradient is ready; `grad_fn.register_prehook` before a node runs, `grad_fn.register_hook` "
        "after. A hook that returns a tensor replaces the gradient: here w's first hook doubles it.",
        "**Broken:** `x.register_hook(...)` on the candle's move, a tensor that does not require grad",
        caught(hook_on_a_constant, x.clone()),
        "\n".join(lines) + f"\n\nw.grad = {w.grad.item():.6f}   (= {scale:g} × dy/dw = {scale:g} × "
        f"{w.grad.item() / scale:.6f})\nb.grad = {b.grad.item():.6f}   (no hook on b)",
        (hooks_lesson, hook_on_a_constant), graph_svg(model, font_px),
        "The numbers on the nodes say when each hook fired: backward() walks from y to the leaves.",
        facts={"order": [where for where, _ in fired], "w_grad": w.grad.item(), "scale": scale,
               "dy_dw": w.grad.item() / scale}, inputs={"x": x},
        question=questions.hooked_w_grad(w.grad.item(), w.grad.item() / scale, scale),
        fixed_label="**The fix:** hooks on tensors in the graph (z, w) and on y.grad_fn, run now")


def higher_view(x: torch.Tensor, font_px: float) -> ToolView:
    """Higher order: grad of a grad with create_graph=True, against hessian; without it, PyTorch refuses."""
    leaf, dy_dx, d2 = second_derivative(x)
    hessian = hessian_of_tanh(x)
    model = build_graph(dy_dx, {"x": leaf}, output_name="dy_dx")
    program = (f"x = torch.tensor({x.item()!r}, dtype=torch.float64, requires_grad=True)\ny = torch.tanh(x)\n"
               "dy_dx = torch.autograd.grad(y, x, create_graph=True)[0]\nd2y_dx2 = torch.autograd.grad(dy_dx, x)[0]\n")
    return ToolView(
        "`torch.autograd.grad(y, x, create_graph=True)` returns dy/dx **with a graph of its own** (drawn below: "
        "the ops of tanh's derivative, 1 − tanh(x)²), so it can be differentiated again. "
        "`torch.autograd.functional.hessian` does the same for you.",
        "**Broken:** the second grad without `create_graph=True`",
        caught(second_derivative_without_create_graph, x),
        f"x            = {x.item():.6f}   (the candle's move, %)\ndy/dx        = {dy_dx.item():.10f}\n"
        f"d²y/dx²      = {d2.item():.10f}   (grad of the grad)\nhessian(...) = {hessian.item():.10f}\n"
        f"-2·tanh·(1-tanh²) = {(-2 * torch.tanh(x) * (1 - torch.tanh(x) ** 2)).item():.10f}   (by hand)",
        (second_derivative, second_derivative_without_create_graph, hessian_of_tanh), graph_svg(model, font_px),
        "The graph of dy/dx: create_graph=True recorded the backward pass itself.", program,
        facts={"d2": d2.item(), "hessian": hessian.item()}, inputs={"x": x},
        question=questions.second_grad_without_create_graph(),
        fixed_label="**The fix:** `create_graph=True`, next to `hessian`, run now")


def function_view(frame: pd.DataFrame, row: int, font_px: float) -> ToolView:
    """Custom Function: LogReturn's backward, gradcheck passing, and the sign bug gradcheck catches."""
    last, first = (torch.tensor(float(frame[c].iloc[row]), dtype=torch.float64) for c in ("close", "open"))
    r, last_leaf, first_leaf = log_return_lesson(last, first)
    passed = check_function(LogReturn, last, first)
    model = annotated(build_graph(r, {"last": last_leaf, "first": first_leaf}, output_name="r"),
                      {"LogReturnBackward": "ctx.saved_tensors: last, first"})
    program = (f"last = torch.tensor({last.item()!r}, dtype=torch.float64, requires_grad=True)\n"
               f"first = torch.tensor({first.item()!r}, dtype=torch.float64, requires_grad=True)\n"
               "r = torch.log(last / first)\nr.backward()\n")  # autograd's own backward, to compare
    return ToolView(
        "A `torch.autograd.Function` pairs a `forward` with a hand-written `backward`. `ctx.save_for_backward` "
        "keeps what backward needs; `ctx.saved_tensors` gives it back. "
        "`torch.autograd.gradcheck` compares backward with finite differences of forward.",
        "**Broken:** gradcheck on `LogReturnSignBug` (its backward forgot a minus sign)",
        caught(check_function, LogReturnSignBug, last, first),
        f"last (close) = {last.item()}, first (open) = {first.item()}\nr = log(last / first) = {r.item():.10f}\n"
        f"last.grad  = {last_leaf.grad.item():.6e}   (1 / last)\nfirst.grad = {first_leaf.grad.item():.6e}   "
        f"(-1 / first)\ngradcheck(LogReturn.apply, ...) -> {passed}",
        (LogReturn, LogReturnSignBug, log_return_lesson, check_function), graph_svg(model, font_px),
        "The custom node is named after the class: LogReturnBackward.", program,
        facts={"gradcheck": passed, "last_grad": last_leaf.grad.item(), "first_grad": first_leaf.grad.item()},
        inputs={"last": last, "first": first}, fixed_label="**The fix:** `LogReturn`; gradcheck passes")


def flat_window_end(frame: pd.DataFrame) -> int | None:
    """The first row whose close equals the one before (a window of 2 flat closes), None when there is none."""
    same = (frame["close"] == frame["close"].shift(1)).to_numpy()
    return int(same.argmax()) if same.any() else None


def anomaly_message(prices: torch.Tensor) -> tuple[str, str]:
    """(PyTorch's error, its 'Traceback of forward call' warning) from volatility_in_anomaly_mode; paths shortened."""
    with ANOMALY_LOCK, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        error = caught(volatility_in_anomaly_mode, prices)
    trace = next((str(w.message) for w in seen if "Traceback of forward call" in str(w.message)), "")
    head, _, frames = trace.partition("\n")
    start = frames.find(f"in {volatility_in_anomaly_mode.__name__}")  # the frames from the lesson on, not ours
    frames = frames[frames.rfind("\n", 0, start) + 1:] if start >= 0 else frames
    return error, re.sub(r'File "[^"]*[/\\]([^"/\\]+)"', r'File "\1"', f"{head}\n{frames}" if trace else "")


def anomaly_view(prices: torch.Tensor, where: str, font_px: float) -> ToolView:
    """Anomaly mode: a flat window's volatility has a NaN gradient; detect_anomaly names the op that made it."""
    vol, leaf = volatility(prices)
    error, trace = anomaly_message(prices)
    named = re.search(r"Function '(\w+)'", error)
    model = annotated(build_graph(vol, {"prices": leaf}, output_name="vol"),
                      {named.group(1): "returned NaN (anomaly mode)"} if named else {})
    program = (f"prices = torch.tensor({prices.tolist()!r}, dtype=torch.float64, requires_grad=True)\n"
               "deviation = prices - prices.mean()\nvol = torch.sqrt((deviation ** 2).mean())\nvol.backward()\n")
    return ToolView(
        f"{where}, so the window's volatility is 0, and the slope of "
        "sqrt at 0 is infinite. Without anomaly mode backward() quietly writes NaN into prices.grad; "
        "`torch.autograd.detect_anomaly()` raises at the first NaN, names the backward op that made it, and "
        "prints the forward line that created that op.",
        "**Caught:** backward() under `torch.autograd.detect_anomaly()` stops at the NaN", error + ("\n\n" + trace if trace else ""),
        f"prices = {prices.tolist()}\nvol = {vol.item()}\nprices.grad = {leaf.grad.tolist()}   "
        "(no error without anomaly mode: the NaN just spreads)",
        (volatility, volatility_in_anomaly_mode, window_closes), graph_svg(model, font_px),
        "0 × ∞ = NaN: PowBackward0 multiplies the deviation (0) by the infinite gradient sqrt sent back.", program,
        facts={"error": error, "trace": trace, "named": named.group(1) if named else None},
        inputs={"prices": prices}, fixed_label="**Without anomaly mode** the NaN spreads quietly")


def tools_view(view: str, frame: pd.DataFrame, row: int, font_px: float) -> ToolView:
    """The view `view` on candle `row` (anomaly mode: the first flat window of the candles, else the row)."""
    if view == "hooks":
        return hooks_view(candle_move(frame, row), font_px)
    if view == "higher":
        return higher_view(candle_move(frame, row), font_px)
    if view == "function":
        return function_view(frame, row, font_px)
    end = flat_window_end(frame)
    if end is None:  # these candles never close twice at one price: a halted market's window, from row's close
        close = float(frame["close"].iloc[row])
        return anomaly_view(torch.tensor([close, close], dtype=torch.float64),
                            f"A halted market repeats one price (row {row}'s close, twice: these candles never "
                            "close twice at one price)",
                            font_px)
    return anomaly_view(window_closes(frame, end), f"Candles {end - 1} and {end} closed at the same price", font_px)
