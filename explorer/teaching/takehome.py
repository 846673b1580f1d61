"""Take it home: plain Python scripts (torch + pandas only) that reproduce what a page shows and print its numbers.

Every number a script needs is embedded exactly (float32 values as float.hex, candles as round-trip CSV), and the
steps are the ones the page ran, so `python script.py` prints what the page printed. The learner's expression is
emitted as code only after it has been parsed again through `explorer.autograd.expr`'s whitelist.
"""
from __future__ import annotations

import ast
import base64
import copy
import gzip
from dataclasses import dataclass
from typing import Callable

import pandas as pd
import torch

from explorer.autograd.expr import FUNCTIONS, MODULE_PREFIXES, parse_expression
from explorer.autograd import lesson
from explorer.labs import accumulation, microbatch, retain
from explorer.labs.optimizer_lab import seeded_linear, sgd_step, sgd_step_without_zero_grad
from explorer.teaching.source import lesson_source
from explorer.tensors import candles_to_tensor, seeded, seeded_leaves


@dataclass(frozen=True)
class TakeHome:
    """A take-home download: the widget key, the script, its file name and the button's tooltip."""
    key: str
    script: str | Callable[[], str]  # a callable is built only when the button is clicked
    file: str
    help: str


PLAIN_CSV_ROWS = 2_000  # above this many candles the CSV is embedded gzip + base64 to keep the script small
HEADER = '"""{title}\n\nTaken home from Autograd Explorer. Needs only torch and pandas: python {file}\n"""\n'
DEVICE_LINE = 'DEVICE = {device!r}  # "cpu", or "cuda" / "mps" when this machine has one\n'


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


def _header(title: str, file: str, device: str, imports: str = "import torch\n") -> str:
    return HEADER.format(title=title, file=file) + imports + "\n" + DEVICE_LINE.format(device=device)


FUTURE = "from __future__ import annotations\n\n"
LESSON_IMPORTS = "from __future__ import annotations\n\nfrom contextlib import contextmanager\nfrom dataclasses import " \
                 "dataclass\nfrom enum import Enum\nfrom typing import Callable\n\nimport torch\n"


GRAPH_PARTS = (seeded, seeded_leaves, lesson.seed_forward, lesson.graph_lesson, lesson.seed_printout,
               lesson.gradient_printout)


def graph_script(x: torch.Tensor, row: int, seed: int, text: str, device: str = "cpu") -> str:
    """Graph page: x (candle `row`), w and b from `seed`, the lesson with the learner's expression as its forward
    pass, printed like the seed: the lesson's own functions, the expression in place of seed_forward's."""
    code = expression_code(text)
    seed_line = "return " + lesson.DEFAULT_EXPRESSION
    source = lesson_source(*GRAPH_PARTS)
    if seed_line not in source:
        raise ValueError("seed_forward no longer returns the seed's expression")
    return _header(f"Graph lesson: y = {code} on candle row {row}, seed {seed}.", "graph_lesson.py", device,
                   LESSON_IMPORTS) + f"""
# candle row {row} as float32, exactly as the page had it (float.fromhex keeps every bit)
x = torch.tensor([[{_floats(x)}]], dtype=torch.float32, device=DEVICE)
{source.replace(seed_line, "return " + code)}
w, b = seeded_leaves(x, {seed})
y = graph_lesson(x, w, b)
print(seed_printout(x, w, b, y))
print()
print(gradient_printout(w, b))
"""


