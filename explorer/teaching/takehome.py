"""Take it home: each lesson's Parts (explorer/teaching/parts.py): plain Python (torch + pandas only) that reproduces
what a page shows and prints its numbers, as a script or a notebook.

Every number a script needs is embedded exactly (float32 values as float.hex, candles as round-trip CSV), and the
steps are the ones the page ran, so `python script.py` prints what the page printed. The learner's expression is
emitted as code only after it has been parsed again through `explorer.autograd.expr`'s whitelist.
"""
from __future__ import annotations

import ast
import copy
from typing import Callable

import pandas as pd
import torch

from explorer.autograd.expr import FUNCTIONS, MODULE_PREFIXES, parse_expression
from explorer.autograd import lesson
from explorer.labs import accumulation, microbatch, retain
from explorer.labs.optimizer_lab import seeded_linear, sgd_step, sgd_step_without_zero_grad
from explorer.teaching.parts import CSV_IMPORTS, Parts, TakeHome, embedded_csv
from explorer.teaching.source import source_of
from explorer.tensors import candles_to_tensor, seeded, seeded_leaves


def _floats(values: torch.Tensor) -> str:
    """Exact float32 values as Python source: float.fromhex of each (a float32 is exact as a float64)."""
    return ", ".join(f"float.fromhex({float(v).hex()!r})" for v in values.detach().cpu().flatten().tolist())


class _TorchSpelling(ast.NodeTransformer):
    """Rewrite whitelisted calls the way the interpreter runs them: relu(t) → torch.relu(t), softmax gets dim=-1."""

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        func = node.func
        function_form = isinstance(func, ast.Name) or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in MODULE_PREFIXES)
        name = func.id if isinstance(func, ast.Name) else func.attr
        if function_form:
            if name not in FUNCTIONS:  # cannot happen after parse_expression; refuse rather than emit
                raise ValueError(f"unexpected function {name!r}")
            node.func = ast.Attribute(ast.Name("torch", ast.Load()), name, ast.Load())
        positional_dim = len(node.args) >= (2 if function_form else 1)
        if name == "softmax" and not positional_dim and not any(k.arg == "dim" for k in node.keywords):
            node.keywords.append(ast.keyword("dim", ast.Constant(-1)))
        return node


def expression_code(text: str) -> str:
    """The learner's expression as PyTorch code; raises ExpressionError when the whitelist refuses it."""
    tree = copy.deepcopy(parse_expression(text).tree)
    return ast.unparse(ast.fix_missing_locations(_TorchSpelling().visit(tree)))


FUTURE = "from __future__ import annotations\n\n"
LESSON_IMPORTS = "from __future__ import annotations\n\nfrom contextlib import contextmanager\nfrom dataclasses import " \
                 "dataclass\nfrom enum import Enum\nfrom typing import Callable\n\nimport torch\n"


GRAPH_PARTS = (seeded, seeded_leaves, lesson.seed_forward, lesson.graph_lesson, lesson.seed_printout,
               lesson.gradient_printout)


GRAPH_EXPLANATION = (
    "Seed Part B: `x` is one candle as a (1, 5) float32 tensor; `w` and `b` are random leaves that require grad. "
    "The forward pass builds autograd's graph as it runs, and `y.backward()` walks it back, writing dy/dw into "
    "`w.grad` and dy/db into `b.grad`. For the seed's `y = x @ w.T + b`, `w.grad` is exactly `x` and `b.grad` is 1.")


