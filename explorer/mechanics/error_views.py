"""What the Autograd errors page shows for one error, built here so the page only lays it out: both lessons run now
(PyTorch's words captured, see explorer.mechanics.watch), their printouts and annotated graphs, the quiz question
asked before the answer shows, and the broken lesson as a program for the scratchpad."""
from __future__ import annotations

import ast
import inspect
import re
import textwrap
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
import torch

from explorer.autograd.graph_plot import graph_svg
from explorer.autograd.node import read_saved
from explorer.data.sources import literal
from explorer.mechanics import errors as er
from explorer.mechanics.scratchpad import scratch_link
from explorer.mechanics.watch import Run, Watch, lesson_graph, run_lesson
from explorer.teaching import questions as q
from explorer.teaching.quiz import Question
from explorer.teaching.source import source_of
from explorer.teaching.parts import Parts, TakeHome

OUTPUTS = {"inplace": ("y.sum()", "z.sum()"), "vector": ("y", "y"), "numpy": ("y", "y"), "device": ("x * w",) * 2}
NO_DEVICE = ("This machine has no GPU, so the mistake cannot happen here: PyTorch stops one line earlier, at "
             "`w.to(device)`, with the message below. Where a GPU exists (pick it in the sidebar's *Device*), "
             "`w.to(\"cuda\")` works and `x * w` is refused: a RuntimeError that expected all tensors on the same "
             "device and names the two it found.\n\n")


@dataclass
class Side:
    """One lesson as the page shows it: its code, what PyTorch said, what it returned, and its graph."""
    title: str
    fn: Callable
    run: Run
    printout: str
    svg: str
    level: str  # how to show `message`: error, warning, info, or success (it ran clean)
    message: str

    @property
    def source(self) -> str:
        """The lesson's code as the page shows it."""
        return source_of(self.fn)


@dataclass
class ErrorView:
    """One error: the broken side, the fix, an optional third lesson, and what the quiz and the tests read."""
    key: str
    error: er.AutogradError
    sides: tuple[Side, Side]
    more: Side | None
    scratch: str  # the scratchpad's link with the broken lesson in it
    question: Question | None = None
    facts: dict = field(default_factory=dict)
    row: int = 0
    seed: int = 0
    device: str | None = None  # the device lesson's second device (None: this machine has only the CPU)


def other_device(devices: list[str], picked: str) -> str | None:
    """Where the device lesson moves w: the device picked in the sidebar unless it is the CPU, else the first
    accelerator this machine has; None on a CPU-only machine."""
    if picked != "cpu" and picked in devices:
        return picked
    return next((d for d in devices if d != "cpu"), None)


def value_text(value: object, inputs: dict[str, torch.Tensor]) -> str:
    """What a lesson returned, as the page prints it (a returned input with its flags; a dict as one line each)."""
    if isinstance(value, dict):
        return "\n".join(f"{name:<36} requires_grad={t.requires_grad!s:<5}  grad_fn={_fn_name(t)}  "
                         f"is_leaf={t.is_leaf}" for name, t in value.items())
    text = repr(value)
    if any(value is t for t in inputs.values()):
        text += f"\nis_leaf={value.is_leaf}  requires_grad={value.requires_grad}  _version={value._version}"
    return text


def _fn_name(t: torch.Tensor) -> str:
    return type(t.grad_fn).__name__ if t.grad_fn is not None else "None"


def _side(title: str, fn: Callable, run: Run, output: str, font_px: float, note: str = "") -> Side:
    call = f"{fn.__name__}({', '.join(inspect.signature(fn).parameters)})"
    printout = f"{call}\n→ {run.error.partition(':')[0]}" if run.error else f"{call} returned\n" + value_text(
        run.value, run.inputs)
    level = "error" if run.error else "warning" if run.warnings else "success"
    return Side(title, fn, run, printout, graph_svg(lesson_graph(run, output), font_px), level,
                note + (literal(run.message) or "It ran: no error, no warning."))


def changed_saved(watch: Watch) -> list[tuple[str, str, int, int]]:
    """(node, saved name, version saved at, version now) of every saved tensor changed in place since it was saved."""
    return [(type(fn).__name__, s.name, watch.saved_at[id(fn)][s.name], s.version) for fn in watch.nodes
            for s in read_saved(fn) if s.version is not None and s.name in watch.saved_at[id(fn)]
            and s.version != watch.saved_at[id(fn)][s.name]]


