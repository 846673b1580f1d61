"""The seed's sidebar on tensor shapes: a shape typed by the learner, its tensor as brackets and boxes, indexing.

Shapes and index expressions are user text: they go through an `ast` whitelist (ints, slices, `...`, None),
never through eval.
"""
from __future__ import annotations

import ast
import html
from typing import Any, MutableMapping

import torch

MAX_DIMS, MAX_SIZE, MAX_ELEMENTS, MAX_BOXES = 6, 64, 4096, 512


class ShapeError(ValueError):
    """A shape or index expression that is refused, with the reason."""


def _int(node: ast.AST) -> int:
    """An integer literal, possibly negative; anything else is refused."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_int(node.operand)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    raise ShapeError(f"`{ast.unparse(node)}` is not a whole number")


def _parse(text: str, what: str) -> ast.AST:
    if len(text) > 100:
        raise ShapeError(f"the {what} is longer than 100 characters")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ShapeError(f"`{text.strip()}` is not a {what} Python can read") from None


def parse_shape(text: str) -> tuple[int, ...]:
    """'(3, 2, 4, 2)', '3, 2, 4, 2' or '[3, 2]' → (3, 2, 4, 2); within MAX_DIMS dims and MAX_ELEMENTS values."""
    node = _parse(text, "shape")
    items = node.elts if isinstance(node, (ast.Tuple, ast.List)) else [node]
    shape = tuple(_int(item) for item in items)
    if not 1 <= len(shape) <= MAX_DIMS:
        raise ShapeError(f"a shape here has 1 to {MAX_DIMS} sizes, not {len(shape)}")
    if any(not 1 <= size <= MAX_SIZE for size in shape):
        raise ShapeError(f"each size must be between 1 and {MAX_SIZE}")
    if torch.Size(shape).numel() > MAX_ELEMENTS:
        raise ShapeError(f"{torch.Size(shape).numel():,} values is more than this page shows ({MAX_ELEMENTS:,})")
    return shape


def _index_item(node: ast.AST) -> int | slice | None | type(Ellipsis):
    """One part of an index: an int, a slice of ints, `...` or None (a new axis of size 1)."""
    if isinstance(node, ast.Slice):
        parts = [None if p is None else _int(p) for p in (node.lower, node.upper, node.step)]
        if parts[2] is not None and parts[2] <= 0:
            raise ShapeError("a slice step must be positive (PyTorch has no negative steps)")
        return slice(*parts)
    if isinstance(node, ast.Constant) and (node.value is Ellipsis or node.value is None):
        return node.value
    return _int(node)


def shape_or_last(text: str, last: tuple[int, ...]) -> tuple[tuple[int, ...], str | None]:
    """The shape the text asks for; or, when it is refused, the last good shape and why the text was refused."""
    try:
        return parse_shape(text), None
    except ShapeError as exc:
        return last, f"Shape not accepted: {exc}. Still showing {list(last)}."


def session_shape(state: MutableMapping[str, Any], text: str) -> tuple[tuple[int, ...], str | None]:
    """shape_or_last over the session's last good shape (kept under modules_last_shape); it becomes the new last."""
    state["modules_last_shape"], refused = shape_or_last(text, state.get("modules_last_shape", (3, 2, 4, 2)))
    return state["modules_last_shape"], refused


def parse_index(text: str) -> tuple:
    """'t[2, 1]', 't[..., 0]', 't[:, 1:3]' (or without 't') → the index tuple; nothing else is accepted."""
    stripped = text.strip()
    node = _parse(stripped if stripped.startswith("t[") else f"t[{stripped}]", "index")
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "t"):
        raise ShapeError(f"`{stripped}` is not an index like t[2] or t[..., 0]")
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    return tuple(_index_item(item) for item in items)