def graph_parts(x: torch.Tensor, row: int, seed: int, text: str, device: str = "cpu") -> Parts:
    """Graph page: x (candle `row`), w and b from `seed`, the lesson with the learner's expression as its forward
    pass, printed like the seed: the lesson's own functions, the expression in place of seed_forward's."""
    code = expression_code(text)
    seed_line = "return " + lesson.DEFAULT_EXPRESSION
    sources = tuple(source_of(obj) for obj in GRAPH_PARTS)
    if not any(seed_line in source for source in sources):
        raise ValueError("seed_forward no longer returns the seed's expression")
    return Parts(f"Graph lesson: y = {code} on candle row {row}, seed {seed}.", "graph_lesson.py", device,
                 LESSON_IMPORTS, f"""
# candle row {row} as float32, exactly as the page had it (float.fromhex keeps every bit)
x = torch.tensor([[{_floats(x)}]], dtype=torch.float32, device=DEVICE)
""", tuple(source.replace(seed_line, "return " + code) for source in sources),
                 (f"\nw, b = seeded_leaves(x, {seed})\ny = graph_lesson(x, w, b)\nprint(seed_printout(x, w, b, y))\n",
                  "print()\nprint(gradient_printout(w, b))\n"), explanation=GRAPH_EXPLANATION)


def graph_script(x: torch.Tensor, row: int, seed: int, text: str, device: str = "cpu") -> str:
    """The Graph page's take-home script (see graph_parts)."""
    return graph_parts(x, row, seed, text, device).script


def graph_takehome(x: torch.Tensor, row: int, seed: int, text: str, device: str = "cpu") -> TakeHome:
    """The Graph page's take-home, built when a button is clicked (see graph_parts)."""
    return TakeHome("graph_takehome", lambda: graph_parts(x, row, seed, text, device), "graph_lesson.py",
                    "A plain script (torch only) that rebuilds x, w, b and y and prints the same numbers, then w.grad "
                    "and b.grad.")


ACCUMULATION_PARTS = (seeded, seeded_leaves, accumulation.forward_backward, accumulation.zero_grad,
                      accumulation.grad_zero_, accumulation.grads_now)
SHOW_GRADS = '''

def show(event, action, y, w, b):
    """Print one line of the page's history: y and what w.grad and b.grad hold now."""
    w_grad, b_grad = grads_now(w, b)
    y = None if y is None else y.item()
    print(f"#{event} {action}: y = {y!r}, w.grad = {w_grad!r}, b.grad = {b_grad!r}")

'''
CLICK_CODE = {  # each click as the lesson call it made (G!: the page saw it fail)
    "F": "y = forward_backward(x, w, b)\nshow({event}, {action!r}, y, w, b)\n",
    "f": "y = forward_backward(x, w, b)\nshow({event}, {action!r}, y, w, b)\ngrad_zero_(w, b)  # the seed's cell 12, "
         "after printing\n",
    "N": "zero_grad((w, b), set_to_none=True)\nshow({event}, {action!r}, None, w, b)\n",
    "Z": "zero_grad((w, b), set_to_none=False)\nshow({event}, {action!r}, None, w, b)\n",
    "G": "grad_zero_(w, b)\nshow({event}, {action!r}, None, w, b)\n",
    "G!": "try:\n    grad_zero_(w, b)\nexcept AttributeError as exc:  # a .grad is None: None has no .zero_()\n"
         "    print(f\"   failed: {{exc}}\")\nshow({event}, {action!r}, None, w, b)\n",
}


ACCUMULATION_EXPLANATION = (
    "Seed Part C: every `backward()` *adds* its gradient into `.grad`; it never replaces it. Run the forward and "
    "backward pass three times and `w.grad` is 3x, `b.grad` is 3. `zero_grad()` (or the seed's `w.grad.zero_()`) "
    "clears the gradient between steps; `.zero_()` on a `.grad` that is still None fails.")


def accumulation_parts(x: torch.Tensor, seed: int, history: list, device: str = "cpu") -> Parts:
    """Accumulation page: the lesson functions, called once per click as the page did, printing .grad after each."""
    calls = tuple(CLICK_CODE[r.click.value + "!" * bool(r.error)].format(event=r.event, action=r.action)
                  for r in history[1:])
    imports = FUTURE + "from contextlib import contextmanager\n\nimport torch\n"
    return Parts(f"Gradient accumulation: {len(history)} actions on x, w, b (seed {seed}).",
                 "gradient_accumulation.py", device, imports,
                 f"x = torch.tensor([[{_floats(x)}]], dtype=torch.float32, device=DEVICE)\n",
                 tuple(source_of(obj) for obj in ACCUMULATION_PARTS),
                 (f"w, b = seeded_leaves(x, {seed})\nshow(0, {history[0].action!r}, None, w, b)\n", *calls),
                 SHOW_GRADS.lstrip("\n"), ACCUMULATION_EXPLANATION)


