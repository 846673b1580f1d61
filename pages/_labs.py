"""Page glue the labs share: a lab's buttons, and widgets drawn from the tables in explorer/labs/controls.py."""
from __future__ import annotations

import streamlit as st

from explorer.labs import LabButton
from explorer.labs.controls import LabState


def buttons(lab: object, specs: tuple[LabButton, ...], per_row: int = 3) -> None:
    """A lab's buttons in rows of `per_row`; a click calls the button's action on the lab."""
    columns = [col for _ in range(0, len(specs), per_row) for col in st.columns(per_row)]
    for col, b in zip(columns, specs):
        if col.button(b.label, key=b.key, width="stretch", shortcut=b.shortcut, help=b.help):
            b.action(lab)


def widgets(places, state: LabState, *keys: str) -> list:
    """The widgets `keys` of a lab page, each in its place (a column or a container); the values they show."""
    return [getattr(place, c.widget)(c.label, *c.args, key=c.key, help=c.help, **c.more)
            for place, c in zip(places, state.controls(*keys))]
