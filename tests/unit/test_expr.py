"""The expression whitelist: learners' expressions run like PyTorch; hostile or malformed text is refused."""
from __future__ import annotations

import ast
import os

import pytest
import torch

from explorer.autograd.expr import ExpressionError, parse_expression


@pytest.fixture
def leaves():
    x = torch.tensor([[4291.3701, 4291.3701, 4291.3701, 4291.3701, 0.0]])
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(1, 5, generator=gen, requires_grad=True)
    b = torch.randn(1, generator=gen, requires_grad=True)
    return x, w, b


VALID = {  # expression -> the same computation written in plain PyTorch
    "x @ w.T + b": lambda x, w, b: x @ w.T + b,
    "torch.sigmoid(x @ w.T + b)": lambda x, w, b: torch.sigmoid(x @ w.T + b),
    "((x @ w.T + b) ** 2).mean()": lambda x, w, b: ((x @ w.T + b) ** 2).mean(),
    "(x * w).sum() + b": lambda x, w, b: (x * w).sum() + b,
    "relu(x / 1000 @ w.T + b)": lambda x, w, b: torch.relu(x / 1000 @ w.T + b),
    "softmax(x / 1000 * w).sum() * b": lambda x, w, b: torch.softmax(x / 1000 * w, dim=-1).sum() * b,
    "tanh(-w).sum() - b": lambda x, w, b: torch.tanh(-w).sum() - b,
    "exp(w).mean() + log(abs(b) + 1)": lambda x, w, b: torch.exp(w).mean() + torch.log(torch.abs(b) + 1),
    "pow(w, 3).sum() + b ** -1": lambda x, w, b: torch.pow(w, 3).sum() + b ** -1,
    "clamp(x @ w.T, min=0, max=10) + F.relu(b)": lambda x, w, b: torch.clamp(x @ w.T, min=0, max=10) + torch.relu(b),
    "w.sum(dim=1, keepdim=True) * 2.5": lambda x, w, b: w.sum(dim=1, keepdim=True) * 2.5,
    "softmax(w, dim=1).sum()": lambda x, w, b: torch.softmax(w, dim=1).sum(),
}


@pytest.mark.parametrize("text", list(VALID))
def test_valid_expressions_compute_what_pytorch_computes(text, leaves):
    x, w, b = leaves
    ours = parse_expression(text)(x, w, b)
    reference = VALID[text](x, w, b)
    torch.testing.assert_close(ours, reference, rtol=0, atol=0)
    assert type(ours.grad_fn).__name__ == type(reference.grad_fn).__name__


HOSTILE = {  # text -> a piece the message must contain
    "__import__('os')": "'__import__'",
    "__import__('os').system('touch pwned')": "not allowed",
    "x.__class__": "'__class__'",
    "().__class__.__bases__": "'__bases__'",
    "x.__class__.__subclasses__()": "'__subclasses__'",
    "open('f')": "'open'",
    "open('f', 'w').write('x')": "'write'",
    "[x for x in y]": "list comprehensions",
    "{x for x in w}": "set comprehensions",
    "(t for t in w)": "generator expressions",
    "lambda: 1": "lambda",
    "x ** 10**9": "exponent",
    "x ** 1000": "too large",
    "pow(x, 10**9)": "exponent",
    "torch.ones(10**10)": "'ones'",
    "torch.zeros(100000, 100000).sum()": "'zeros'",
    "x @ w.T +": "syntax error",
    "x @@ w": "syntax error",
    "": "empty",
    "   ": "empty",
    "eval('1')": "'eval'",
    "exec('import os')": "'exec'",
    "getattr(x, 'T')": "'getattr'",
    "x.data": "attribute .data",
    "w.grad_fn": "attribute .grad_fn",
    "x[0]": "indexing",
    "x if w else b": "if/else",
    "x > w": "comparisons",
    "x and w": "and/or",
    "'abc'": "constant 'abc'",
    "f'{x}'": "f-strings",
    "(y := x)": ":=",
    "z + w": "'z'",
    "torch.nn.functional.relu(x)": "attribute .functional",
    "x.sum(out=w)": "keyword argument 'out'",
    "x.T.T.numpy()": "'numpy'",
    "sum(w, dim=w)": "plain number",
    "1e300 * w": "too large",
    "x % w": "operator Mod",
    "~x": "unary operator Invert",
    "w" + " + w" * 200: "too long",
    "(" * 60 + "w" + ")" * 60 + "+b" * 40: "too large",
    "x\x00": "null byte",
}


@pytest.mark.parametrize("text", list(HOSTILE))
def test_hostile_or_malformed_expressions_are_refused_with_a_clear_message(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExpressionError) as err:
        parse_expression(text)
    assert HOSTILE[text] in str(err.value), str(err.value)
    assert os.listdir(tmp_path) == []  # no side effect: nothing was opened or written


def test_at_least_twenty_refusals_are_covered():
    assert len(HOSTILE) >= 20


def test_no_eval_or_exec_in_the_expression_module():
    import explorer.autograd.expr as module

    source = open(module.__file__, encoding="utf-8").read()
    calls = {node.func.id for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not calls & {"eval", "exec", "compile", "__import__"}


def test_shape_errors_come_back_as_expression_errors(leaves):
    with pytest.raises(ExpressionError, match="PyTorch refused"):
        parse_expression("x @ w")(*leaves)  # (1,5) @ (1,5)


def test_plain_numbers_are_refused_at_run_time(leaves):
    with pytest.raises(ExpressionError, match="plain number"):
        parse_expression("2 * 3")(*leaves)