def error_view(key: str, frame: pd.DataFrame, row: int, seed: int, devices: list[str], picked: str,
               font_px: float = 14) -> ErrorView:
    """Run error `key`'s lessons on the candles' row `row` (w from `seed`) and build what the page shows."""
    err = er.ERRORS[key]
    x = er.candle_moves(frame, row)
    device = other_device(devices, picked)
    extra = (torch.tensor(er.V),) if err.extra == "v" else (device or "cuda",) if err.extra == "device" else ()
    names = OUTPUTS.get(key, ("loss", "loss"))
    broken = run_lesson(err.broken, x, er.make_weights(seed), *extra)
    fixed = run_lesson(err.fixed, x, er.make_weights(seed), *(extra if err.extra != "device" else (device or "cpu",)))
    note = NO_DEVICE if key == "device" and device is None else ""
    sides = (_side("Broken", err.broken, broken, names[0], font_px, note),
             _side("Fixed", err.fixed, fixed, names[1], font_px))
    if note:
        sides[0].level = "info"
    more = None
    if err.more is not None:
        run = run_lesson(err.more, x, er.make_weights(seed), *extra)
        more = _side(err.more_note, err.more, run, "x * w", font_px)
        if key == "vector":
            more.printout += f"\nequal to w.grad from backward(gradient=v): {torch.allclose(run.value, fixed.value)}"
    view = ErrorView(key, err, sides, more, scratch_link(scratch_program(err.broken, x, er.make_weights(seed),
                                                                         device or "cuda")), row=row, seed=seed,
                     device=device)
    view.facts = {"changed": changed_saved(broken.watch), "broken_value": broken.value, "fixed_value": fixed.value}
    view.question = question_for(view)
    return view


def question_for(view: ErrorView) -> Question | None:
    """The prediction asked before the broken side shows: which version, which error, None or a tensor."""
    broken = view.sides[0].run
    if view.key == "inplace" and view.facts["changed"]:
        _, name, then, now = view.facts["changed"][0]
        return q.saved_version("errors_inplace_version", now, then)
    if view.key == "no_grad":
        return q.which_error("errors_no_grad_error", "The loss was computed inside `torch.no_grad()`. What does "
                             "`loss.backward()` do?", broken.error, broken.inputs["w"].grad)
    if view.key == "non_leaf":
        return q.none_or_tensor("errors_non_leaf_grad", broken.value)
    return None


def scratch_program(fn: Callable, x: torch.Tensor, w: torch.Tensor, device: str) -> str:
    """The lesson `fn` as a short program of statements: its inputs as literals, then its body (a `return` left as
    the expression it returned)."""
    source = source_of(fn)
    tree = ast.parse(source).body[0]
    body = tree.body[1:] if isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant) \
        else tree.body
    lines = textwrap.dedent("\n".join(source.splitlines()[body[0].lineno - 1:]))
    head = (f"x = torch.tensor({[round(v, 4) for v in x.tolist()]})\n"
            f"w = torch.tensor({[round(v, 4) for v in w.tolist()]}, requires_grad=True)\n")
    args = [a.arg for a in tree.args.args]
    head += f"v = torch.tensor({list(er.V)})\n" if "v" in args else f"device = {device!r}\n" if "device" in args else ""
    return head + re.sub(r"^return ", "", lines, flags=re.M) + "\n"


RUN_HELPER = r'''
def run(lesson, *args):
    """Run one lesson: print what it returned, or the error PyTorch raised; then any warning."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            print(f"{lesson.__name__} returned\n{lesson(*args)!r}")
        except (RuntimeError, AssertionError) as exc:
            print(f"{lesson.__name__} raised\n{type(exc).__name__}: {exc}")
    for warning in seen:
        print(f"{warning.category.__name__}: {warning.message}")
    print()


'''


def error_parts(view: ErrorView) -> Parts:
    """The error's take-home: x as it was (every float32 bit), the lessons' source, and each lesson run and printed:
    the broken one first, with PyTorch's message."""
    err, x = view.error, view.sides[0].run.inputs["x"]
    fns = (err.broken, err.fixed) + ((err.more,) if err.more else ())
    data = (f"\n# candles {view.row - 3} … {view.row}: their moves in basis points, as float32 (every bit)\n"
            f"x = torch.tensor({x.tolist()!r})\n")
    data += f"v = torch.tensor({list(er.V)!r})\n" if err.extra == "v" else ""
    data += f"OTHER = {view.device or 'cuda'!r}  # the device w is moved to\n" if err.extra == "device" else ""

    def step(fn: Callable, extra: str) -> str:
        takes = len(inspect.signature(fn).parameters) > 2
        return f"run({fn.__name__}, x, make_weights({view.seed}){extra if takes else ''})\n"
    extras = {"v": (", v",) * 3, "device": (", OTHER", ", DEVICE", "")}.get(err.extra, ("", "", ""))
    return Parts(f"Autograd error: {err.label}. The broken lesson, then the fix, on candle row {view.row}.",
                 f"autograd_error_{view.key}.py", view.device or "cpu",
                 "from __future__ import annotations\n\nimport warnings\n\nimport torch\n", data,
                 tuple(source_of(fn) for fn in (er.make_weights,) + fns),
                 tuple(step(fn, e) for fn, e in zip(fns, extras)),
                 RUN_HELPER.lstrip("\n"), err.why)


def error_takehome(view: ErrorView) -> TakeHome:
    """The take-home download of one error (built when a button is clicked)."""
    return TakeHome(f"errors_takehome_{view.key}", lambda: error_parts(view), f"autograd_error_{view.key}.py",
                    "A plain script (torch only): the broken lesson and its fix, run on these numbers, printing "
                    "PyTorch's message and the fix's result as shown here.")
