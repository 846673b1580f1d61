"""The one walk over PyTorch's autograd graph: from a tensor's grad_fn back through next_functions."""
from __future__ import annotations

from collections import deque
from typing import Callable, Iterator

import torch


def inputs_of(fn: object) -> list[tuple[object | None, int]]:
    """(grad_fn, output index) of each input slot of `fn`; None where that input needs no gradient."""
    return list(getattr(fn, "next_functions", ()))


def walk_grad_fns(root: torch.Tensor | object | None,
                  skip: Callable[[object], bool] | None = None) -> Iterator[object]:
    """Every grad_fn reachable from `root` (a tensor or a grad_fn), breadth-first, each once.

    `skip(fn)` True leaves fn out and does not go past it. The walk is lazy: a caller may change a node (tag
    its metadata) before the next one is read, or stop early.
    """
    start = root.grad_fn if isinstance(root, torch.Tensor) else root
    if start is None:
        return
    queue, seen = deque([start]), {id(start)}
    while queue:
        fn = queue.popleft()
        if skip is not None and skip(fn):
            continue
        yield fn
        for child, _ in inputs_of(fn):
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                queue.append(child)


def paths_to(fn: object, leaf: torch.Tensor, limit: int = 20) -> list[list[tuple[object, int]]]:
    """Every route from grad_fn `fn` down to the leaf's AccumulateGrad, as (node, input slot) pairs."""
    out: list[list[tuple[object, int]]] = []
    for slot, (child, _) in enumerate(inputs_of(fn)):
        if child is None or len(out) >= limit:
            continue
        if getattr(child, "variable", None) is leaf:
            out.append([(fn, slot)])
        elif not hasattr(child, "variable"):
            out += [[(fn, slot)] + rest for rest in paths_to(child, leaf, limit)]
    return out