def graph_takehome(x: torch.Tensor, row: int, seed: int, text: str, device: str = "cpu") -> TakeHome:
    """The Graph page's take-home: graph_script, built when the button is clicked."""
    return TakeHome("graph_takehome", lambda: graph_script(x, row, seed, text, device), "graph_lesson.py",
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


def accumulation_script(x: torch.Tensor, seed: int, history: list, device: str = "cpu") -> str:
    """Accumulation page: the lesson functions, called once per click as the page did, printing .grad after each."""
    calls = "".join(CLICK_CODE[r.click.value + "!" * bool(r.error)].format(event=r.event, action=r.action)
                    for r in history[1:])
    imports = FUTURE + "from contextlib import contextmanager\n\nimport torch\n"
    return (_header(f"Gradient accumulation: {len(history)} actions on x, w, b (seed {seed}).",
                    "gradient_accumulation.py", device, imports) +
            f"x = torch.tensor([[{_floats(x)}]], dtype=torch.float32, device=DEVICE)\n" +
            lesson_source(*ACCUMULATION_PARTS) + SHOW_GRADS.lstrip("\n") +
            f"w, b = seeded_leaves(x, {seed})\nshow(0, {history[0].action!r}, None, w, b)\n" + calls)


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


def _retain_calls(name: str, events: list) -> str:
    """The page's calls as lesson calls: the forward pass, then each autograd call (see retain.run_call)."""
    forward = events[0]
    out = _guarded(f"loss = {name}(pnl)", forward.call, 'f"loss = {loss.item():g}"', not forward.ok,
                   "UnboundLocalError")
    for e in events[1:]:
        if not forward.ok:
            out += f"show({e.call!r}, pnl, {retain.NO_LOSS!r})\n"
        elif e.code.value in "Bb":
            out += _guarded(f"backward(loss, retain_graph={e.code.retain_graph})", e.call, '"ok"', not e.ok)
        else:
            out += _guarded(f"grad = autograd_grad(loss, pnl, retain_graph={e.code.retain_graph})", e.call,
                            'f"returned {grad.tolist()}"', not e.ok)
    return out


def retain_script(pnl_value: float, loss_fn: Callable, events: list, device: str = "cpu") -> str:
    """retain_graph page: the loss function, a pnl leaf, then the learner's calls with pnl.grad after each."""
    name = loss_fn.__name__
    return (_header(f"retain_graph: {name}(pnl) at pnl = {pnl_value!r}, then {len(events) - 1} autograd calls.",
                    "retain_graph.py", device, FUTURE + "import torch\n") +
            lesson_source(loss_fn, *RETAIN_PARTS) + SHOW_PNL.lstrip("\n") +
            f"pnl = torch.tensor([{float(pnl_value)!r}], requires_grad=True, device=DEVICE)\n" +
            _retain_calls(name, events))


CSV_IMPORTS = "from __future__ import annotations\n\nimport base64\nimport gzip\nimport io\nfrom contextlib import " \
              "contextmanager\n\nimport pandas as pd\n" \
              "import torch\nfrom torch import nn\n"


def read_candles(csv):
    """The embedded candles as a DataFrame; float_precision="round_trip" brings every price back bit for bit."""
    return pd.read_csv(csv, index_col="timestamp", parse_dates=["timestamp"], float_precision="round_trip")


def _embedded_csv(frame: pd.DataFrame) -> str:
    """The candles as source code: plain CSV text when short, gzip + base64 when long."""
    text = frame.to_csv(index_label="timestamp")
    if len(frame) <= PLAIN_CSV_ROWS:
        return f'CANDLES = io.StringIO("""\\\n{text}""")\n' + lesson_source(read_candles).rstrip("\n") + "\n"
    packed = base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()
    lines = "\n".join(f'    "{packed[i:i + 100]}"' for i in range(0, len(packed), 100))
    return (f"CANDLES = io.StringIO(gzip.decompress(base64.b64decode(\n{lines}\n)).decode())\n" +
            lesson_source(read_candles).rstrip("\n") + "\n")


def data_script(frame: pd.DataFrame, source: str, device: str = "cpu") -> str:
    """Data page: the loaded candles (embedded), read with pandas, turned into the seed's float32 tensor."""
    return (_header(f"Data: {len(frame)} candles ({source}) → DataFrame → float32 tensor.", "candles_to_tensor.py",
                    device, CSV_IMPORTS) + "\n" + _embedded_csv(frame) + lesson_source(candles_to_tensor) + """
data = read_candles(CANDLES)
print(data.head())
print(data.tail())

data_tensor = candles_to_tensor(data, DEVICE)
print((data_tensor.dtype, data_tensor.shape, data_tensor.device))
print(repr(data_tensor))
print("sum of all values (float64):", repr(data_tensor.double().sum().item()))
""")


def data_takehome(frame: pd.DataFrame, source: str, device: str = "cpu") -> TakeHome:
    """The Data page's take-home: these candles inside, the DataFrame and the float32 tensor printed."""
    return TakeHome("data_takehome", lambda: data_script(frame, source, device), "candles_to_tensor.py",
                    "A plain script (pandas + torch) with these candles inside: it rebuilds the DataFrame and the "
                    "float32 tensor and prints them as shown here.")


def microbatch_script(frame: pd.DataFrame, start: int, size: int, k: int, seed: int, device: str = "cpu") -> str:
    """Accumulation page, micro-batch tab: full-batch gradient vs k micro-batches with and without / k.

    The script embeds the batch's candles and the next one (the last target) and runs the lab's own functions on
    them. candle_batch turns just those rows into a tensor, on the page as in the script, so the float32 sums run
    over the same memory layout and print the page's numbers bit for bit.
    """
    return (_header(f"Micro-batches: {size} candles in {k} micro-batches, nn.Linear seeded with {seed}.",
                    "micro_batches.py", device, CSV_IMPORTS) + "\n" + _embedded_csv(frame.iloc[start:start + size + 1])
            + lesson_source(candles_to_tensor, microbatch.candle_batch, seeded, seeded_linear, microbatch.flat_grads,
                            microbatch.full_batch_grad, microbatch.accumulated_grad) + f"""inputs, target = candle_batch(read_candles(CANDLES), 0, {size})
inputs, target = inputs.to(DEVICE), target.to(DEVICE)
model = seeded_linear(inputs.shape[1], {seed}).to(DEVICE)
print("full batch:", full_batch_grad(model, inputs, target).tolist())
print("sum of loss_i / k:", accumulated_grad(model, inputs, target, {k}, divide_by_k=True).tolist())
print("sum of loss_i (no / k):", accumulated_grad(model, inputs, target, {k}, divide_by_k=False).tolist())
""")


SHOW_STEP = '''

def show(step, y, model):
    """Print one row of the page's table: y and the gradient step() used."""
    print(f"step {step}: y = {y.item()!r}; weight.grad = {model.weight.grad.flatten().tolist()}; "
          f"bias.grad = {model.bias.grad.item()!r}")


'''


def optimizer_script(x: torch.Tensor, seed: int, lr: float, zero_grad_called: list[bool],
                     device: str = "cpu") -> str:
    """Accumulation page, nn.Linear + optimizer tab: the lab's steps, each with or without optimizer.zero_grad()."""
    steps = "".join(f"y = {'sgd_step' if called else 'sgd_step_without_zero_grad'}(model, optimizer, x)\n"
                    f"show({i}, y, model)\n" for i, called in enumerate(zero_grad_called, start=1))
    return (_header(f"nn.Linear + SGD (lr={lr!r}), seeded with {seed}: {len(zero_grad_called)} step(s).",
                    "optimizer_lab.py", device, FUTURE + "from contextlib import contextmanager\n\nimport torch\n"
                    "from torch import nn\n") + f"""
# the candle row as float32, exactly as the page had it
x = torch.tensor([[{_floats(x)}]], dtype=torch.float32, device=DEVICE)
""" + lesson_source(seeded, seeded_linear, sgd_step, sgd_step_without_zero_grad) + SHOW_STEP.lstrip("\n") +
            f"model = seeded_linear(x.shape[1], {seed}).to(DEVICE)\n"
            f"optimizer = torch.optim.SGD(model.parameters(), lr={lr!r})\n" + steps + """
print("weight =", model.weight.detach().flatten().tolist())
print("bias =", model.bias.item())
""")


def accumulation_takehome(lab: accumulation.AccumulationLab, device: str) -> TakeHome:
    """The x, w, b lab's download: its clicks since the last reset."""
    return TakeHome("acc_takehome", accumulation_script(lab.x, lab.seed, lab.history, device),
                    "gradient_accumulation.py", "A plain script (torch only) that replays these clicks and prints "
                    "w.grad and b.grad after each, as the table above shows.")


def optimizer_takehome(lab) -> TakeHome:
    """The nn.Linear + SGD lab's download: its steps, each with or without zero_grad()."""
    return TakeHome("acc_opt_takehome", optimizer_script(lab.x, lab.seed, lab.lr,
                                                         [s.zero_grad_called for s in lab.steps], lab.x.device.type),
                    "optimizer_lab.py", "A plain script (torch only) that repeats these steps and prints each "
                    "gradient step() used.")


def microbatch_takehome(frame: pd.DataFrame, start: int, size: int, k: int, seed: int) -> TakeHome:
    """The micro-batch tab's download: this batch, split into k."""
    return TakeHome("acc_mb_takehome", microbatch_script(frame, start, size, k, seed), "micro_batches.py",
                    "A plain script (torch only) with this batch inside: it prints the three gradient columns of the "
                    "table.")


def retain_takehome(lab: retain.RetainLab) -> TakeHome:
    """The retain_graph lab's download: the loss, the pnl leaf and the calls since the last forward."""
    return TakeHome("retain_takehome", retain_script(lab.pnl_value, retain.TRADING_LOSSES[lab.loss_name], lab.events,
                                                     lab.device), "retain_graph.py",
                    "A plain script (torch only): the loss function, the pnl leaf and these calls, printing pnl.grad "
                    "after each as the table shows.")
