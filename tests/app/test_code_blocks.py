"""Every code block a page shows is a lesson: plain PyTorch that parses, calls no private helper, holds none of the
app's plumbing (the instruments that watch a lesson from outside) and stays short enough to read.

The walk opens every page as a new learner would (its defaults), every Graph view, Training after a Step, and
Training with "Zero the gradients every step" off after a Step.
"""
from __future__ import annotations

import ast

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.apptest import click, open_app_page

# The app's own machinery: a learner reading one of these reads the instrument, not the lesson.
PLUMBING = {"OpJournal", "journal", "sources", "snapshot", "cached", "lru_cache", "checkpoint_every", "checkpoints",
            "callbacks", "callback", "ForgetfulOptimizer", "Lock", "threading", "st"}
MAX_LINES = 80
PAGES = ("home", "data", "config", "accumulation", "retain_graph", "modules", "errors", "autograd_tools",
         "gradient_flow")


def lesson_blocks(at: AppTest) -> list[str]:
    """The Python source blocks on screen (printouts are language text)."""
    return [c.value for c in at.code if c.language == "python"]


def names(tree: ast.AST) -> set[str]:
    """Every identifier a block defines, reads or calls (names, attributes, functions, classes, arguments)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, ast.alias):
            found.add(node.asname or node.name.split(".")[0])
    return found


def problems(block: str) -> list[str]:
    """What makes a block not a lesson (empty: it is one)."""
    found = names(ast.parse(block))
    private = sorted(n for n in found if n.startswith("_") and n != "_" and not (n.startswith("__") and n.endswith("__")))
    plumbing = sorted(found & PLUMBING)
    lines = len(block.rstrip("\n").splitlines())
    return ([f"private names {private}"] if private else []) + ([f"plumbing {plumbing}"] if plumbing else []) + (
        [f"{lines} lines"] if lines > MAX_LINES else [])


def assert_lessons(at: AppTest, where: str) -> list[str]:
    blocks = lesson_blocks(at)
    assert blocks, f"{where} shows no code"
    bad = {block.splitlines()[0]: p for block in blocks if (p := problems(block))}
    assert not bad, f"{where}: {bad}"
    return blocks


@pytest.mark.parametrize("page", PAGES)
def test_each_page_shows_lessons_only(page):
    assert_lessons(open_app_page(f"pages/{page}.py"), page)


@pytest.mark.parametrize("view", ["fwd", "bwd", "check", "mlp"])
def test_each_graph_view_shows_lessons_only(view):
    at = open_app_page("pages/graph.py")
    at.radio(key="graph_view").set_value(view).run()
    assert not at.exception
    assert_lessons(at, f"graph {view}")


def test_training_after_a_step_shows_lessons_only():
    at = click(open_app_page("pages/training.py"), "train_step")
    assert_lessons(at, "training")


def test_training_without_zero_grad_shows_a_loop_that_never_calls_it():
    at = open_app_page("pages/training.py")
    at.checkbox(key="train_zero_grad").uncheck().run()
    click(at, "train_reset")
    click(at, "train_step")
    assert at.session_state["train_worker"].trainer.settings.zero_grad is False
    calls = {node.func.attr for block in assert_lessons(at, "training, zero_grad off")
             for node in ast.walk(ast.parse(block))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert "backward" in calls and "step" in calls
    assert "zero_grad" not in calls


def test_the_checker_catches_what_it_should():
    assert problems("def f(x):\n    return _helper(x)\n") == ["private names ['_helper']"]
    assert problems("with OpJournal() as journal:\n    y = f(x, sources=journal.sources)\n") == [
        "plumbing ['OpJournal', 'journal', 'sources']"]
    assert problems("x = 1\n" * 81) == ["81 lines"]
    assert problems("class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n") == []
