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
import inspect
import textwrap

import pandas as pd
import torch

from explorer.autograd.expr import FUNCTIONS, MODULE_PREFIXES, parse_expression

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


def _header(title: str, file: str, device: str) -> str:
    return HEADER.format(title=title, file=file) + "import torch\n\n" + DEVICE_LINE.format(device=device)


def graph_script(x: torch.Tensor, row: int, seed: int, text: str, device: str = "cpu") -> str:
    """Graph page: x (candle `row`), w and b from `seed`, y = the expression, backward(), printed like the seed."""
    code = expression_code(text)
    return _header(f"Graph lesson: y = {code} on candle row {row}, seed {seed}.", "graph_lesson.py", device) + f"""
# candle row {row} as float32, exactly as the page had it (float.fromhex keeps every bit)
x = torch.tensor([[{_floats(x)}]], dtype=torch.float32, device=DEVICE)

# w and b as the page draws them: a generator seeded with {seed} (same numbers as torch.manual_seed({seed}))
gen = torch.Generator().manual_seed({seed})
w = torch.randn(x.shape, generator=gen, dtype=x.dtype).to(DEVICE).requires_grad_()
b = torch.randn(1, generator=gen, dtype=x.dtype).to(DEVICE).requires_grad_()

y = {code}

print("x.shape, w.shape, b.shape")
print(f"({{x.shape!r}}, {{w.shape!r}}, {{b.shape!r}})\\n")
print("x, w, b")
print(f"({{x!r}},\\n {{w!r}},\\n {{b!r}})\\n")
print("y")
print(repr(y))

y.backward()
print("w.grad, b.grad")
print(f"({{w.grad!r}},\\n {{b.grad!r}})")
"""


def accumulation_line(event: int, action: str, y: float | None, w_grad: list[float] | None,
                      b_grad: float | None) -> str:
    """One printed line of the accumulation script (the test builds the same line from the lab's history)."""
    return f"#{event} {action}: y = {y!r}, w.grad = {w_grad!r}, b.grad = {b_grad!r}"


ACCUMULATION_FUNCTIONS = '''
def grads():
    """What w.grad and b.grad hold now (None when autograd has not written one)."""
    return (None if w.grad is None else w.grad.flatten().tolist()), (None if b.grad is None else b.grad.item())


def show(action, y=None):
    """Print one history line: the action, y, and the gradients right after it."""
    global event
    w_grad, b_grad = grads()
    print(f"#{event} {action}: y = {None if y is None else y.item()!r}, w.grad = {w_grad!r}, b.grad = {b_grad!r}")
    event += 1


def zero_grad(set_to_none):
    """What optimizer.zero_grad(set_to_none=...) does to each parameter (it skips grads that are None)."""
    for p in (w, b):
        if p.grad is not None:
            if set_to_none:
                p.grad = None
            else:
                p.grad.zero_()
    show(f"zero_grad(set_to_none={set_to_none})")

'''


def _accumulation_action(action: str, note: str) -> str:
    """The code of one recorded action (actions come from the lab, never from user text)."""
    if action == "reset (new w, b)":
        return ("gen = torch.Generator().manual_seed(SEED)\n"
                "w = torch.randn(x.shape, generator=gen, dtype=x.dtype).to(DEVICE).requires_grad_()\n"
                "b = torch.randn(1, generator=gen, dtype=x.dtype).to(DEVICE).requires_grad_()\n"
                'show("reset (new w, b)")\n')
    if action == "forward + backward":
        code = "y = x @ w.T + b  # a fresh graph each time\ny.backward()  # adds x to w.grad and 1 to b.grad\n"
        if note.startswith("printed, then"):
            return code + 'show("forward + backward", y)\nw.grad.zero_(); b.grad.zero_()\n'
        return code + 'show("forward + backward", y)\n'
    if action in ("zero_grad(set_to_none=True)", "zero_grad(set_to_none=False)"):
        return f"zero_grad(set_to_none={action.endswith('True)')})\n"
    if action == ".grad.zero_()":
        return ("try:\n    w.grad.zero_()\n    b.grad.zero_()\n    show('.grad.zero_()')\n"
                "except AttributeError as exc:  # .grad is None: nothing to zero\n"
                "    print(f'  failed: {type(exc).__name__}: {exc}')\n    show('.grad.zero_()')\n")
    raise ValueError(f"unknown lab action {action!r}")


