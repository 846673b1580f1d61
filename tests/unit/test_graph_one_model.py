"""One node model, one walk: a grad_fn's saved attributes are read in explorer/autograd/node.py only, and its
next_functions in explorer/autograd/walk.py only (everything else reads them through those two)."""
from __future__ import annotations

import re
from pathlib import Path

EXPLORER = Path(__file__).resolve().parents[2] / "explorer"


def modules_saying(pattern: str) -> list[str]:
    """The explorer modules whose source matches `pattern`, relative to explorer/."""
    return sorted(str(p.relative_to(EXPLORER)) for p in EXPLORER.rglob("*.py") if re.search(pattern, p.read_text(), re.M))


def test_saved_attributes_are_read_in_one_module():
    assert modules_saying(r"_saved_") == ["autograd/node.py"]


def test_next_functions_is_walked_in_one_module():
    assert modules_saying(r"\.next_functions|[\"']next_functions[\"']") == ["autograd/walk.py"]


def test_one_palette_and_one_label_function():
    assert modules_saying(r"^FILL = |^STYLE = ") == ["autograd/node.py"]
    assert modules_saying(r"^def (label_lines|node_lines|node_label)\(") == ["autograd/node.py"]
    assert modules_saying(r"^RULES = ") == ["autograd/node.py"]