def accumulation_script(x: torch.Tensor, seed: int, history: list, device: str = "cpu") -> str:
    """The x, w, b lab's take-home script (see accumulation_parts)."""
    return accumulation_parts(x, seed, history, device).script


RETAIN_PARTS = (retain.backward, retain.autograd_grad)
SHOW_PNL = '''

def show(call, pnl, result):
    """Print one row of the page's table: the call, what pnl.grad holds now, and what came of the call."""
    grad = None if pnl.grad is None else pnl.grad.item()
    print(f"{call} -> pnl.grad = {grad!r} | {result}")


'''


def _guarded(code: str, label: str, ok: str, failed: bool, error: str = "RuntimeError") -> str:
    """One call and its printout; wrapped in try/except where the page saw PyTorch refuse it."""
    if not failed:
        return f"{code}\nshow({label!r}, pnl, {ok})\n"
    return (f"try:\n    {code}\n    show({label!r}, pnl, {ok})\nexcept {error} as exc:\n"
            f"    show({label!r}, pnl, f\"{error}: {{exc}}\")\n")


def _retain_calls(name: str, events: list) -> list[str]:
    """The page's calls as lesson calls: the forward pass, then each autograd call (see retain.run_call)."""
    forward = events[0]
    out = [_guarded(f"loss = {name}(pnl)", forward.call, 'f"loss = {loss.item():g}"', not forward.ok,
                    "UnboundLocalError")]
    for e in events[1:]:
        if not forward.ok:
            out.append(f"show({e.call!r}, pnl, {retain.NO_LOSS!r})\n")
        elif e.code.value in "Bb":
            out.append(_guarded(f"backward(loss, retain_graph={e.code.retain_graph})", e.call, '"ok"', not e.ok))
        else:
            out.append(_guarded(f"grad = autograd_grad(loss, pnl, retain_graph={e.code.retain_graph})", e.call,
                                'f"returned {grad.tolist()}"', not e.ok))
    return out


RETAIN_EXPLANATION = (
    "Seed Part E: `backward()` frees the graph's saved tensors as it goes, so a second `backward()` through the same "
    "graph raises a RuntimeError. `retain_graph=True` keeps them, and the second call then *adds* to `pnl.grad` "
    "again. `torch.autograd.grad` returns the gradient instead of writing `.grad`.")


def retain_parts(pnl_value: float, loss_fn: Callable, events: list, device: str = "cpu") -> Parts:
    """retain_graph page: the loss function, a pnl leaf, then the learner's calls with pnl.grad after each."""
    name = loss_fn.__name__
    first, *calls = _retain_calls(name, events)
    return Parts(f"retain_graph: {name}(pnl) at pnl = {pnl_value!r}, then {len(events) - 1} autograd calls.",
                 "retain_graph.py", device, FUTURE + "import torch\n", "",
                 tuple(source_of(obj) for obj in (loss_fn, *RETAIN_PARTS)),
                 (f"pnl = torch.tensor([{float(pnl_value)!r}], requires_grad=True, device=DEVICE)\n" + first, *calls),
                 SHOW_PNL.lstrip("\n"), RETAIN_EXPLANATION)


def retain_script(pnl_value: float, loss_fn: Callable, events: list, device: str = "cpu") -> str:
    """The retain_graph lab's take-home script (see retain_parts)."""
    return retain_parts(pnl_value, loss_fn, events, device).script


DATA_EXPLANATION = (
    "Seed Part A: the candles as a pandas DataFrame (UTC timestamps as the index; open, high, low, close, volume), "
    "then as one float32 tensor, one row per candle. float32 keeps about 7 significant digits, so prices are "
    "rounded to the nearest float32.")


