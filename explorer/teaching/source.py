"""The one reader of lesson source: what a page shows and a take-home script is built from is the code that ran."""
from __future__ import annotations

import functools
import inspect
import textwrap


@functools.lru_cache(maxsize=256)
def source_of(obj: object) -> str:
    """A lesson function's (or class's) source as it stands in explorer (read once per process: reading it on
    every rerun cost ~5 ms a function)."""
    return textwrap.dedent(inspect.getsource(obj))


def lesson_source(*objects: object) -> str:
    """The source of the functions (and classes) a page ran, each after a blank line, as a script's body."""
    return "".join("\n\n" + source_of(obj) for obj in objects) + "\n\n"