def accumulation_script(x: torch.Tensor, seed: int, history: list, device: str = "cpu") -> str:
    """Accumulation page: replay the lab's actions (its history) and print w.grad and b.grad after each."""
    steps = "\n".join(_accumulation_action(r.action, r.note) for r in history)
    return (_header(f"Gradient accumulation: {len(history)} actions on x, w, b (seed {seed}).",
                    "gradient_accumulation.py", device) +
            f"SEED = {seed}\nx = torch.tensor([[{_floats(x)}]], dtype=torch.float32, device=DEVICE)\n"
            f"event = 0\n{ACCUMULATION_FUNCTIONS}\n{steps}")


def retain_line(call: str, pnl_grad: float | None, result: str) -> str:
    """One printed line of the retain_graph script."""
    return f"{call} -> pnl.grad = {pnl_grad!r} | {result}"


RETAIN_CALLS = {  # the lab's call labels → code (labels come from the lab, never from user text)
    "loss.backward(retain_graph=True)": "lambda: loss.backward(retain_graph=True)",
    "loss.backward(retain_graph=False)": "lambda: loss.backward(retain_graph=False)",
    "torch.autograd.grad(loss, pnl, retain_graph=True)": "lambda: returned(torch.autograd.grad(loss, pnl, "
                                                         "retain_graph=True))",
    "torch.autograd.grad(loss, pnl, retain_graph=False)": "lambda: returned(torch.autograd.grad(loss, pnl, "
                                                          "retain_graph=False))",
}
RETAIN_FUNCTIONS = '''
def returned(grads):
    """torch.autograd.grad returns the gradient (pnl.grad is left alone)."""
    return f"returned {grads[0].tolist()}"


def call(label, fn):
    """Run one autograd call and print pnl.grad after it; torch's RuntimeError is printed, not raised."""
    if loss is None:
        result = "there is no loss to differentiate: the forward pass failed (see above)"
    else:
        try:
            result = fn()
            result = result if isinstance(result, str) else "ok"
        except RuntimeError as exc:  # e.g. the second backward without retain_graph=True
            result = f"RuntimeError: {exc}"
    print(f"{label} -> pnl.grad = {None if pnl.grad is None else pnl.grad.item()!r} | {result}")

'''


def retain_script(pnl_value: float, loss_fn, events: list, device: str = "cpu") -> str:
    """retain_graph page: the loss function's source, a pnl leaf, then the learner's calls with pnl.grad after each."""
    name = loss_fn.__name__
    calls = "".join(f"call({e.call!r}, {RETAIN_CALLS[e.call]})\n" for e in events[1:])
    return (_header(f"retain_graph: {name}(pnl) at pnl = {pnl_value!r}, then {len(events) - 1} autograd calls.",
                    "retain_graph.py", device) + "\n\n" + textwrap.dedent(inspect.getsource(loss_fn)) + f"""

pnl = torch.tensor([{float(pnl_value)!r}], requires_grad=True, device=DEVICE)
try:
    loss = {name}(pnl)
    result = f"loss = {{loss.item():g}}"
except UnboundLocalError as exc:  # the seed's loss at pnl == 0: no branch assigned `loss`
    loss, result = None, f"{{type(exc).__name__}}: {{exc}}"
print(f"loss = {name}(pnl) -> pnl.grad = {{None if pnl.grad is None else pnl.grad.item()!r}} | {{result}}")
{RETAIN_FUNCTIONS}
{calls}""")


def _embedded_csv(frame: pd.DataFrame) -> str:
    """The candles as source code: plain CSV text when short, gzip + base64 when long."""
    text = frame.to_csv(index_label="timestamp")
    if len(frame) <= PLAIN_CSV_ROWS:
        return f'CANDLES = io.StringIO("""\\\n{text}""")\n'
    packed = base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()
    lines = "\n".join(f'    "{packed[i:i + 100]}"' for i in range(0, len(packed), 100))
    return f"CANDLES = io.StringIO(gzip.decompress(base64.b64decode(\n{lines}\n)).decode())\n"


