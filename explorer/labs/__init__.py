"""The labs: gradient accumulation, micro-batches, the optimizer lab, retain_graph, modules and shapes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class LabButton:
    """One button of a lab: its widget key, label, keyboard shortcut, tooltip, and what a click does to the lab."""
    key: str
    label: str
    shortcut: str | None
    help: str
    action: Callable[[Any], object]

