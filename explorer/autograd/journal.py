"""The op journal: every tensor operation a forward pass runs, recorded as it runs (TorchFunctionMode)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

TENSOR_ATTRIBUTES = {"T", "mT", "H", "mH"}  # attribute reads that are real ops (they create a grad_fn)


def preview(value: object, precision: int = 4, threshold: int = 12) -> str:
    """A short text view of a tensor's values (numpy formatting, summarised when large)."""
    if not isinstance(value, torch.Tensor):
        return repr(value)
    array = value.detach().cpu().to(torch.float64).numpy()
    return np.array2string(array, precision=precision, threshold=threshold, edgeitems=2,
                           suppress_small=False, max_line_width=60)


def brief(value: torch.Tensor | None, width: int = 15) -> str:
    """A tensor in at most about `width` characters: the number itself, or the first values then '…'."""
    if value is None:
        return ""
    flat = value.detach().reshape(-1)
    if flat.numel() == 1:
        return f"{flat.double().item():.6g}"
    parts: list[str] = []
    for v in flat[:8].double().cpu().tolist():
        part = f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        if len(", ".join(parts + [part])) + 3 > width:
            break
        parts.append(part)
    more = ", …" if len(parts) < flat.numel() else ""
    return "[" + ", ".join(parts) + more + "]"


@dataclass
class Operand:
    """One input of a recorded op: its name in the journal, shape and values."""
    name: str
    shape: tuple[int, ...] | None
    value: str


@dataclass
class JournalEntry:
    """One recorded op: what ran, on what, what came out, and the grad_fn it created."""
    index: int
    op: str
    inputs: list[Operand]
    output_name: str
    output_shape: tuple[int, ...]
    output_value: str
    grad_fn_name: str | None
    grad_fn: object | None = field(default=None, repr=False, compare=False)
    output: torch.Tensor | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        """The op as a small worked line: output = op(inputs), each input's value, the output's value."""
        args = ", ".join(o.name for o in self.inputs)
        lines = [f"{self.output_name} = {self.op}({args})"]
        lines += [f"  {o.name} {o.shape} = {o.value}" for o in self.inputs if o.shape is not None]
        lines.append(f"  → {self.output_name} {self.output_shape} = {self.output_value}")
        lines.append(f"  grad_fn: {self.grad_fn_name or 'None (no input requires grad, nothing recorded)'}")
        return "\n".join(line.replace("\n", "\n      ") for line in lines)

    def as_row(self) -> dict[str, str]:
        """The entry as a table row."""
        args = ", ".join(f"{o.name} {o.shape}" if o.shape is not None else o.name for o in self.inputs)
        return {"#": str(self.index), "operation": f"{self.op}({args})", "output": self.output_name,
                "shape": str(self.output_shape), "value": self.output_value,
                "grad_fn": self.grad_fn_name or "— (nothing requires grad)"}


def op_name(func) -> str:
    """A readable name for what TorchFunctionMode intercepted (e.g. Tensor.matmul, torch.sigmoid, Tensor.T)."""
    name = getattr(func, "__name__", str(func))
    if name == "__get__":  # an attribute read such as x.T: name it after the attribute
        return "Tensor." + getattr(getattr(func, "__self__", None), "__name__", "?")
    qual = getattr(func, "__qualname__", name)
    if qual.startswith(("TensorBase.", "Tensor.")):
        return "Tensor." + name
    if qual.startswith("_VariableFunctionsClass."):
        return "torch." + name
    module = getattr(func, "__module__", None) or "torch"
    return f"{module}.{name}"


def _wanted(func) -> bool:
    """Skip attribute reads such as .shape or .grad_fn: only .T-like reads compute something."""
    if getattr(func, "__name__", "") != "__get__":
        return True
    return getattr(getattr(func, "__self__", None), "__name__", "") in TENSOR_ATTRIBUTES


class OpJournal(TorchFunctionMode):
    """Record each tensor op run inside `with OpJournal(names) as journal:` into `journal.entries`.

    The code inside is not told: it is watched from outside. `on_backward(tensor, run)`, when given, is called
    instead of a `tensor.backward()` the code makes; `run()` then runs that backward(). It runs with the journal
    paused, so what it does (read the graph, hook its nodes) is not recorded.
    """

    def __init__(self, names: dict[str, torch.Tensor] | None = None, output_prefix: str = "t",
                 on_backward: Callable[[torch.Tensor, Callable[[], None]], None] | None = None):
        super().__init__()
        self.entries: list[JournalEntry] = []
        self._names = {id(t): n for n, t in (names or {}).items()}
        self._keep = list((names or {}).values())  # ids stay unique while we hold the tensors
        self._prefix = output_prefix
        self._on_backward = on_backward
        self.sources: dict[int, str] = {}  # id(tensor) → the expression text that made it (expr.noting_sources)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.Tensor.backward and self._on_backward is not None:
            return self._on_backward(args[0], lambda: func(*args, **kwargs))
        out = func(*args, **kwargs)
        if isinstance(out, torch.Tensor) and _wanted(func):
            self._record(func, list(args) + list(kwargs.values()), out)
        return out

    def _operand(self, value: object) -> Operand:
        """Describe an input by the name we know it under."""
        if isinstance(value, torch.Tensor):
            name = self._names.get(id(value), "tensor")
            return Operand(name, tuple(value.shape), preview(value))
        return Operand(repr(value), None, repr(value))

    def _record(self, func, inputs: list, out: torch.Tensor) -> None:
        """Append one entry; the output gets the next name t1, t2, …"""
        index = len(self.entries) + 1
        name = f"{self._prefix}{index}"
        self._names[id(out)] = name
        self._keep.append(out)
        fn = out.grad_fn
        self.entries.append(JournalEntry(
            index=index, op=op_name(func), inputs=[self._operand(v) for v in inputs], output_name=name,
            output_shape=tuple(out.shape), output_value=preview(out),
            grad_fn_name=type(fn).__name__ if fn is not None else None, grad_fn=fn, output=out))

    def rename_last(self, name: str) -> None:
        """Call the final output by its name in the lesson (y) instead of tN."""
        if self.entries:
            self.entries[-1].output_name = name
