"""The learner's forward expression: parsed with `ast` into a whitelist and interpreted node by node (never eval)."""
from __future__ import annotations

import ast
import operator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch

VARIABLES = ("x", "w", "b")
FUNCTIONS: dict[str, Callable] = {
    "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "exp": torch.exp, "log": torch.log,
    "abs": torch.abs, "sum": torch.sum, "mean": torch.mean, "pow": torch.pow, "clamp": torch.clamp,
    "softmax": torch.softmax,
}
MODULE_PREFIXES = ("torch", "F")  # torch.sigmoid(...) and F.relu(...) read as sigmoid(...) / relu(...)
KEYWORDS = {"dim", "keepdim", "min", "max", "exponent"}
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
          ast.MatMult: operator.matmul, ast.Pow: operator.pow}
MAX_TEXT, MAX_NODES, MAX_NUMBER, MAX_EXPONENT, MAX_ELEMENTS = 300, 120, 1e6, 10, 10_000
NODE_WORDS = {  # plain names for what the learner typed, used in refusal messages
    ast.Lambda: "lambda", ast.ListComp: "list comprehensions", ast.SetComp: "set comprehensions",
    ast.DictComp: "dict comprehensions", ast.GeneratorExp: "generator expressions", ast.Subscript: "indexing [...]",
    ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Set: "sets", ast.Compare: "comparisons",
    ast.BoolOp: "and/or", ast.IfExp: "if/else", ast.NamedExpr: "the := operator", ast.JoinedStr: "f-strings",
    ast.Starred: "*unpacking", ast.Await: "await", ast.Yield: "yield", ast.Slice: "slices",
}


_SOURCES: ContextVar[dict[int, str] | None] = ContextVar("expression_sources", default=None)


@contextmanager
def noting_sources(into: dict[int, str]) -> Iterator[dict[int, str]]:
    """While active, each expression that runs fills `into`: id(tensor) → the part of its text that computed it
    (e.g. 'x @ w.T'). The explanations name values by it; the expression itself takes no extra argument."""
    token = _SOURCES.set(into)
    try:
        yield into
    finally:
        _SOURCES.reset(token)


class ExpressionError(ValueError):
    """The expression is refused or fails; the message says what is not allowed or what went wrong."""