def index_tensor(t: torch.Tensor, text: str) -> torch.Tensor:
    """indexed(t, ...) for the learner's index text; torch's own IndexError message when it does not fit the shape."""
    index = parse_index(text)
    try:
        return indexed(t, index)
    except IndexError as exc:
        raise ShapeError(f"PyTorch refused `{text.strip()}`: IndexError: {exc}") from None


def seed_tensor(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """Seed cell 138: test = torch.randn(3, 2, 4, 2), seeded so a link shows the same numbers."""
    generator = torch.Generator().manual_seed(seed)
    test = torch.randn(*shape, generator=generator)
    return test


def indexed(test: torch.Tensor, index: tuple) -> torch.Tensor:
    """The seed's test[2]: an int drops its dimension, a slice keeps it, `...` stands for the dimensions it skips,
    None adds a dimension of size 1."""
    part = test[index]
    return part


def nesting_sentence(shape: tuple[int, ...]) -> str:
    """The seed's reading of a shape: '3 elements, each of 2 elements, each of 4 …'."""
    parts = [f"{shape[0]} element{'s' if shape[0] != 1 else ''}"]
    parts += [f"each of {n} element{'s' if n != 1 else ''}" for n in shape[1:-1]]
    if len(shape) > 1:
        parts.append(f"each a vector of {shape[-1]} number{'s' if shape[-1] != 1 else ''}")
    return ", ".join(parts)


def shape_printout(shape: tuple[int, ...], t: torch.Tensor) -> str:
    """The seed's cell: the tensor made and its shape read back."""
    return f"test = torch.randn{shape}\ntest.shape\n{t.shape}"


def nesting_note(shape: tuple[int, ...]) -> str:
    return f"Read it from the outside in: **{nesting_sentence(shape)}**."


def index_or_refuse(t: torch.Tensor, text: str) -> tuple[torch.Tensor | None, str | None]:
    """index_tensor, or why the index is refused (None and the message)."""
    try:
        return index_tensor(t, text), None
    except ShapeError as exc:
        return None, f"Index not accepted: {exc}"


def boxes_or_refusal(t: torch.Tensor) -> tuple[str | None, str | None]:
    """The nested boxes with their style, or why they are not drawn (None and the reason)."""
    try:
        return BOX_CSS + boxes_html(t), None
    except ShapeError as exc:
        return None, str(exc)


def boxes_html(t: torch.Tensor) -> str:
    """The tensor as nested boxes: one box per index of each dimension, alternately side by side and stacked."""
    if t.numel() > MAX_BOXES:
        raise ShapeError(f"{t.numel():,} values are too many boxes to draw (at most {MAX_BOXES}); index it first")
    return f"<div class='tbox-root'>{_box(t, 0)}</div>"


def _box(t: torch.Tensor, depth: int) -> str:
    if t.dim() == 0:
        return f"<span class='tbox-num'>{t.item():.2f}</span>"
    direction = "row" if (t.dim() % 2) == 1 else "column"
    inner = "".join(f"<div class='tbox-cell'><small>[{i}]</small>{_box(t[i], depth + 1)}</div>"
                    for i in range(t.shape[0]))
    label = html.escape(f"dim {depth} · size {t.shape[0]}")
    return (f"<div class='tbox' style='flex-direction:{direction}' title='{label}'>"
            f"<span class='tbox-label'>{label}</span>{inner}</div>")


BOX_CSS = """<style>
.tbox-root { font-family: monospace; font-size: 0.8rem; overflow-x: auto; }
.tbox { display: flex; gap: 4px; padding: 14px 4px 4px; margin: 2px; border: 1px solid #8884;
        border-radius: 6px; position: relative; background: #8881; }
.tbox-label { position: absolute; top: 0; left: 6px; font-size: 0.75rem; color: #4a4a4a; }
.tbox-cell { display: flex; align-items: center; gap: 2px; }
.tbox-cell > small { color: #4a4a4a; }  /* 8.9:1: an index label is read, not decoration */
.tbox-num { padding: 1px 4px; border-radius: 3px; background: #4a90e222; }
</style>"""
