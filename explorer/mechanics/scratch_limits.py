"""The scratchpad's size limits, checked from arguments and shapes before a call runs (so a huge tensor is refused
before it is allocated) and on every value after it is made."""
from __future__ import annotations

import math
import operator

import torch
import torch.nn.functional as F

from explorer.mechanics import scratch_rules as rules
from explorer.mechanics.scratch_rules import ScratchError


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def bounded(value: object) -> None:
    """No tensor, list or number the program holds grows past the limits."""
    if isinstance(value, torch.Tensor) and value.numel() > rules.MAX_ELEMENTS:
        raise ScratchError(f"a tensor of shape {tuple(value.shape)} has {value.numel():,} elements "
                           f"(at most {rules.MAX_ELEMENTS:,})")
    if isinstance(value, (list, tuple, str)) and len(value) > rules.MAX_ELEMENTS:
        raise ScratchError(f"a list of {len(value):,} items is too long (at most {rules.MAX_ELEMENTS:,})")
    if is_int(value) and value.bit_length() > rules.MAX_INT_BITS:
        raise ScratchError("a number in the program grows too large")


def count_items(data: object, limit: int = rules.MAX_ELEMENTS) -> int:
    """How many numbers nested lists hold, refused as soon as they pass `limit` ([[0] * 10**5] * 10**5)."""
    if not isinstance(data, (list, tuple)):
        return data.numel() if isinstance(data, torch.Tensor) else 1
    total = 0
    for item in data:
        total += count_items(item, limit - total)
        if total > limit:
            raise ScratchError(f"torch.tensor(...) of more than {rules.MAX_ELEMENTS:,} numbers is too large")
    return total


def _tensors(values) -> list[torch.Tensor]:
    """The tensors among call arguments, lists and tuples of them included."""
    out = []
    for v in values:
        if isinstance(v, torch.Tensor):
            out.append(v)
        elif isinstance(v, (list, tuple)):
            out += [t for t in v if isinstance(t, torch.Tensor)]
    return out


def _product(sizes) -> int:
    return math.prod(int(s) for s in sizes)


def _creation_size(fn, args: list, kwargs: dict) -> int:
    """How many elements a creation function would make, read from its arguments."""
    if fn is torch.arange:
        start, end, step = (0, *args) if len(args) == 1 else (*args, 1)[:3] if args else (0, 0, 1)
        start, end, step = kwargs.get("start", start), kwargs.get("end", end), kwargs.get("step", step)
        return max(0, math.ceil((float(end) - float(start)) / float(step)))
    if fn is torch.linspace:
        return int(args[2] if len(args) > 2 else kwargs.get("steps", 0))
    if fn is torch.eye:
        return int(args[0]) * int(args[1] if len(args) > 1 else kwargs.get("m", args[0]))
    if fn is torch.randperm:
        return int(args[0] if args else kwargs.get("n", 0))
    if fn is torch.randint:
        return _product(args[-1] if args and isinstance(args[-1], (tuple, list, torch.Size)) else kwargs.get("size", ()))
    sizes = args[:-1] if fn is torch.full else args
    sizes = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, torch.Size)) else sizes
    return _product(sizes or kwargs.get("size", ()))


def _result_size(fn, args: list, kwargs: dict) -> int:
    """An upper bound, read from shapes alone, of the elements `fn` would make from tensors: broadcasting,
    matrix products and concatenation are where small tensors make a huge one."""
    tensors = _tensors([*args, *kwargs.values()])
    if fn in (torch.cat, torch.stack):
        return sum(t.numel() for t in tensors)
    if fn in (torch.outer,):
        return _product(t.numel() for t in tensors)
    if fn in (torch.matmul, torch.mm, operator.matmul, F.linear) and len(tensors) >= 2:
        a, b = tensors[:2]
        if fn is F.linear:
            return _product(a.shape[:-1]) * (b.shape[0] if b.dim() == 2 else 1)
        try:
            batch = _product(torch.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        except RuntimeError:
            return 0
        return batch * (a.shape[-2] if a.dim() >= 2 else 1) * (b.shape[-1] if b.dim() >= 2 else 1)
    try:
        return _product(torch.broadcast_shapes(*(t.shape for t in tensors))) if len(tensors) > 1 else 0
    except RuntimeError:  # not broadcastable: the real call raises PyTorch's own error
        return 0


def check_size(fn, args, kwargs, creation: bool = False) -> None:
    """Refuse a call whose result would be larger than the limit, before it runs."""
    try:
        size = _creation_size(fn, list(args), kwargs) if creation else _result_size(fn, list(args), kwargs)
    except (TypeError, ValueError, IndexError, OverflowError, ZeroDivisionError):
        return  # arguments the real call will refuse in PyTorch's own words
    if size > rules.MAX_ELEMENTS:
        raise ScratchError(f"the result would have {size:,} elements (at most {rules.MAX_ELEMENTS:,})")
