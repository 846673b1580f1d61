"""URL query parameters ⇄ page state: typed, ranged, refusals explained."""
from __future__ import annotations

import pytest

from explorer.teaching.shareable import Shared, decode, encode

SPEC = [Shared("row", "int", 0, 999), Shared("lr", "float", 1e-6, 1.0), Shared("expr", "str", max_len=20),
        Shared("log", "bool"), Shared("opt", "str", choices=("sgd", "adam")),
        Shared("cols", "list", choices=("open", "close"))]


def test_round_trip():
    values = {"row": 100, "lr": 0.003, "expr": "x @ w.T + b", "log": True, "opt": "adam", "cols": ["close", "open"],
              "other": 5}
    params = encode(values, SPEC)
    assert params == {"row": "100", "lr": "0.003", "expr": "x @ w.T + b", "log": "1", "opt": "adam",
                      "cols": "close,open"}
    assert decode(params, SPEC) == ({k: v for k, v in values.items() if k != "other"}, [])


@pytest.mark.parametrize("key, text, words", [
    ("row", "1000", "outside 0…999"), ("row", "-1", "outside"), ("row", "1e3", "invalid literal"),
    ("lr", "nan", "not a finite number"), ("lr", "inf", "not a finite number"), ("lr", "5", "outside"),
    ("expr", "x" * 21, "longer than 20"), ("log", "yes", "expected 0 or 1"), ("opt", "lbfgs", "not one of"),
    ("cols", "open,volume", "comma-separated list"),
])
def test_bad_values_are_refused_with_a_message(key, text, words):
    values, problems = decode({key: text, "row": "5"} if key != "row" else {key: text}, SPEC)
    assert key not in values
    assert len(problems) == 1 and f"`{key}`" in problems[0] and words in problems[0]


def test_a_text_too_long_for_a_link_stays_out_of_it():
    """The expression field takes a long paste (so its length can be named); the link never carries what it could
    not bring back."""
    assert encode({"expr": "x" * 21, "row": 3}, SPEC) == {"row": "3"}
    assert encode({"expr": "x" * 20}, SPEC) == {"expr": "x" * 20}


def test_the_expression_field_takes_a_long_paste():
    from explorer.autograd.controls import graph_state
    from explorer.autograd.expr import ExpressionError, parse_expression
    assert "max_chars" not in graph_state(200).controls("graph_expr")[0].more  # a longer paste was dropped whole by the browser
    with pytest.raises(ExpressionError, match=r"too long \(301 characters, at most 300\)"):
        parse_expression("x" + " " * 299 + "x")
