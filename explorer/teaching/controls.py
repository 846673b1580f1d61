"""Every page's widgets as data: each one's Streamlit element, key, label, range or options, tooltip and first value,
and what a copied link carries of it. A page draws them with pages/_state.widgets and shares them through
`PageState.spec`, so a widget and its link parameter are declared once (same keys, same ranges)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from explorer.teaching.shareable import Shared

SEED_MAX = 2**31 - 1
OPTIONS = ("select_slider", "radio", "selectbox")  # the elements that offer a list of values


@dataclass(frozen=True)
class Control:
    """One widget of a page; `values` is (low, high) for a number input or a slider, the options for a choice."""
    widget: str  # the Streamlit element: number_input, slider, toggle, checkbox, text_input, multiselect or OPTIONS
    key: str
    label: str
    values: tuple = ()
    help: str | None = None
    first: Any = None  # the value it starts with (None: its element's own)
    more: Mapping[str, Any] = field(default_factory=dict)  # the element's other arguments (step, horizontal, …)
    choices: tuple | None = None  # the only values a link may give, where a range says too little (a slider's steps)
    max_len: int = 300  # the longest text a link may give (a text input without max_chars of its own)
    quiet: bool = False  # at its first value it stays out of the link (a link names only what was changed)

    @property
    def args(self) -> tuple:
        """The element's positional arguments after the label."""
        return (self.values,) if self.widget in (*OPTIONS, "multiselect") else self.values

    def link(self) -> Shared:
        """What a copied link carries of this widget, checked as the widget checks it (range, options, length)."""
        shared = self._link()
        return replace(shared, default=self.first) if self.quiet else shared

    def _link(self) -> Shared:
        if self.widget in ("toggle", "checkbox"):
            return Shared(self.key, "bool")
        if self.widget == "text_input":
            return Shared(self.key, "str", max_len=self.more.get("max_chars", self.max_len))
        if self.widget == "multiselect":
            return Shared(self.key, "list", choices=tuple(self.values))
        kind = "float" if isinstance(self.values[0], float) else "int" if isinstance(self.values[0], int) else "str"
        if self.widget in OPTIONS:
            return Shared(self.key, kind, choices=tuple(self.values))
        return Shared(self.key, kind, *self.values, choices=self.choices)


@dataclass(frozen=True)
class PageState:
    """What a page's link carries, in link order: its widgets, and the rest (the open tab, a lab's clicks)."""
    items: tuple[Control | Shared, ...]

    @property
    def spec(self) -> tuple[Shared, ...]:
        return tuple(item.link() if isinstance(item, Control) else item for item in self.items)

    def firsts(self) -> dict[str, Any]:
        """The first value of each widget that has one of its own, by key (for init_widgets)."""
        return {c.key: c.first for c in self.items if isinstance(c, Control) and c.first is not None}

    def controls(self, *keys: str) -> list[Control]:
        by_key = {item.key: item for item in self.items}
        return [by_key[key] for key in keys]
