"""Example programs for the scratchpad, written as plain PyTorch functions: the scratchpad runs a function's body
(program_of), a test runs the function itself in plain torch, and the two must agree.

micrograd's test_engine.py checks its Value against PyTorch in two tests; the first two functions are their
PyTorch halves, as written there (float64)."""
from __future__ import annotations

import ast

import torch

from explorer.teaching.source import source_of


def micrograd_sanity_check():
    """micrograd's test_sanity_check, the PyTorch half."""
    x = torch.Tensor([-4.0]).double()
    x.requires_grad = True
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return x, y


def micrograd_more_ops():
    """micrograd's test_more_ops, the PyTorch half."""
    a = torch.Tensor([-4.0]).double()
    b = torch.Tensor([2.0]).double()
    a.requires_grad = True
    b.requires_grad = True
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return a, b, g


def saved_tensor_changed_in_place():
    """sigmoid saves its output for backward; changing that output in place makes backward refuse."""
    w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    s = w.sigmoid()
    loss = s.sum()
    s.mul_(2)
    loss.backward()
    return w, s, loss


def grad_of_a_non_leaf():
    """Only leaves get .grad by default; retain_grad() asks for an intermediate's too."""
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = w * 2
    y = (h ** 2).sum()
    y.backward(retain_graph=True)
    print(w.grad, h.grad)
    h.retain_grad()
    y.backward()
    print(w.grad, h.grad)
    return w, h, y


EXAMPLES = {"micrograd: test_sanity_check": micrograd_sanity_check, "micrograd: test_more_ops": micrograd_more_ops,
            "in-place change of a saved tensor": saved_tensor_changed_in_place,
            "grad of a non-leaf tensor": grad_of_a_non_leaf}


def program_of(fn) -> str:
    """The body of an example function as a scratchpad program: its statements, without docstring and return."""
    text = source_of(fn)
    body = ast.parse(text).body[0].body
    lines = text.splitlines()
    kept = [s for s in body if not isinstance(s, ast.Return)
            and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return "\n".join(line[4:] for line in lines[kept[0].lineno - 1:kept[-1].end_lineno]) + "\n"
