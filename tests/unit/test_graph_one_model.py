"""One node model, one walk: a grad_fn's saved attributes are read in explorer/autograd/node.py only, and its
next_functions in explorer/autograd/walk.py only (everything else reads them through those two). Prose that names
an attribute for the learner (in a longer sentence) is not a read."""
from __future__ import annotations

import ast
import re
from pathlib import Path

EXPLORER = Path(__file__).resolve().parents[2] / "explorer"


def reading(path: Path, name: str) -> bool:
    """Whether the module touches attribute `name` (or any attribute starting with it, when it ends in '_'): as an
    attribute, or as a string that names it (getattr, startswith, f"{prefix}…")."""
    def hits(text: str) -> bool:
        return text.startswith(name) if name.endswith("_") else text == name
    return any((isinstance(node, ast.Attribute) and hits(node.attr))
               or (isinstance(node, ast.Constant) and isinstance(node.value, str) and hits(node.value))
               for node in ast.walk(ast.parse(path.read_text())))


def modules(test) -> list[str]:
    return sorted(str(p.relative_to(EXPLORER)) for p in EXPLORER.rglob("*.py") if test(p))


def test_saved_attributes_are_read_in_one_module():
    assert modules(lambda p: reading(p, "_saved_")) == ["autograd/node.py"]


def test_next_functions_is_walked_in_one_module():
    # the scratchpad's whitelist names it as an attribute a learner's own program may read; the app walks nothing there
    assert modules(lambda p: reading(p, "next_functions")) == ["autograd/walk.py", "mechanics/scratch_rules.py"]


def test_one_palette_one_label_function_one_set_of_rules():
    defines = lambda pattern: modules(lambda p: re.search(pattern, p.read_text(), re.M))  # noqa: E731
    assert defines(r"^(FILL|STYLE) = ") == ["autograd/node.py"]
    assert defines(r"^def (label_lines|node_lines|node_label)\(") == ["autograd/node.py"]
    assert defines(r"^(RULES|TERMS) = ") == ["autograd/node.py"]


def test_the_checker_sees_reads_and_not_prose(tmp_path):
    code = tmp_path / "m.py"
    code.write_text('x = getattr(fn, "_saved_self")\ny = fn.next_functions\n')
    assert reading(code, "_saved_") and reading(code, "next_functions")
    code.write_text('NOTE = "keeps pnl (`_saved_self`) and walks next_functions"\n')
    assert not reading(code, "_saved_") and not reading(code, "next_functions")
