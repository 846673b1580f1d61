"""The scratchpad: the learner's own short PyTorch program, checked against a whitelist (scratch_rules) and run
statement by statement by an interpreter over its syntax tree (scratch_interp), never by eval, exec or compile.

After each statement the page shows every tensor (scratch_view.tensor_table), the graph of them all
(scratch_view.scratch_graph) and what the statement printed, or PyTorch's own error or warning."""
from __future__ import annotations

import ast
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, MutableMapping
from urllib.parse import quote

import torch

from explorer.mechanics.scratch_examples import EXAMPLES, program_of
from explorer.mechanics.scratch_interp import Interpreter, _Break, _Continue
from explorer.mechanics.scratch_rules import MAX_CHARS, RUN_SECONDS, STATEMENT_SECONDS, ScratchError, check_tree
from explorer.teaching.shareable import Shared

__all__ = ["EXAMPLES", "LINK", "MAX_CHARS", "Outcome", "Program", "ScratchError", "ScratchRun", "example_program",
           "latest_run", "parse_program", "run_program", "scratch_link"]

LINK = (Shared("code", "str", max_len=MAX_CHARS, default=""), Shared("scratch_pos", "int", 0, 1000, default=0))
RUN_KEY = "scratch_run"  # the session's last good run: ((code, upto), ScratchRun)
MAX_OUTPUT = 3000  # characters of one statement's printout
ERRORS = (Exception,)  # PyTorch's (and Python's) errors, whatever their class: the statement's result, no traceback
INTRO = ("Type a short PyTorch program and run it one statement at a time. After each statement the table shows "
         "every tensor as autograd sees it, the graph draws them all, and below the statement is what it printed, "
         "or PyTorch's own error or warning. `torch` and `F` (torch.nn.functional) are already imported. The "
         "program is never handed to Python's eval or exec: each statement is checked against a whitelist and run "
         f"part by part. Limits: {MAX_CHARS:,} characters, 40 statements, 100,000 elements a tensor, loops of at "
         "most 100 passes, 2 s a statement.")


def scratch_link(code: str) -> str:
    """The relative URL that opens the scratchpad with `code` in it (for "open in scratchpad" links)."""
    return "/scratchpad?code=" + quote(code, safe="")


def example_program(name: str) -> str:
    """The program of example `name` (an example function's body)."""
    return program_of(EXAMPLES[name])


@dataclass(frozen=True)
class Program:
    """A checked program: its text and its top-level statements (each one step)."""
    text: str
    tree: ast.Module = field(repr=False, compare=False)

    @property
    def statements(self) -> list[ast.stmt]:
        return self.tree.body

    def source(self, i: int) -> str:
        """The text of statement i (0-based), as typed."""
        return ast.get_source_segment(self.text, self.statements[i]) or ast.unparse(self.statements[i])


@dataclass
class Outcome:
    """What one statement did: what it printed (an expression's value too), PyTorch's error, its warnings."""
    number: int
    source: str
    printed: str = ""
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def messages(self) -> list[tuple[str, str]]:
        """(how to show it, text): PyTorch's error, its warnings, then what was printed."""
        return ([("error", self.error)] if self.error else []) + [("warning", w) for w in self.warnings] + (
            [("code", self.printed.rstrip("\n"))] if self.printed.strip() else [])


@dataclass
class ScratchRun:
    """The first `len(outcomes)` statements of a program, run; env holds its variables (tensors with graphs)."""
    program: Program
    outcomes: list[Outcome]
    env: dict[str, object]

    @property
    def done(self) -> int:
        return len(self.outcomes)

    @property
    def total(self) -> int:
        return len(self.program.statements)

    def status(self) -> str:
        """Where the run stands, in words."""
        if self.done == 0:
            return f"Nothing has run yet: {self.total} statements to go. Press Step or Run all."
        return f"Ran {self.done} of {self.total} statements." + (" The end." if self.done == self.total else "")

    def transcript(self) -> str:
        """Every statement run so far with what it printed, as a console would show it."""
        out = []
        for o in self.outcomes:
            out.append("\n".join((">>> " if i == 0 else "... ") + line
                                 for i, line in enumerate(o.source.splitlines())))
            out += [text for text in (o.printed.rstrip("\n"), *o.warnings, o.error or "") if text]
        return "\n".join(out)


def parse_program(text: str) -> Program:
    """Parse and check `text`; ScratchError names what is not allowed. Nothing runs."""
    if not (text or "").strip():
        raise ScratchError("the program is empty; try x = torch.ones(3, requires_grad=True)")
    if len(text) > MAX_CHARS:
        raise ScratchError(f"the program is {len(text):,} characters long (at most {MAX_CHARS:,})")
    if "\x00" in text:
        raise ScratchError("the program contains a null byte")
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        raise ScratchError(f"syntax error on line {err.lineno}: {err.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ScratchError("the program is nested too deeply") from None
    check_tree(tree)
    return Program(text, tree)


def run_program(program: Program, upto: int) -> ScratchRun:
    """Run the first `upto` statements on fresh variables (randn & co. start from seed 0: the same program gives
    the same numbers). A statement that PyTorch refuses records its error and the run goes on, as in a console;
    one over a limit refuses the whole run (ScratchError)."""
    interp, outcomes, start = Interpreter(), [], time.monotonic()
    with torch.enable_grad():  # the program starts as a fresh Python does, whatever the caller's grad mode
        for i in range(min(upto, len(program.statements))):
            left = RUN_SECONDS - (time.monotonic() - start)
            if left <= 0:
                raise ScratchError(f"the program ran longer than {RUN_SECONDS:g} s in all")
            outcomes.append(_run_statement(interp, program, i, min(STATEMENT_SECONDS, left)))
    return ScratchRun(program, outcomes, interp.env)


def latest_run(state: MutableMapping[str, Any], code: str, upto: int) -> tuple[ScratchRun | None, str | None]:
    """The run of the first `upto` statements of `code`, kept in `state` (the session's: its tensors keep their
    graphs) while code and upto stay the same. A refused program leaves the last good run in place and says why:
    (that run or None, the refusal)."""
    kept = state.get(RUN_KEY)
    if kept is not None and kept[0] == (code, upto):
        return kept[1], None
    try:
        run = run_program(parse_program(code), upto)
    except ScratchError as err:
        return (kept[1] if kept else None), str(err)
    state[RUN_KEY] = ((code, upto), run)
    return run, None


def _run_statement(interp: Interpreter, program: Program, i: int, seconds: float) -> Outcome:
    outcome = Outcome(i + 1, program.source(i))
    interp.printed = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = interp.run(program.statements[i], seconds)
            if value is not None and isinstance(program.statements[i], ast.Expr):
                interp.printed.append(repr(value) + "\n")
        except ScratchError as err:
            raise ScratchError(f"statement {i + 1} (`{outcome.source.splitlines()[0]}`): {err}") from None
        except (_Break, _Continue):
            raise ScratchError(f"statement {i + 1}: break and continue belong inside a for loop") from None
        except MemoryError:
            raise ScratchError(f"statement {i + 1} ran out of memory") from None
        except ERRORS as err:
            outcome.error = f"{type(err).__name__}: {err}"
    outcome.printed = "".join(interp.printed)[:MAX_OUTPUT]
    outcome.warnings = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return outcome
