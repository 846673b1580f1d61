"""The scratchpad's interpreter: a checked tree run node by node with torch (never eval, exec or compile), each
value kept within the limits of scratch_rules before and after it is made."""
from __future__ import annotations

import ast
import math
import operator
import time
from contextlib import ExitStack

import numpy as np
import torch

from explorer.mechanics import scratch_rules as rules
from explorer.mechanics.scratch_limits import bounded, check_size, count_items, is_int
from explorer.mechanics.scratch_rules import ScratchError

BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
          ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
          ast.MatMult: operator.matmul, ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor}
IN_PLACE = {ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul, ast.Div: operator.itruediv,
            ast.FloorDiv: operator.ifloordiv, ast.Mod: operator.imod, ast.Pow: operator.ipow,
            ast.MatMult: operator.imatmul, ast.BitAnd: operator.iand, ast.BitOr: operator.ior,
            ast.BitXor: operator.ixor}  # `a += b` on a tensor is in place, as in Python
COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
           ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not}
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_, ast.Invert: operator.invert}
METHOD_KINDS = {"matmul": torch.matmul, "mm": torch.mm}  # tensor methods whose size is not a broadcast
Node = torch.autograd.graph.Node


MAX_PRINTED = 10_000  # characters print() keeps for one statement


def _sum(values, start=0):
    """Python's sum, of numbers and tensors (a sum of lists would join them: sum([[0] * 10**5] * 10**5, []))."""
    if not isinstance(start, (int, float, torch.Tensor)):
        raise ScratchError("sum(...) adds numbers and tensors here")
    return sum(values, start)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Interpreter:
    """Runs statements one at a time on its own variables; `printed` collects what print() wrote."""

    def __init__(self) -> None:
        self.env: dict[str, object] = {}
        self.generator = torch.Generator().manual_seed(0)  # randn & co. draw from the run's own generator
        self.printed: list[str] = []
        self.iterations = 0
        self.made = 0  # elements of all the tensors the program's expressions gave
        self.deadline = math.inf
        self.builtins = {"print": self._print, "range": self._range, "len": len, "abs": abs, "min": min, "max": max,
                         "round": round, "float": float, "int": int, "bool": bool, "sum": _sum, "list": self._list,
                         "tuple": lambda v=(): tuple(self._list(v)), "str": str}

    def run(self, stmt: ast.stmt, seconds: float) -> object:
        """Run one statement within `seconds`; returns an expression statement's value (else None)."""
        self.deadline = time.monotonic() + seconds
        return self.execute(stmt)

    # --- statements ---------------------------------------------------------------------------------------------
    def execute(self, stmt: ast.stmt) -> object:
        if isinstance(stmt, ast.Expr):
            return self.value(stmt.value)
        if isinstance(stmt, ast.Assign):
            value = self.value(stmt.value)
            for target in stmt.targets:
                self.assign(target, value)
        elif isinstance(stmt, ast.AugAssign):
            self.assign(stmt.target, self._binary(stmt.op, self.value(_loading(stmt.target)), self.value(stmt.value),
                                                  IN_PLACE))
        elif isinstance(stmt, ast.For):
            self._for(stmt)
        elif isinstance(stmt, ast.If):
            self.block(stmt.body if self.value(stmt.test) else stmt.orelse)
        elif isinstance(stmt, ast.With):
            with ExitStack() as stack:
                for item in stmt.items:
                    stack.enter_context(self.value(item.context_expr))
                self.block(stmt.body)
        elif isinstance(stmt, ast.Break):
            raise _Break
        elif isinstance(stmt, ast.Continue):
            raise _Continue
        return None

    def block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.execute(stmt)

    def _for(self, stmt: ast.For) -> None:
        items = self.value(stmt.iter)
        if not isinstance(items, (range, list, tuple, torch.Tensor)):
            raise ScratchError(f"line {stmt.lineno}: a for loop runs over range(n), a list or a tensor")
        if len(items) > rules.MAX_LOOP:
            raise ScratchError(f"line {stmt.lineno}: the loop would run {len(items):,} times (at most "
                               f"{rules.MAX_LOOP})")
        for item in items:
            self.iterations += 1
            if self.iterations > rules.MAX_ITERATIONS:
                raise ScratchError(f"the loops ran more than {rules.MAX_ITERATIONS:,} times in all")
            self.assign(stmt.target, item)
            try:
                self.block(stmt.body)
            except _Break:
                break
            except _Continue:
                continue

    def assign(self, target: ast.expr, value: object) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = self._list(value)
            if len(values) != len(target.elts):
                raise ValueError(f"cannot unpack {len(values)} values into {len(target.elts)} names")
            for t, v in zip(target.elts, values):
                self.assign(t, v)
        elif isinstance(target, ast.Attribute):
            setattr(self._tensor(self.value(target.value), f".{target.attr} ="), target.attr, value)
        elif isinstance(target, ast.Subscript):
            obj = self.value(target.value)
            self._tensor(obj, "item assignment [...] =", also=(list,))[self.value(target.slice)] = value
        else:
            raise ScratchError(f"cannot assign to {ast.unparse(target)}")

    # --- expressions --------------------------------------------------------------------------------------------
    def value(self, node: ast.expr) -> object:
        if time.monotonic() > self.deadline:
            raise ScratchError(f"the statement ran longer than {rules.STATEMENT_SECONDS:g} s")
        value = getattr(self, "eval_" + type(node).__name__)(node)
        bounded(value)
        if isinstance(value, torch.Tensor):  # the graph keeps what it saved: memory grows with every op a loop runs
            self.made += value.numel()
            if self.made > rules.MAX_MADE:
                raise ScratchError(f"the program made more than {rules.MAX_MADE:,} numbers in all (tensors a loop "
                                   "makes add up, and the graph keeps them)")
        return value

    def eval_Constant(self, node: ast.Constant) -> object:
        return node.value

    def eval_Name(self, node: ast.Name) -> object:
        if node.id in self.env:
            return self.env[node.id]
        if node.id in self.builtins:
            return self.builtins[node.id]
        if node.id in rules.ROOTS:
            raise ScratchError(f"{node.id} is used as {node.id}.<function>(...) here, not on its own")
        raise NameError(f"name {node.id!r} is not defined")

    def eval_BinOp(self, node: ast.BinOp) -> object:
        return self._binary(node.op, self.value(node.left), self.value(node.right), BINARY)

    def eval_UnaryOp(self, node: ast.UnaryOp) -> object:
        return UNARY[type(node.op)](self.value(node.operand))

    def eval_BoolOp(self, node: ast.BoolOp) -> object:
        value = None
        for part in node.values:
            value = self.value(part)
            if bool(value) == isinstance(node.op, ast.Or):
                return value
        return value

    def eval_Compare(self, node: ast.Compare) -> object:
        left, result = self.value(node.left), True
        for op, right_node in zip(node.ops, node.comparators):
            right = self.value(right_node)
            _same_size_check(left, right)
            result = COMPARE[type(op)](left, right)
            if len(node.ops) > 1 and not result:
                return result
            left = right
        return result

    def eval_IfExp(self, node: ast.IfExp) -> object:
        return self.value(node.body) if self.value(node.test) else self.value(node.orelse)

    def eval_List(self, node: ast.List) -> list:
        return [self.value(e) for e in node.elts]

    def eval_Tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self.value(e) for e in node.elts)

    def eval_Slice(self, node: ast.Slice) -> slice:
        return slice(*(None if p is None else self.value(p) for p in (node.lower, node.upper, node.step)))

    def eval_Subscript(self, node: ast.Subscript) -> object:
        obj, index = self.value(node.value), self.value(node.slice)
        if not isinstance(obj, (torch.Tensor, list, tuple, str, torch.Size)):
            raise ScratchError(f"line {node.lineno}: [...] works on tensors, lists and shapes, not "
                               f"{type(obj).__name__}")
        if isinstance(obj, torch.Tensor) and _advanced(index):  # x[[0] * 10**5] grows: checked first
            picked = sum(len(p) if isinstance(p, list) else p.numel() for p in _parts(index)
                         if isinstance(p, list) or (isinstance(p, torch.Tensor) and p.dtype != torch.bool))
            if picked * (obj.numel() // max(obj.shape[0], 1) if obj.dim() else 1) > rules.MAX_ELEMENTS:
                raise ScratchError(f"line {node.lineno}: indexing with {picked:,} indices makes too large a tensor")
        return obj[index]

    def eval_Attribute(self, node: ast.Attribute) -> object:
        name = rules.dotted(node)
        if name is not None:
            if not isinstance(rules.TORCH_NAMES.get(name), torch.dtype):
                raise ScratchError(f"line {node.lineno}: {name} is called here, as {name}(...)")
            return rules.TORCH_NAMES[name]
        obj = self.value(node.value)
        if isinstance(obj, torch.Tensor) and node.attr in rules.TENSOR_ATTRIBUTES:
            return getattr(obj, node.attr)
        if isinstance(obj, Node) and node.attr in rules.NODE_ATTRIBUTES:
            return getattr(obj, node.attr)
        raise _missing(obj, node.attr, "read")

    def eval_Call(self, node: ast.Call) -> object:
        args = [self.value(a) for a in node.args]
        kwargs = {kw.arg: self.value(kw.value) for kw in node.keywords}
        if any(isinstance(v, str) and v.strip().lower().startswith("meta") for v in (*args, *kwargs.values())):
            raise ScratchError(f"line {node.lineno}: the meta device is not available here (its first use takes "
                               "seconds); tensors live on the cpu, or on a GPU where there is one")
        name = rules.dotted(node.func)
        if name is not None:
            return self._torch_call(name, args, kwargs)
        if isinstance(node.func, ast.Name):
            if node.func.id not in self.builtins or node.func.id in self.env:
                raise ScratchError(f"line {node.lineno}: {node.func.id} is not a function here")
            return self.builtins[node.func.id](*args, **kwargs)
        if isinstance(node.func, ast.Attribute):
            obj, method = self.value(node.func.value), node.func.attr
            allowed = (rules.TENSOR_METHODS if isinstance(obj, torch.Tensor) else rules.NODE_METHODS
                       if isinstance(obj, Node) else rules.SIZE_METHODS if isinstance(obj, torch.Size) else set())
            if method not in allowed:
                raise _missing(obj, method, "called")
            if isinstance(obj, torch.Tensor):
                check_size(METHOD_KINDS.get(method), (obj, *args), kwargs)
            return getattr(obj, method)(*args, **kwargs)
        raise ScratchError(f"line {node.lineno}: only named functions can be called")

    def _torch_call(self, name: str, args: list, kwargs: dict) -> object:
        fn = rules.TORCH_NAMES.get(name)
        if not callable(fn) or isinstance(fn, torch.dtype):
            raise ScratchError(f"{name} cannot be called")
        if name == "torch.manual_seed":  # by name: importing torch._dynamo rebinds torch.manual_seed to a wrapper
            self.generator.manual_seed(int(args[0]) if args else int(kwargs.get("seed", 0)))
            return None
        if fn in (torch.tensor, torch.Tensor):
            if fn is torch.Tensor and (len(args) != 1 or not isinstance(args[0], (list, tuple))):
                raise ScratchError("torch.Tensor(...) takes one list here (torch.zeros(n) makes n zeros)")
            count_items(args[0] if args else None)
        else:
            check_size(fn, args, kwargs, creation=fn in rules.CREATION)
        if fn in rules.RANDOM:
            kwargs["generator"] = self.generator
        return fn(*args, **kwargs)

    def _binary(self, op: ast.operator, left: object, right: object, table: dict) -> object:
        """left op right, refused first where the result would be huge (10**10**10, [0] * 10**9, outer products)."""
        kind = type(op)
        if kind is ast.Pow and is_int(left) and is_int(right) and right > 0 and abs(left) > 1 \
                and right * math.log2(abs(left)) > rules.MAX_INT_BITS:
            raise ScratchError(f"the power {left} ** {right} is too large (the result would have more than "
                               f"{rules.MAX_INT_BITS} bits)")
        if kind is ast.Mult and is_int(left) and is_int(right) \
                and abs(left).bit_length() + abs(right).bit_length() > rules.MAX_INT_BITS:
            raise ScratchError("a number in the program grows too large")
        if kind is ast.Mult and (is_int(left) or is_int(right)) and isinstance(left if is_int(right) else right,
                                                                               (list, tuple, str)):
            seq, times = (left, right) if is_int(right) else (right, left)
            if len(seq) * times > rules.MAX_ELEMENTS:
                raise ScratchError(f"a list or string of {len(seq) * times:,} items is too long "
                                   f"(at most {rules.MAX_ELEMENTS:,})")
        if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
            raise ScratchError("numpy arrays can be printed here, not computed with (compute with tensors)")
        if kind is ast.Mod and isinstance(left, str):  # '%0999999999d' % 1 would write a gigabyte
            raise ScratchError("string formatting with % is not allowed; print(a, b) prints several values")
        if isinstance(left, torch.Tensor) or isinstance(right, torch.Tensor):
            check_size(BINARY[kind], (left, right), {})
        return table[kind](left, right)

    def _print(self, *values: object, sep: str = " ", end: str = "\n") -> None:
        if sum(len(p) for p in self.printed) <= MAX_PRINTED:  # a statement shows the first few thousand characters
            self.printed.append(str(sep).join(str(v) for v in values) + str(end))

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        if len(numbers) > rules.MAX_LOOP:
            raise ScratchError(f"range(...) counts {len(numbers):,} numbers here (at most {rules.MAX_LOOP})")
        return numbers

    def _list(self, value: object = ()) -> list:
        if isinstance(value, (range, list, tuple, str, torch.Tensor, torch.Size)) and len(value) <= rules.MAX_ELEMENTS:
            return list(value)
        raise ScratchError(f"cannot make a list of {_kind(value)} here")

    def _tensor(self, value: object, what: str, also: tuple[type, ...] = ()) -> torch.Tensor:
        """`value`, a tensor (or one of `also`); else Python's kind of error, as the statement's result."""
        if not isinstance(value, (torch.Tensor, *also)):
            raise TypeError(f"{what} works on tensors here, not on {_kind(value)}")
        return value


def _loading(target: ast.expr) -> ast.expr:
    """The target of `a += b` read as a value."""
    return ast.fix_missing_locations(ast.copy_location(type(target)(
        **{**{f: getattr(target, f) for f in target._fields}, "ctx": ast.Load()}), target))


def _missing(obj: object, name: str, how: str) -> AttributeError:
    """Python's own error for x.name on a value that is not a tensor (x.grad.zero_() while x.grad is None): a
    statement's result, as in Python, not a refusal; the scratchpad reads whitelisted names on tensors only."""
    owner = "grad_fns" if name in rules.NODE_ATTRIBUTES | rules.NODE_METHODS else "tensors"
    if isinstance(obj, (torch.Tensor, Node)):
        hint = f"; call it: .{name}()" if how == "read" and name in rules.TENSOR_METHODS | rules.NODE_METHODS else ""
        return AttributeError(f"the scratchpad does not {'read' if how == 'read' else 'call'} .{name} on "
                              f"{_kind(obj)}{hint}")
    verb = "reads" if how == "read" else "calls"
    return AttributeError(f"{type(obj).__name__!r} object has no attribute {name!r} (the scratchpad {verb} .{name} "
                          f"on {owner})")


def _kind(value: object) -> str:
    return "a tensor" if isinstance(value, torch.Tensor) else "a grad_fn" if isinstance(value, Node) else \
        ("an " if type(value).__name__[0] in "aeiou" else "a ") + type(value).__name__


def _parts(index: object) -> tuple:
    return index if isinstance(index, tuple) else (index,)


def _advanced(index: object) -> bool:
    return any(isinstance(p, (list, torch.Tensor)) for p in _parts(index))


def _same_size_check(left: object, right: object) -> None:
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        raise ScratchError("numpy arrays can be printed here, not compared (compare tensors)")
    check_size(operator.eq, (left, right), {})
