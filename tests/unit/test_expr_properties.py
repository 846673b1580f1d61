"""Property tests (hypothesis) for the forward-expression parser: nothing but ExpressionError ever escapes, only
whitelisted names get through, and accepted expressions compute exactly what PyTorch computes written by hand."""
from __future__ import annotations

import ast
import warnings

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.autograd.expr import FUNCTIONS, MODULE_PREFIXES, VARIABLES, ExpressionError, parse_expression

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOKENS = ["x", "w", "b", "w.T", "@", "+", "-", "*", "/", "**", "(", ")", ",", ".", "T", "2", "0.5", "1e6", "1e400",
          "dim=", "-1", "0", "__class__", "_", "'s'", "[", "]", ":", "lambda", "if", "else", " ", "\x00", "torch.",
          "F.", "sum()", "mean()", *[f"{name}(" for name in FUNCTIONS], "__import__(", "open(", "getattr("]
LEAVES = {"x": torch.tensor([[1.5, -2.0, 0.25, 3.0, -0.5]], dtype=torch.float64),
          "w": torch.tensor([[0.3, -0.1, 0.7, -0.2, 0.05]], dtype=torch.float64),
          "b": torch.tensor([0.4], dtype=torch.float64)}


def run(text: str):
    """Parse and evaluate; the only exception allowed out is ExpressionError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_expression(text)(**{k: v.clone() for k, v in LEAVES.items()})


@FAST
@given(st.text(max_size=400))
def test_any_text_is_parsed_or_refused_with_expression_error(text):
    try:
        run(text)
    except ExpressionError as err:
        assert str(err)  # a message, never empty


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_expression_shaped_noise_is_parsed_or_refused(text):
    try:
        result = run(text)
    except ExpressionError:
        return
    assert isinstance(result, torch.Tensor) and result.numel() <= 10_000
    names = {n.id for n in ast.walk(ast.parse(text.strip(), mode="eval")) if isinstance(n, ast.Name)}
    assert names <= set(VARIABLES) | set(MODULE_PREFIXES) | set(FUNCTIONS)  # nothing else was reachable


# Well-formed expressions, each paired with the same computation written directly in PyTorch (the reference).
UNARY = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "abs": torch.abs, "exp": torch.exp}
SCALAR = st.sampled_from(["x @ w.T + b", "(x * w).sum() + b", "w @ x.T", "(x - w).mean() * b"])
REFERENCE = {"x @ w.T + b": lambda x, w, b: x @ w.T + b, "(x * w).sum() + b": lambda x, w, b: (x * w).sum() + b,
             "w @ x.T": lambda x, w, b: w @ x.T, "(x - w).mean() * b": lambda x, w, b: (x - w).mean() * b}


def combine(children):
    """One more layer: a whitelisted function, a binary op with a constant, a power, or two subexpressions."""
    unary = st.tuples(st.sampled_from(sorted(UNARY)), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", lambda x, w, b, f=UNARY[t[0]], g=t[1][1]: f(g(x, w, b))))
    const = st.tuples(children, st.sampled_from(["+", "-", "*"]), st.sampled_from([0.5, 2, 3.0])).map(
        lambda t: (f"({t[0][0]}) {t[1]} {t[2]}", lambda x, w, b, g=t[0][1], op=t[1], c=t[2]:
                   {"+": torch.add, "-": torch.sub, "*": torch.mul}[op](g(x, w, b), c)))
    power = st.tuples(children, st.sampled_from([2, 3])).map(
        lambda t: (f"({t[0][0]}) ** {t[1]}", lambda x, w, b, g=t[0][1], p=t[1]: g(x, w, b) ** p))
    pair = st.tuples(children, children, st.sampled_from(["+", "*", "-"])).map(
        lambda t: (f"({t[0][0]}) {t[2]} ({t[1][0]})", lambda x, w, b, g=t[0][1], h=t[1][1], op=t[2]:
                   {"+": torch.add, "-": torch.sub, "*": torch.mul}[op](g(x, w, b), h(x, w, b))))
    return st.one_of(unary, const, power, pair)


WELL_FORMED = st.recursive(SCALAR.map(lambda s: (s, REFERENCE[s])), combine, max_leaves=6).filter(
    lambda pair: len(pair[0]) <= 300)


@FAST
@given(WELL_FORMED)
def test_accepted_expressions_compute_what_pytorch_computes(pair):
    text, reference = pair
    try:
        expression = parse_expression(text)
    except ExpressionError as err:  # only the size limits may refuse a well-formed expression
        assert "too large" in str(err) or "too long" in str(err), (text, err)
        return
    mine = {k: v.clone().requires_grad_(k != "x") for k, v in LEAVES.items()}
    ref = {k: v.clone().requires_grad_(k != "x") for k, v in LEAVES.items()}
    got, want = expression(**mine), reference(**ref)
    assert got.shape == want.shape
    assert torch.equal(got.detach().nan_to_num(), want.detach().nan_to_num()), (text, got, want)
    if got.numel() == 1:  # and backward() gives the same gradients as the hand-written PyTorch
        got.sum().backward()
        want.sum().backward()
        for name in ("w", "b"):
            g, r = mine[name].grad, ref[name].grad
            assert (g is None) == (r is None), (text, name)
            assert g is None or torch.equal(g.nan_to_num(), r.nan_to_num()), (text, name, g, r)
