"""What the Graph page keeps for one learner between reruns, in the session's state (a mapping the page passes in,
a test a dict): the lesson run once with what is derived from it, the view on screen, the node the inspector shows."""
from __future__ import annotations

from collections.abc import Callable, MutableMapping

import pandas as pd

from explorer.autograd.expr import ExpressionError
from explorer.autograd.lesson import DEFAULT_EXPRESSION, GraphLesson, run_lesson
from explorer.data.sources import literal

State = MutableMapping[str, object]
LESSON = "graph_lesson"  # (inputs, the lesson, its extras by name)
LAST_GOOD = "graph_last_good"  # the last expression that was accepted
NODE, CLICKED = "graph_node", "_graph_node_clicked"  # the inspected node; a node just clicked in the drawing
VIEW = "graph_view"
VIEWS = {"fwd": "1 · Forward: op journal", "bwd": "2 · Backward step by step", "check": "3 · Gradcheck",
         "mlp": "4 · Large graph (MLP)"}
# The options of the views not on screen: Streamlit forgets a widget that a run does not draw.
KEPT = ("graph_classic", "graph_classic_after", "graph_node", "graph_mlp_layers", "graph_mlp_hidden", "graph_mlp_cap",
        "graph_mlp_backward", "graph_mlp_collapse", "graph_mlp_hide_acc", "graph_mlp_hide_views", "graph_mlp_expand")
PICK_STEP_NODE = "this step's node (the highlighted one)"


def kept_lesson(state: State, frame: pd.DataFrame, row: int, seed: int, text: str,
                device: str) -> tuple[GraphLesson, str | None]:
    """The lesson for these inputs, run once and kept (its tensors keep their graph), and None; when the expression
    is refused, the last good one and a message that says why."""
    try:
        lesson = _kept(state, frame, row, seed, text, device)
    except ExpressionError as err:
        last = state.get(LAST_GOOD, DEFAULT_EXPRESSION)
        refused = f"Expression not accepted: {literal(err, keep_code=True)}. Still showing `{last}`."
        return _kept(state, frame, row, seed, last, device), refused
    state[LAST_GOOD] = text
    return lesson, None


def _kept(state: State, frame: pd.DataFrame, row: int, seed: int, text: str, device: str) -> GraphLesson:
    key = (id(frame), len(frame), row, seed, text, device)
    if state.get(LESSON, (None,))[0] != key:
        state[LESSON] = (key, run_lesson(frame, row, seed, text, device), {})
    return state[LESSON][1]


def extra(state: State, name: str, make: Callable[[], object]) -> object:
    """Something derived from the kept lesson (gradcheck, torchviz's DOT, …), made on first use and kept with it."""
    extras = state[LESSON][2]
    if name not in extras:
        extras[name] = make()
    return extras[name]


def settle_view(state: State) -> None:
    """Before the view picker: each view's options written back (so a switch back, and the link, find them
    unchanged while their view is hidden), and the forward view when none is picked."""
    for key in KEPT:
        if key in state:
            state[key] = state[key]
    if state.get(VIEW) not in VIEWS:
        state[VIEW] = "fwd"


def node_labels(state: State, lesson: GraphLesson) -> dict[str, str]:
    """The inspector's choices ('' is this step's node) with their labels; a node not in this graph is dropped."""
    nodes = lesson.after.nodes
    if state.get(NODE) not in ["", *nodes]:
        state[NODE] = ""
    return {"": PICK_STEP_NODE, **{n: f"{node.name} ({node.kind}, node {n})" for n, node in nodes.items()}}


def chosen_node(state: State) -> str:
    """The node the inspector shows ('' for this step's)."""
    return state.get(NODE) or ""


def take_click(state: State, key: str) -> None:
    """A node clicked in drawing `key` becomes the inspected node (noted, so that the page runs once more and the
    picker, outside the steps, shows it)."""
    clicked = (state.get(key) or {}).get("clicked")
    if clicked:
        state[NODE] = state[CLICKED] = clicked


def click_taken(state: State) -> bool:
    """A node was just clicked (asked once)."""
    return bool(state.pop(CLICKED, None))
