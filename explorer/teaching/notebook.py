"""Take it home as a notebook: Jupyter cells written with nbformat (the format's own library, imported only when a
notebook is built), from the same parts as the take-home script.

A lesson's notebook: a markdown cell with the lesson's explanation, the imports, the data cell (the candles or the
tensor embedded exactly, as the script embeds them), one code cell per lesson function and one per step the learner
took, each printing what the page printed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from explorer.teaching.parts import Parts

NEEDS = "Needs only torch, pandas and Jupyter: run the cells from top to bottom."
METADATA = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"}}


def markdown(text: str) -> NotebookNode:
    from nbformat.v4 import new_markdown_cell
    return new_markdown_cell(text.strip("\n"))


def code(text: str) -> NotebookNode:
    """A code cell; the blank lines that separate a script's parts are the cell's edges here."""
    from nbformat.v4 import new_code_cell
    return new_code_cell(text.strip("\n"))


def notebook_text(cells: list[NotebookNode]) -> str:
    """The cells as a validated .ipynb (nbformat 4); cell ids are numbered, so the same lesson gives the same file."""
    import nbformat
    from nbformat.v4 import new_notebook

    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    nb = new_notebook(cells=cells, metadata=METADATA)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def lesson_notebook(parts: Parts) -> str:
    """A lesson's take-home as a notebook: explanation, imports, data, each lesson function, each step."""
    from explorer.teaching.parts import DEVICE_LINE

    cells = [markdown(f"# {parts.title}\n\n{parts.explanation}\n\n*Taken home from Autograd Explorer. {NEEDS}*"),
             code(parts.imports + "\n" + DEVICE_LINE.format(device=parts.device))]
    if parts.data.strip():
        cells += [markdown("The data, embedded exactly as the page had it."), code(parts.data)]
    cells.append(markdown("The lesson functions the page ran, as Autograd Explorer has them."))
    cells += [code(source) for source in parts.lessons]
    if parts.helper:
        cells.append(code(parts.helper))
    cells.append(markdown("Your steps on the page, one cell each: each prints what the page showed."))
    cells += [code(step) for step in parts.steps]
    return notebook_text(cells)


def script_notebook(script: str, file: str) -> str:
    """A take-home known only as a script: that script in one cell (it prints the same in Jupyter)."""
    return notebook_text([markdown(f"# {file}\n\n*Taken home from Autograd Explorer. {NEEDS}*"), code(script)])