@dataclass(frozen=True)
class Expression:
    """A validated forward expression over x, w and b."""
    text: str
    tree: ast.Expression = field(repr=False, compare=False)

    def __call__(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Run the expression on tensors; shape mistakes come back as ExpressionError."""
        try:
            result = _Interpreter({"x": x, "w": w, "b": b}, _SOURCES.get()).visit(self.tree.body)
        except (RuntimeError, TypeError, ValueError, IndexError, ArithmeticError) as err:  # 0/0, 1e6**10**10
            raise ExpressionError(f"PyTorch refused the expression: {str(err).splitlines()[0]}") from None
        if not isinstance(result, torch.Tensor):
            raise ExpressionError("the expression gives a plain number; it must use x, w or b")
        return result


def parse_expression(text: str) -> Expression:
    """Parse and check `text` against the whitelist; raise ExpressionError naming what is not allowed."""
    text = (text or "").strip()
    if not text:
        raise ExpressionError("the expression is empty; try x @ w.T + b")
    if len(text) > MAX_TEXT:
        raise ExpressionError(f"the expression is too long ({len(text)} characters, at most {MAX_TEXT})")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"syntax error at column {err.offset}: {err.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("the expression is nested too deeply or contains a null byte") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"the expression is too large (more than {MAX_NODES} parts)")
    _check(tree.body)
    return Expression(text, tree)


def _check(node: ast.AST) -> None:
    """Walk the tree and refuse anything outside the whitelist."""
    if isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise ExpressionError(f"double-underscore names like {node.id!r} are not allowed")
        if node.id not in VARIABLES:
            raise ExpressionError(f"the name {node.id!r} is not allowed; use x, w or b")
    elif isinstance(node, ast.Constant):
        _check_number(node.value)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in BINARY:
            raise ExpressionError(f"the operator {type(node.op).__name__} is not allowed; use + - * / @ **")
        if isinstance(node.op, ast.Pow):
            _check_exponent(node.right)
        _check(node.left)
        _check(node.right)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ExpressionError(f"the unary operator {type(node.op).__name__} is not allowed; only minus")
        _check(node.operand)
    elif isinstance(node, ast.Attribute):
        _check_attribute(node)
    elif isinstance(node, ast.Call):
        _check_call(node)
    else:
        word = NODE_WORDS.get(type(node), type(node).__name__)
        raise ExpressionError(f"{word} are not allowed here" if word.endswith("s") else f"{word} is not allowed")


def _check_number(value: object) -> None:
    """Numbers only, and not huge ones."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"the constant {value!r} is not allowed; only numbers")
    if abs(value) > MAX_NUMBER:
        raise ExpressionError(f"the number {value!r} is too large (at most {MAX_NUMBER:g})")


def _literal(node: ast.AST) -> float | None:
    """The value of a plain (possibly negated) number literal, else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _literal(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    return None


def _check_exponent(node: ast.AST) -> None:
    """Exponents must be small literal numbers, so `x ** 10**9` cannot run away."""
    value = _literal(node)
    if value is None:
        raise ExpressionError("an exponent must be a plain number such as 2 or 0.5 (no expressions after **)")
    if abs(value) > MAX_EXPONENT:
        raise ExpressionError(f"the exponent {value!r} is too large (at most {MAX_EXPONENT})")


def _check_attribute(node: ast.Attribute) -> None:
    """`.T` is the only attribute a tensor may use outside a call."""
    if node.attr.startswith("_"):
        raise ExpressionError(f"attributes starting with '_' like {node.attr!r} are not allowed")
    if node.attr != "T":
        raise ExpressionError(f"the attribute .{node.attr} is not allowed; only .T (and calls like .sum())")
    _check(node.value)


def _function_name(func: ast.AST) -> tuple[str, ast.AST | None]:
    """(function name, tensor it is called on) for f(...), torch.f(...), F.f(...) or tensor.f(...)."""
    if isinstance(func, ast.Name):
        return func.id, None
    if isinstance(func, ast.Attribute):
        if isinstance(func.value, ast.Name) and func.value.id in MODULE_PREFIXES:
            return func.attr, None
        return func.attr, func.value
    raise ExpressionError("only named functions can be called, e.g. sigmoid(...) or (x * w).sum()")


def _check_call(node: ast.Call) -> None:
    """Whitelisted functions with number keyword arguments."""
    name, receiver = _function_name(node.func)
    if name.startswith("_"):
        raise ExpressionError(f"calling {name!r} is not allowed (names starting with '_' are refused)")
    if name not in FUNCTIONS:
        raise ExpressionError(f"calling {name!r} is not allowed; allowed functions: {', '.join(FUNCTIONS)}")
    if receiver is not None:
        _check(receiver)
    for arg in node.args:
        _check(arg)
    if name == "pow":
        args = node.args[1:] if receiver is None else node.args
        for arg in args[:1]:
            _check_exponent(arg)
    for kw in node.keywords:
        if kw.arg not in KEYWORDS:
            raise ExpressionError(f"the keyword argument {kw.arg!r} is not allowed; allowed: {sorted(KEYWORDS)}")
        if kw.arg == "exponent":
            _check_exponent(kw.value)
        value = _literal(kw.value) if not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, bool)) \
            else kw.value.value
        if value is None:
            raise ExpressionError(f"the keyword {kw.arg}= takes a plain number")


class _Interpreter(ast.NodeVisitor):
    """Evaluate an already-checked tree with torch, one node at a time."""

    def __init__(self, env: dict[str, torch.Tensor], sources: dict[int, str] | None = None):
        self.env = env
        self.sources = sources

    def visit(self, node: ast.AST):
        """Evaluate a node and keep every intermediate tensor small."""
        value = super().visit(node)
        if isinstance(value, torch.Tensor) and value.numel() > MAX_ELEMENTS:
            raise ExpressionError(f"an intermediate result has shape {tuple(value.shape)}: too large")
        if self.sources is not None and isinstance(value, torch.Tensor):
            self.sources.setdefault(id(value), ast.unparse(node))
        return value

    def visit_Name(self, node: ast.Name):
        return self.env[node.id]

    def visit_Constant(self, node: ast.Constant):
        return node.value

    def visit_BinOp(self, node: ast.BinOp):
        return BINARY[type(node.op)](self.visit(node.left), self.visit(node.right))

    def visit_UnaryOp(self, node: ast.UnaryOp):
        value = self.visit(node.operand)
        return -value if isinstance(node.op, ast.USub) else value

    def visit_Attribute(self, node: ast.Attribute):
        value = self.visit(node.value)
        if not isinstance(value, torch.Tensor):
            raise ExpressionError(".T needs a tensor, not a number")
        return value.T

    def visit_Call(self, node: ast.Call):
        name, receiver = _function_name(node.func)
        args = [self.visit(a) for a in node.args]
        if receiver is not None:
            args.insert(0, self.visit(receiver))
        kwargs = {kw.arg: self.visit(kw.value) for kw in node.keywords}
        if not args or not isinstance(args[0], torch.Tensor):
            raise ExpressionError(f"{name}(...) needs a tensor as its first argument")
        if name == "softmax" and len(args) < 2 and "dim" not in kwargs:
            kwargs["dim"] = -1  # softmax needs a dim; the last one is what learners mean
        if receiver is not None:  # t.mean() runs Tensor.mean, as written (name is whitelisted, t is a tensor)
            return getattr(torch.Tensor, name)(*args, **kwargs)
        return FUNCTIONS[name](*args, **kwargs)
