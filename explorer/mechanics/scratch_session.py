"""What the Scratchpad keeps for one learner between reruns, in the session's state (a mapping the page passes in,
a test a dict): the program in the editor, the statements run so far, the node clicked in the drawing; and what its
buttons, messages and link make of them."""
from __future__ import annotations

from collections.abc import MutableMapping

from explorer.autograd.graph_model import GraphModel
from explorer.autograd.graph_plot import graph_svg
from explorer.data.sources import literal
from explorer.mechanics.scratch_view import node_details, scratch_graph
from explorer.mechanics.scratchpad import EXAMPLES, LINK, ScratchRun, example_program

State = MutableMapping[str, object]
CODE, EXAMPLE, POS = "scratch_code", "scratch_example", "scratch_pos"  # the editor, the example picker, the step
NODE, DRAWING = "scratch_node", "scratch_graph"  # the node clicked; the drawing's own state (what was clicked)
PROGRAM = "scratch_program"  # the program, kept for a return visit (Streamlit drops a widget another page left out)
LINK_CODE = LINK[0].key  # the program as a link carries it (?code=)
FIRST = next(iter(EXAMPLES))
CODE_HELP = "torch and F are imported; one statement is one step."
EXAMPLE_HELP = ("Replaces the program with an example: micrograd's two tests written in PyTorch, and two autograd "
                "errors.")


def take_program(state: State) -> dict[str, object]:
    """Before the editor: the program a link carried goes into it, else the one left there before another page; the
    widgets' first values (the first example's program, at its start)."""
    if LINK_CODE in state:
        state[CODE] = state.pop(LINK_CODE)
    elif CODE not in state and PROGRAM in state:
        state[CODE] = state[PROGRAM]
    return {CODE: example_program(FIRST), EXAMPLE: FIRST, POS: 0}


def start_over(state: State) -> None:
    """An edited program (or Reset) starts again: nothing has run, no node is picked."""
    state[POS] = 0
    state.pop(NODE, None)


def load_example(state: State) -> None:
    """The example picked replaces the program, which starts again."""
    state[CODE] = example_program(state[EXAMPLE])
    start_over(state)


def move_to(state: State, position: int) -> None:
    state[POS] = position


def take_click(state: State) -> None:
    """A node clicked in the drawing is the one whose details show (None: a click beside the nodes)."""
    state[NODE] = (state.get(DRAWING) or {}).get("clicked")


def picked_node(state: State, model: GraphModel) -> str | None:
    """The clicked node, while the graph still has it."""
    return state.get(NODE) if state.get(NODE) in model.nodes else None


def graph_view(state: State, env: dict[str, object], font_px: float) -> tuple[str, list[tuple[str, str]]]:
    """The graph of every tensor as SVG (labels of `font_px`, the clicked node outlined), and what is said below it:
    the graph's notes, then all that the clicked node knows; ('', []) while no tensor has a graph."""
    model = scratch_graph(env)
    if not model.nodes:
        return "", []
    picked = picked_node(state, model)
    said = [("caption", note) for note in model.notes]
    if picked:
        said.append(("code", f"node {picked}\n" + node_details(model, picked)))
    return graph_svg(model, font_px, selected=picked), said


def buttons(state: State, run: ScratchRun | None) -> list[dict]:
    """Step, Run all and Reset: each button's keyword arguments."""
    done, total = (run.done, run.total) if run else (0, 0)
    return [dict(label="Step", key="scratch_step", icon=":material/skip_next:", on_click=move_to,
                 args=(state, min(done + 1, total)), disabled=done >= total, help="Run the next statement."),
            dict(label="Run all", key="scratch_run_all", icon=":material/fast_forward:", on_click=move_to,
                 args=(state, total), disabled=done >= total, help="Run every statement that is left."),
            dict(label="Reset", key="scratch_reset", icon=":material/restart_alt:", on_click=start_over,
                 args=(state,), disabled=done == 0, help="Start again: nothing has run, no tensor exists.")]


def refusal_note(refusal: str | None, run: ScratchRun | None) -> list[tuple[str, str]]:
    """('error', why the program did not run, quoted as typed, and that the last good run, if any, stays on screen);
    nothing when it ran."""
    if not refusal:
        return []
    kept = ". Still showing the last good run." if run else "."
    return [("error", f"Program not run: {literal(refusal, keep_code=True)}{kept}")]


def last_messages(run: ScratchRun) -> list[tuple[str, str]]:
    """What the last statement run said: PyTorch's error and warnings in its own words (no markdown), then what it
    printed, as ('code', …)."""
    return [(how, text if how == "code" else literal(text)) for how, text in run.outcomes[-1].messages()]


def keep_program(state: State, code: str) -> None:
    """After the run: the program kept for a return visit, and put where the link takes it from (?code=)."""
    state[PROGRAM] = state[LINK_CODE] = code
