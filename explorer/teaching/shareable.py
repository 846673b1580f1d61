"""Page state ⇄ URL query parameters: a copied link reproduces what is on screen.

Values from a URL are user input: each is parsed against a declared type and range, and anything refused comes
back as a message instead of reaching a widget (a value out of a widget's range would make Streamlit raise).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence


@dataclass(frozen=True)
class Shared:
    """One piece of page state that travels in the URL under its widget key."""
    key: str
    kind: Literal["int", "float", "str", "bool", "list", "clicks"]  # list: comma-separated, each one of `choices`;
    # clicks: a lab's click history (letters the lab checks as it replays them), not a widget value
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    max_len: int = 300
    default: Any = None  # a value equal to it stays out of the link (None: every value is written)


def _parse(spec: Shared, text: str) -> Any:
    if spec.kind == "list":
        items = [item for item in text.split(",") if item] if len(text) <= spec.max_len else None
        if items is None or any(item not in (spec.choices or ()) for item in items):
            raise ValueError("not a comma-separated list of the choices")
        return items
    if spec.kind == "bool":
        if text not in ("0", "1"):
            raise ValueError("expected 0 or 1")
        return text == "1"
    if spec.kind in ("str", "clicks"):
        if len(text) > spec.max_len:
            raise ValueError(f"longer than {spec.max_len} characters")
        value: Any = text
    else:
        value = int(text) if spec.kind == "int" else float(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("not a finite number")
        if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
            raise ValueError(f"outside {spec.low:g}…{spec.high:g}")
    if spec.choices is not None and value not in spec.choices:
        raise ValueError("not one of the choices")
    return value


def decode(params: Mapping[str, str], spec: Sequence[Shared]) -> tuple[dict[str, Any], list[str]]:
    """Values to put into the page's widgets, and a message for each parameter that was refused."""
    values, problems = {}, []
    for item in spec:
        if item.key not in params:
            continue
        text = params[item.key]
        try:
            values[item.key] = _parse(item, text)
        except ValueError as exc:
            problems.append(f"Link parameter `{item.key}` = {text[:40]!r} ignored: {exc}.")
    return values, problems


def encode(values: Mapping[str, Any], spec: Sequence[Shared]) -> dict[str, str]:
    """The query parameters that reproduce `values` (only keys in the spec that have a value)."""
    out = {}
    for item in spec:
        if item.key in values and values[item.key] is not None and values[item.key] != item.default:
            value = values[item.key]
            if item.kind in ("str", "clicks") and len(value) > item.max_len:  # a link could not bring it back
                continue
            out[item.key] = ("1" if value else "0") if item.kind == "bool" else (
                repr(float(value)) if item.kind == "float" else ",".join(value) if item.kind == "list" else str(value))
    return out
