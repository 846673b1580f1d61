"""The scratchpad's whitelist and limits, and the check of a program's tree against them before anything runs.

Only what is named here can run: torch functions by their dotted name, tensor methods and attributes by name,
a few Python built-ins. Everything else is refused with a message that names the problem."""
from __future__ import annotations

import ast

import torch
import torch.nn.functional as F

MAX_CHARS, MAX_STATEMENTS, MAX_NODES, MAX_DEPTH = 4000, 40, 3000, 60
MAX_ELEMENTS = 100_000  # elements of any one tensor (or items of a list) the program makes
MAX_LOOP, MAX_ITERATIONS = 100, 1000  # one loop's passes; all loops' passes in a run
MAX_MADE = 20_000_000  # elements of every tensor a run makes, all together (bounds the memory a graph can keep)
MAX_INT_BITS = 4096  # Python integers stay below 2**4096 (10**10**10 is refused before it is computed)
MAX_STRING = 200
STATEMENT_SECONDS, RUN_SECONDS = 2.0, 5.0


class ScratchError(ValueError):
    """The program is refused (outside the whitelist or over a limit); the message names the problem."""


_TORCH = ("tensor", "Tensor", "zeros", "ones", "zeros_like", "ones_like", "full", "randn", "rand", "randint",
          "randperm", "arange", "linspace", "eye", "manual_seed", "sigmoid", "tanh", "relu", "exp", "log", "sin",
          "cos", "sqrt", "abs", "neg", "square", "pow", "add", "sub", "mul", "div", "sum", "mean", "prod", "max",
          "min", "argmax", "argmin", "matmul", "mm", "dot", "outer", "stack", "cat", "where", "maximum", "minimum",
          "clamp", "softmax", "log_softmax", "cumsum", "cumprod", "allclose", "equal", "isclose", "is_grad_enabled", "no_grad",
          "enable_grad", "inference_mode", "float16", "bfloat16", "float32", "float64", "float", "double", "half",
          "int32", "int64", "long", "int", "bool", "uint8")
_FUNCTIONAL = ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "mse_loss", "l1_loss", "cross_entropy",
               "binary_cross_entropy", "linear")
TORCH_NAMES: dict[str, object] = {f"torch.{n}": getattr(torch, n) for n in _TORCH}
TORCH_NAMES |= {f"torch.nn.functional.{n}": getattr(F, n) for n in _FUNCTIONAL}
TORCH_NAMES |= {"torch.autograd.grad": torch.autograd.grad, "torch.autograd.backward": torch.autograd.backward}
ROOTS = {"torch": "torch", "F": "torch.nn.functional"}  # `import torch.nn.functional as F` is already done
CREATION = {torch.zeros, torch.ones, torch.full, torch.randn, torch.rand, torch.randint, torch.randperm,
            torch.arange, torch.linspace, torch.eye}  # sizes checked on the meta device before they run
RANDOM = {torch.randn, torch.rand, torch.randint, torch.randperm}  # draw from the run's own generator

TENSOR_METHODS = {
    "sum", "mean", "prod", "max", "min", "argmax", "argmin", "pow", "exp", "log", "tanh", "relu", "sigmoid", "abs",
    "sqrt", "sin", "cos", "neg", "square", "softmax", "log_softmax", "cumsum", "cumprod", "clamp", "add", "sub", "mul", "div", "matmul",
    "mm", "dot", "view", "reshape", "flatten", "squeeze", "unsqueeze", "t", "transpose", "permute", "contiguous",
    "detach", "clone", "item", "tolist", "numpy", "size", "dim", "numel", "double", "float", "half", "long", "int",
    "bool", "to", "cpu", "cuda", "norm", "allclose", "equal", "zero_", "fill_", "add_", "sub_", "mul_", "div_",
    "pow_", "exp_", "clamp_", "relu_", "sigmoid_", "tanh_", "copy_", "detach_", "requires_grad_", "retain_grad",
    "backward", "is_contiguous", "data_ptr",
}
TENSOR_ATTRIBUTES = {"grad", "data", "shape", "dtype", "device", "requires_grad", "is_leaf", "grad_fn", "T", "mT",
                     "ndim", "retains_grad"}