def data_script(frame: pd.DataFrame, source: str, device: str = "cpu") -> str:
    """Data page: the loaded candles (embedded), read with pandas, turned into the seed's float32 tensor."""
    return (_header(f"Data: {len(frame)} candles ({source}) → DataFrame → float32 tensor.", "candles_to_tensor.py",
                    device).replace("import torch\n", "import base64\nimport gzip\nimport io\n\n"
                                    "import pandas as pd\nimport torch\n") + "\n" + _embedded_csv(frame) + """
# float_precision="round_trip": every price comes back bit for bit
data = pd.read_csv(CANDLES, index_col="timestamp", parse_dates=["timestamp"], float_precision="round_trip")
print(data.head())
print(data.tail())

data_tensor = torch.from_numpy(data.to_numpy(copy=True)).to(torch.float32).to(DEVICE)
print((data_tensor.dtype, data_tensor.shape, data_tensor.device))
print(repr(data_tensor))
print("sum of all values (float64):", repr(data_tensor.double().sum().item()))
""")


def microbatch_script(candles: torch.Tensor, close_column: int, k: int, seed: int, device: str = "cpu") -> str:
    """Accumulation page, micro-batch tab: full-batch gradient vs k micro-batches with and without / k.

    `candles` are the batch's rows plus the next one (the last target), sliced as the page slices them. The sums
    agree with the page's to float32 rounding: vectorised kernels add in an order that depends on where in memory
    the rows start, which a script cannot reproduce.
    """
    rows = ",\n    ".join(f"[{_floats(r)}]" for r in candles)
    size = len(candles) - 1
    return _header(f"Micro-batches: {size} candles in {k} micro-batches, nn.Linear seeded with {seed}.",
                   "micro_batches.py", device).replace("import torch\n", "import torch\nfrom torch import nn\n") + f"""
# the batch's candles and the one after it (float32, exact); the target of each row is the next row's close
data = torch.tensor([
    {rows}], dtype=torch.float32, device=DEVICE)
inputs = data[:{size}]
target = data[1:{size + 1}, {close_column}].reshape(-1, 1)
k = {k}

torch.manual_seed({seed})  # the page seeds nn.Linear the same way
model = nn.Linear(inputs.shape[1], 1).to(DEVICE)


def grads():
    return torch.cat([model.weight.grad.flatten(), model.bias.grad.flatten()]).tolist()


model.zero_grad()
nn.functional.mse_loss(model(inputs), target).backward()
print("full batch:", grads())

for divide_by_k in (True, False):
    model.zero_grad()
    for x_i, t_i in zip(inputs.chunk(k), target.chunk(k)):
        loss_i = nn.functional.mse_loss(model(x_i), t_i)  # the mean over this micro-batch only
        (loss_i / k if divide_by_k else loss_i).backward()  # .grad += d(loss_i / k)
    print("sum of loss_i / k:" if divide_by_k else "sum of loss_i (no / k):", grads())
"""


def optimizer_script(x: torch.Tensor, seed: int, lr: float, zero_grad_called: list[bool],
                     device: str = "cpu") -> str:
    """Accumulation page, nn.Linear + optimizer tab: the same steps, each with or without optimizer.zero_grad()."""
    return _header(f"nn.Linear + SGD (lr={lr!r}), seeded with {seed}: {len(zero_grad_called)} step(s).",
                   "optimizer_lab.py", device).replace("import torch\n", "import torch\nfrom torch import nn\n") + f"""
# the candle row as float32, exactly as the page had it
x = torch.tensor([[{_floats(x)}]], dtype=torch.float32, device=DEVICE)

torch.manual_seed({seed})  # the page seeds nn.Linear the same way
model = nn.Linear(x.shape[1], 1).to(DEVICE)
optimizer = torch.optim.SGD(model.parameters(), lr={lr!r})

# True: the step called optimizer.zero_grad() first; False: it forgot, so .grad still held the earlier gradients
ZERO_GRAD_CALLED = {zero_grad_called!r}
for step, zero_grad in enumerate(ZERO_GRAD_CALLED, start=1):
    if zero_grad:
        optimizer.zero_grad()
    y = model(x).sum()  # the seed's y.backward(): the output itself is the "loss"
    y.backward()
    print(f"step {{step}}: y = {{y.item()!r}}; weight.grad = {{model.weight.grad.flatten().tolist()}}; "
          f"bias.grad = {{model.bias.grad.item()!r}}")
    optimizer.step()  # p -= lr * p.grad, whatever .grad has accumulated

print("weight =", model.weight.detach().flatten().tolist())
print("bias =", model.bias.item())
"""