def data_parts(frame: pd.DataFrame, source: str, device: str = "cpu") -> Parts:
    """Data page: the loaded candles (embedded), read with pandas, turned into the seed's float32 tensor."""
    return Parts(f"Data: {len(frame)} candles ({source}) → DataFrame → float32 tensor.", "candles_to_tensor.py",
                 device, CSV_IMPORTS, "\n" + embedded_csv(frame), (source_of(candles_to_tensor),), ("""
data = read_candles(CANDLES)
print(data.head())
print(data.tail())
""", """
data_tensor = candles_to_tensor(data, DEVICE)
print((data_tensor.dtype, data_tensor.shape, data_tensor.device))
print(repr(data_tensor))
print("sum of all values (float64):", repr(data_tensor.double().sum().item()))
"""), explanation=DATA_EXPLANATION)


def data_script(frame: pd.DataFrame, source: str, device: str = "cpu") -> str:
    """The Data page's take-home script (see data_parts)."""
    return data_parts(frame, source, device).script


def data_takehome(frame: pd.DataFrame, source: str, device: str = "cpu") -> TakeHome:
    """The Data page's take-home: these candles inside, the DataFrame and the float32 tensor printed."""
    return TakeHome("data_takehome", lambda: data_parts(frame, source, device), "candles_to_tensor.py",
                    "A plain script (pandas + torch) with these candles inside: it rebuilds the DataFrame and the "
                    "float32 tensor and prints them as shown here.")


MICROBATCH_EXPLANATION = (
    "Gradient accumulation on purpose: one batch's gradient, and the same batch in k micro-batches with a "
    "`backward()` each. Dividing each micro-batch's loss by k gives the full batch's gradient again (up to float32 "
    "rounding); without `/ k` it is k times too large.")


def microbatch_parts(frame: pd.DataFrame, start: int, size: int, k: int, seed: int, device: str = "cpu") -> Parts:
    """Accumulation page, micro-batch tab: full-batch gradient vs k micro-batches with and without / k.

    The script embeds the batch's candles and the next one (the last target) and runs the lab's own functions on
    them. candle_batch turns just those rows into a tensor, on the page as in the script, so the float32 sums run
    over the same memory layout and print the page's numbers bit for bit.
    """
    lessons = (candles_to_tensor, microbatch.candle_batch, seeded, seeded_linear, microbatch.flat_grads,
               microbatch.full_batch_grad, microbatch.accumulated_grad)
    return Parts(f"Micro-batches: {size} candles in {k} micro-batches, nn.Linear seeded with {seed}.",
                 "micro_batches.py", device, CSV_IMPORTS, "\n" + embedded_csv(frame.iloc[start:start + size + 1]),
                 tuple(source_of(obj) for obj in lessons), (
                     f"inputs, target = candle_batch(read_candles(CANDLES), 0, {size})\n"
                     "inputs, target = inputs.to(DEVICE), target.to(DEVICE)\n"
                     f"model = seeded_linear(inputs.shape[1], {seed}).to(DEVICE)\n",
                     'print("full batch:", full_batch_grad(model, inputs, target).tolist())\n',
                     f'print("sum of loss_i / k:", accumulated_grad(model, inputs, target, {k}, divide_by_k=True)'
                     '.tolist())\n',
                     f'print("sum of loss_i (no / k):", accumulated_grad(model, inputs, target, {k}, '
                     'divide_by_k=False).tolist())\n'), explanation=MICROBATCH_EXPLANATION)


def microbatch_script(frame: pd.DataFrame, start: int, size: int, k: int, seed: int, device: str = "cpu") -> str:
    """The micro-batch tab's take-home script (see microbatch_parts)."""
    return microbatch_parts(frame, start, size, k, seed, device).script


SHOW_STEP = '''

def show(step, y, model):
    """Print one row of the page's table: y and the gradient step() used."""
    print(f"step {step}: y = {y.item()!r}; weight.grad = {model.weight.grad.flatten().tolist()}; "
          f"bias.grad = {model.bias.grad.item()!r}")


'''