SETTABLE = {"grad", "data", "requires_grad"}  # x.requires_grad = True, x.grad = None, w.data -= ...
NODE_ATTRIBUTES, NODE_METHODS = {"next_functions"}, {"name"}  # on a grad_fn
SIZE_METHODS = {"numel"}  # on a torch.Size
BUILTINS = {"print", "range", "len", "abs", "min", "max", "round", "float", "int", "bool", "sum", "list", "tuple",
            "str"}
NOT_SUPPORTED = {
    "register_hook": "hooks need a function, and def and lambda are not allowed here",
    "getattr": "attributes are read as x.name, and only the whitelisted ones",
    "setattr": "attributes are set as x.requires_grad = ..., and only requires_grad, grad and data",
    "eval": "the scratchpad never evaluates text", "exec": "the scratchpad never executes text",
    "compile": "the scratchpad never compiles text", "open": "the scratchpad has no files",
}
STATEMENTS = (ast.Expr, ast.Assign, ast.AugAssign, ast.For, ast.If, ast.With, ast.Pass, ast.Break, ast.Continue)
EXPRESSIONS = (ast.Constant, ast.Name, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Subscript,
               ast.Slice, ast.List, ast.Tuple, ast.Call, ast.Attribute, ast.keyword, ast.Load, ast.Store,
               ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.withitem, ast.Module)
REFUSED_WORDS = {
    ast.Import: "import (torch and F are already imported)", ast.ImportFrom: "import (torch and F are already imported)",
    ast.FunctionDef: "def (functions)", ast.AsyncFunctionDef: "def (functions)", ast.ClassDef: "class",
    ast.While: "while loops (use `for i in range(n)`, n at most 100)", ast.Lambda: "lambda",
    ast.Try: "try", ast.Raise: "raise", ast.Delete: "del", ast.Global: "global", ast.Nonlocal: "nonlocal",
    ast.Return: "return", ast.Assert: "assert", ast.ListComp: "list comprehensions", ast.SetComp: "set comprehensions",
    ast.DictComp: "dict comprehensions", ast.GeneratorExp: "generator expressions", ast.Dict: "dicts",
    ast.Set: "sets", ast.JoinedStr: "f-strings", ast.NamedExpr: "the := operator", ast.Starred: "*unpacking",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.AnnAssign: "annotations",
}
OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult, ast.BitAnd,
             ast.BitOr, ast.BitXor)
ALL_ATTRIBUTES = TENSOR_METHODS | TENSOR_ATTRIBUTES | NODE_ATTRIBUTES | NODE_METHODS | SIZE_METHODS


