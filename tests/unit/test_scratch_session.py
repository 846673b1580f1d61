"""The Scratchpad's decisions, made in explorer on a plain dict: the program a link or a return visit brings, what
an edit, an example, a step or a click changes, the buttons, the messages, and the graph with the clicked node."""
from __future__ import annotations

import pytest
import torch

from explorer.data.sources import literal
from explorer.mechanics import scratch_session as session
from explorer.mechanics.scratchpad import EXAMPLES, example_program, latest_run

PROGRAM = "w = torch.ones(3, requires_grad=True)\nloss = (w * 2).sum()\nloss.backward()\n"


def test_a_links_program_goes_into_the_editor_else_the_one_left_there():
    firsts = session.take_program(state := {"code": PROGRAM, "scratch_program": "x = 1"})
    assert state == {"scratch_code": PROGRAM, "scratch_program": "x = 1"}  # the link's, once (?code= is taken)
    first = next(iter(EXAMPLES))
    assert firsts == {"scratch_code": example_program(first), "scratch_example": first, "scratch_pos": 0}
    session.take_program(state := {"scratch_program": PROGRAM})  # back from another page: the editor was dropped
    assert state["scratch_code"] == PROGRAM
    session.take_program(state := {"scratch_code": "y = 2", "scratch_program": PROGRAM})  # the editor's own stays
    assert state["scratch_code"] == "y = 2"
    session.keep_program(state, PROGRAM)
    assert state["scratch_program"] == state["code"] == PROGRAM


def test_an_edit_an_example_and_the_buttons_move_the_step():
    state = {"scratch_pos": 0, "scratch_example": list(EXAMPLES)[1]}
    run, _ = latest_run({}, PROGRAM, 1)
    step, run_all, reset = session.buttons(state, run)
    assert [b["key"] for b in (step, run_all, reset)] == ["scratch_step", "scratch_run_all", "scratch_reset"]
    assert (step["disabled"], run_all["disabled"], reset["disabled"]) == (False, False, False)
    step["on_click"](*step["args"])
    assert state["scratch_pos"] == 2
    run_all["on_click"](*run_all["args"])
    assert state["scratch_pos"] == 3
    state["scratch_node"] = "t_w"
    reset["on_click"](*reset["args"])
    assert state["scratch_pos"] == 0 and "scratch_node" not in state
    done, _ = latest_run({}, PROGRAM, 3)
    assert [b["disabled"] for b in session.buttons(state, done)] == [True, True, False]
    assert [b["disabled"] for b in session.buttons(state, None)] == [True, True, True]  # nothing to run
    state.update(scratch_pos=3, scratch_node="t_w")
    session.load_example(state)
    assert state["scratch_code"] == example_program(list(EXAMPLES)[1]) and state["scratch_pos"] == 0
    assert "scratch_node" not in state


def test_refusals_and_pytorchs_words_are_said_as_written():
    run, _ = latest_run({}, PROGRAM, 1)
    assert session.refusal_note(None, run) == []
    assert session.refusal_note("`import` is not allowed", run) == [
        ("error", "Program not run: `import` is not allowed. Still showing the last good run.")]
    assert session.refusal_note("a *b*", None) == [("error", "Program not run: a \\*b\\*.")]
    broken, _ = latest_run({}, "x = torch.ones(2)\nx.backward()\nprint('*x*')\n", 3)
    assert session.last_messages(broken) == [("code", "*x*")]  # printed text is a code block: kept as printed
    broken, _ = latest_run({}, "x = torch.ones(2)\nx.backward()\n", 2)
    with pytest.raises(RuntimeError) as plain:
        torch.ones(2).backward()
    assert session.last_messages(broken) == [("error", literal(f"RuntimeError: {plain.value}"))]  # no markdown
    assert "\\_fn" in literal(f"RuntimeError: {plain.value}")  # grad_fn shows as typed, not as italics


def test_the_graph_and_the_clicked_node_are_the_plain_torch_ones():
    assert session.graph_view({}, latest_run({}, "x = 1\n", 1)[0].env, 14) == ("", [])  # no tensor, no graph
    run, _ = latest_run({}, PROGRAM, 3)
    w = torch.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    state = {"scratch_graph": {"clicked": "t_w"}}
    session.take_click(state)
    svg, said = session.graph_view(state, run.env, 20)
    assert svg.startswith("<svg") and 'data-node="t_w"' in svg
    details = said[-1][1]
    assert said[-1][0] == "code" and details.startswith("node t_w\nw (3)")
    assert f"grad = {w.grad.numpy()}" in details
    session.take_click(state := {"scratch_graph": {}})  # a click beside the nodes picks none
    assert state["scratch_node"] is None and session.graph_view(state, run.env, 20)[1][-1:] != [("code", "")]
    assert session.picked_node({"scratch_node": "t_gone"}, session.scratch_graph(run.env)) is None
