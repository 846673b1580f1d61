"""The Graph page's two steppers (ops of the forward journal, backward steps) as plain state in a mapping: the
page passes its session state, a test a dict. Positions run 0..last; 0 is before the first."""
from __future__ import annotations

from typing import MutableMapping

STEPPERS = {"fwd": "op of the forward journal", "bwd": "backward step"}
SLIDER_LABELS = {"fwd": "ops run so far", "bwd": "backward steps run"}
KEYS = ("Left", "Right", "P")  # keyboard shortcuts: previous, next, play
MAX_POSITION = 1000  # more ops than any whitelisted expression can make
State = MutableMapping[str, object]


def pos_key(name: str) -> str:
    return f"graph_{name}_pos"


def playing_key(name: str) -> str:
    return f"graph_{name}_playing"


def move(state: State, name: str, delta: int, last: int) -> None:
    """One step back or on (within 0..last); a move stops playing."""
    state[pos_key(name)] = max(0, min(last, state[pos_key(name)] + delta))
    state[playing_key(name)] = False


def toggle_play(state: State, name: str, last: int) -> None:
    """Play or pause; play starts over from 0 when already at the end."""
    state[playing_key(name)] = not state.get(playing_key(name), False)
    if state[playing_key(name)] and state[pos_key(name)] >= last:
        state[pos_key(name)] = 0


def slid(state: State, name: str) -> None:
    """The slider moved: it sets the position and stops playing."""
    state[pos_key(name)] = state[f"graph_{name}_slider"]
    state[playing_key(name)] = False


def settle(state: State, name: str, last: int, default: int) -> int:
    """Before drawing a stepper: its position within 0..last, playing stopped at the end, the slider on it."""
    state[pos_key(name)] = max(0, min(last, state.get(pos_key(name), default)))
    if state.get(playing_key(name)) and state[pos_key(name)] >= last:
        state[playing_key(name)] = False
    state[f"graph_{name}_slider"] = state[pos_key(name)]
    return state[pos_key(name)]


def advance(state: State, name: str, last: int) -> bool:
    """While playing and not at the end: one step on. True when it moved (the panel then runs again)."""
    if state.get(playing_key(name)) and state[pos_key(name)] < last:
        state[pos_key(name)] += 1
        return True
    return False


def buttons(state: State, name: str, last: int, keys: tuple[str, str, str] = KEYS) -> list[dict]:
    """Previous, next and play (or pause) of stepper `name` after settle(): each button's keyword arguments."""
    at, playing, what = state[pos_key(name)], bool(state.get(playing_key(name))), STEPPERS[name]
    return [dict(label="Previous", key=f"graph_{name}_prev", icon=":material/skip_previous:", on_click=move,
                 args=(state, name, -1, last), disabled=at == 0, shortcut=keys[0],
                 help=f"One {what} back (keyboard: {keys[0]})."),
            dict(label="Next", key=f"graph_{name}_next", icon=":material/skip_next:", on_click=move,
                 args=(state, name, 1, last), disabled=at >= last, shortcut=keys[1],
                 help=f"One {what} further (keyboard: {keys[1]})."),
            dict(label="Pause" if playing else "Play", key=f"graph_{name}_play", on_click=toggle_play,
                 args=(state, name, last), icon=":material/pause:" if playing else ":material/play_arrow:",
                 shortcut=keys[2], help=f"Step through every {what} on its own (keyboard: {keys[2]}).")]


def slider(state: State, name: str, last: int) -> dict:
    """The slider over steps 0..last of stepper `name`: its keyword arguments."""
    return dict(label=SLIDER_LABELS[name], min_value=0, max_value=max(last, 1), key=f"graph_{name}_slider",
                on_change=slid, args=(state, name), disabled=last == 0,
                help=f"Jump to any {STEPPERS[name]}; 0 is before the first.")


def start_over(state: State, signature: tuple) -> None:
    """A new row, seed or expression is a new lesson: the steppers start over (not on the first show: a link's
    positions belong to the lesson it describes)."""
    if "graph_sig" in state and state["graph_sig"] != signature:
        for name in STEPPERS:
            state.pop(pos_key(name), None)
            state.pop(playing_key(name), None)
    state["graph_sig"] = signature


def refuse_past_end(state: State, lasts: dict[str, int]) -> list[str]:
    """A link's step position beyond this lesson's last step: put it on the last step, and say so."""
    said = []
    for name, last in lasts.items():
        at = state.get(pos_key(name))
        if at is not None and at > last:
            said.append(f"Link parameter `{pos_key(name)}` = {at} is past the last {STEPPERS[name]} of this "
                        f"expression ({last}): showing step {last}.")
            state[pos_key(name)] = last
    return said