def dotted(node: ast.AST) -> str | None:
    """'torch.nn.functional.relu' for torch.nn.functional.relu or F.relu; None when not rooted at torch or F."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in ROOTS:
        return None
    return ".".join([ROOTS[node.id], *reversed(parts)])


def check_tree(tree: ast.Module) -> None:
    """Refuse anything outside the whitelist, naming it; the program has not run yet."""
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ScratchError(f"the program is too large ({len(nodes)} parts, at most {MAX_NODES})")
    _check_depth(tree)
    statements = sum(isinstance(n, ast.stmt) for n in nodes)
    if statements > MAX_STATEMENTS:
        raise ScratchError(f"the program has {statements} statements (at most {MAX_STATEMENTS})")
    for node in nodes:  # private names and refused built-ins first: they are the problem wherever they stand
        if isinstance(node, ast.Name):
            _check_name(node, _line(node))
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            _check_attribute(node, _line(node))
    for node in nodes:
        _check_node(node)


def _check_depth(tree: ast.AST) -> None:
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ScratchError(f"the program is nested too deeply (more than {MAX_DEPTH} levels)")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _line(node: ast.AST) -> str:
    return f"line {node.lineno}: " if hasattr(node, "lineno") else ""


def _check_node(node: ast.AST) -> None:
    where = _line(node)
    if type(node) in REFUSED_WORDS:
        raise ScratchError(f"{where}{REFUSED_WORDS[type(node)]} is not allowed in the scratchpad")
    if not isinstance(node, STATEMENTS + EXPRESSIONS):
        raise ScratchError(f"{where}{type(node).__name__} is not allowed in the scratchpad")
    if isinstance(node, ast.Name):
        _check_name(node, where)
    elif isinstance(node, ast.Attribute):
        _check_attribute(node, where)
    elif isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, type(None),
                                                                        type(Ellipsis))):
        raise ScratchError(f"{where}the constant {node.value!r:.40} is not allowed")
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > MAX_STRING:
        raise ScratchError(f"{where}a string is {len(node.value)} characters long (at most {MAX_STRING})")
    elif isinstance(node, ast.BinOp) and not isinstance(node.op, OPERATORS):
        raise ScratchError(f"{where}the operator {type(node.op).__name__} is not allowed")
    elif isinstance(node, ast.AugAssign) and not isinstance(node.op, OPERATORS):
        raise ScratchError(f"{where}the operator {type(node.op).__name__}= is not allowed")
    elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
        raise ScratchError(f"{where}`in` is not allowed in comparisons")
    elif isinstance(node, ast.keyword) and (node.arg is None or node.arg.startswith("_") or node.arg == "generator"):
        raise ScratchError(f"keyword argument {'**' if node.arg is None else node.arg + '='} is not allowed")
    elif isinstance(node, ast.For) and (node.orelse or not isinstance(node.target, (ast.Name, ast.Tuple))):
        raise ScratchError(f"{where}a for loop takes a plain name (`for i in range(n)`) and no else")
    elif isinstance(node, ast.With):
        _check_with(node, where)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        _check_range(node, where)


def _check_range(node: ast.Call, where: str) -> None:
    """range(10**6) is refused as typed (a range computed while the program runs is checked then)."""
    try:
        numbers = range(*(ast.literal_eval(a) for a in node.args))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return
    if len(numbers) > MAX_LOOP:
        raise ScratchError(f"{where}range(...) counts {len(numbers):,} numbers (at most {MAX_LOOP})")


def _check_name(node: ast.Name, where: str) -> None:
    if node.id.startswith("_"):
        raise ScratchError(f"{where}names starting with '_' like {node.id!r} are not allowed")
    if node.id in NOT_SUPPORTED:
        raise ScratchError(f"{where}{node.id} is not allowed: {NOT_SUPPORTED[node.id]}")
    if isinstance(node.ctx, ast.Store) and (node.id in BUILTINS or node.id in ROOTS):
        raise ScratchError(f"{where}{node.id!r} is a built-in name here; pick another variable name")


def _check_attribute(node: ast.Attribute, where: str) -> None:
    if node.attr.startswith("_"):
        raise ScratchError(f"{where}attributes starting with '_' like {node.attr!r} are not allowed "
                           "(a tensor's _version is in the table)")
    name = dotted(node)
    if name is not None:
        if name not in TORCH_NAMES and not any(k.startswith(name + ".") for k in TORCH_NAMES):
            raise ScratchError(f"{where}{name} is not allowed; the torch functions here: "
                               + ", ".join(k.removeprefix("torch.") for k in TORCH_NAMES if k.count(".") == 1))
        return
    if node.attr in NOT_SUPPORTED:
        raise ScratchError(f"{where}.{node.attr} is not allowed: {NOT_SUPPORTED[node.attr]}")
    if node.attr not in ALL_ATTRIBUTES:
        raise ScratchError(f"{where}the attribute or method .{node.attr} is not allowed in the scratchpad")
    if isinstance(node.ctx, ast.Store) and node.attr not in SETTABLE:
        raise ScratchError(f"{where}only .requires_grad, .grad and .data can be assigned, not .{node.attr}")


def _check_with(node: ast.With, where: str) -> None:
    for item in node.items:
        call = item.context_expr
        name = dotted(call.func) if isinstance(call, ast.Call) else None
        if item.optional_vars is not None or name not in ("torch.no_grad", "torch.enable_grad",
                                                          "torch.inference_mode"):
            raise ScratchError(f"{where}`with` takes torch.no_grad(), torch.enable_grad() or "
                               "torch.inference_mode() (no `as`)")