OPTIMIZER_EXPLANATION = (
    "The training step as PyTorch writes it: `optimizer.zero_grad()`, the forward pass, `loss.backward()`, "
    "`optimizer.step()`. Leave `zero_grad()` out and each step uses the sum of every gradient so far, not this "
    "step's gradient.")


def optimizer_parts(x: torch.Tensor, seed: int, lr: float, zero_grad_called: list[bool],
                    device: str = "cpu") -> Parts:
    """Accumulation page, nn.Linear + optimizer tab: the lab's steps, each with or without optimizer.zero_grad()."""
    steps = tuple(f"y = {'sgd_step' if called else 'sgd_step_without_zero_grad'}(model, optimizer, x)\n"
                  f"show({i}, y, model)\n" for i, called in enumerate(zero_grad_called, start=1))
    return Parts(f"nn.Linear + SGD (lr={lr!r}), seeded with {seed}: {len(zero_grad_called)} step(s).",
                 "optimizer_lab.py", device, FUTURE + "from contextlib import contextmanager\n\nimport torch\n"
                 "from torch import nn\n", f"""
# the candle row as float32, exactly as the page had it
x = torch.tensor([[{_floats(x)}]], dtype=torch.float32, device=DEVICE)
""", tuple(source_of(obj) for obj in (seeded, seeded_linear, sgd_step, sgd_step_without_zero_grad)),
                 (f"model = seeded_linear(x.shape[1], {seed}).to(DEVICE)\n"
                  f"optimizer = torch.optim.SGD(model.parameters(), lr={lr!r})\n", *steps, """
print("weight =", model.weight.detach().flatten().tolist())
print("bias =", model.bias.item())
"""), SHOW_STEP.lstrip("\n"), OPTIMIZER_EXPLANATION)


def optimizer_script(x: torch.Tensor, seed: int, lr: float, zero_grad_called: list[bool],
                     device: str = "cpu") -> str:
    """The nn.Linear + SGD lab's take-home script (see optimizer_parts)."""
    return optimizer_parts(x, seed, lr, zero_grad_called, device).script


def accumulation_takehome(lab: accumulation.AccumulationLab, device: str) -> TakeHome:
    """The x, w, b lab's download: its clicks since the last reset."""
    return TakeHome("acc_takehome", accumulation_parts(lab.x, lab.seed, lab.history, device),
                    "gradient_accumulation.py", "A plain script (torch only) that replays these clicks and prints "
                    "w.grad and b.grad after each, as the table above shows.")


def optimizer_takehome(lab) -> TakeHome:
    """The nn.Linear + SGD lab's download: its steps, each with or without zero_grad()."""
    return TakeHome("acc_opt_takehome", optimizer_parts(lab.x, lab.seed, lab.lr,
                                                        [s.zero_grad_called for s in lab.steps], lab.x.device.type),
                    "optimizer_lab.py", "A plain script (torch only) that repeats these steps and prints each "
                    "gradient step() used.")


def microbatch_takehome(frame: pd.DataFrame, start: int, size: int, k: int, seed: int) -> TakeHome:
    """The micro-batch tab's download: this batch, split into k."""
    return TakeHome("acc_mb_takehome", microbatch_parts(frame, start, size, k, seed), "micro_batches.py",
                    "A plain script (torch only) with this batch inside: it prints the three gradient columns of the "
                    "table.")


def retain_takehome(lab: retain.RetainLab) -> TakeHome:
    """The retain_graph lab's download: the loss, the pnl leaf and the calls since the last forward."""
    return TakeHome("retain_takehome", retain_parts(lab.pnl_value, retain.TRADING_LOSSES[lab.loss_name], lab.events,
                                                    lab.device), "retain_graph.py",
                    "A plain script (torch only): the loss function, the pnl leaf and these calls, printing pnl.grad "
                    "after each as the table shows.")
