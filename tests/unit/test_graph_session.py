"""The Graph page's decisions, made in explorer on a plain dict: the lesson kept (and the last good one when an
expression is refused), its extras made once, the hidden views' options kept, the inspector's choices, a click in the
drawing, the steppers' buttons, the MLP options and graph, and what each step shows."""
from __future__ import annotations

import pytest
import torch

from explorer.autograd import controls, session, steps, views
from explorer.autograd.large_graph import lagged_batch, make_mlp, mlp_loss
from explorer.autograd.lesson import make_leaves
from explorer.teaching.shareable import decode, encode
from tests.unit.test_graph_gradcheck import frame  # noqa: F401  (candles priced around 4,000, like the sample)


def test_the_lesson_is_kept_and_a_refused_expression_shows_the_last_good_one(frame):
    state: dict = {}
    lesson, refused = session.kept_lesson(state, frame, 100, 0, "relu(x / 1000 @ w.T + b)", "cpu")
    assert refused is None and session.kept_lesson(state, frame, 100, 0, lesson.expression.text, "cpu")[0] is lesson
    x, w, b = make_leaves(frame, 100, 0)
    y = torch.relu(x / 1000 @ w.T + b)
    y.backward()
    assert torch.equal(lesson.y, y) and torch.equal(lesson.w.grad, w.grad) and torch.equal(lesson.b.grad, b.grad)
    again, refused = session.kept_lesson(state, frame, 100, 0, "__import__('os')", "cpu")
    assert again is lesson and refused.startswith("Expression not accepted: ")
    assert refused.endswith("Still showing `relu(x / 1000 @ w.T + b)`.")
    made = []
    assert session.extra(state, "n", lambda: made.append(1) or len(made)) == 1
    assert session.extra(state, "n", lambda: made.append(1) or len(made)) == 1 and made == [1]  # made once
    other, _ = session.kept_lesson(state, frame, 101, 0, "x @ w.T + b", "cpu")  # new inputs: a new lesson, no extras
    assert other is not lesson and state[session.LESSON][2] == {}


def test_hidden_views_keep_their_options_and_a_bad_view_is_forward():
    state = {"graph_mlp_layers": 7, "graph_view": "sideways", "graph_row": 3}
    session.settle_view(state)
    assert state == {"graph_mlp_layers": 7, "graph_view": "fwd", "graph_row": 3}
    state["graph_view"] = "mlp"
    session.settle_view(state)
    assert state["graph_view"] == "mlp"


def test_inspector_choices_and_a_click_in_the_drawing(frame):
    state: dict = {"graph_node": "no-such-node"}
    lesson, _ = session.kept_lesson(state, frame, 100, 0, "x @ w.T + b", "cpu")
    labels = session.node_labels(state, lesson)
    assert state["graph_node"] == "" and labels[""] == session.PICK_STEP_NODE
    assert list(labels)[1:] == list(lesson.after.nodes)
    node_id, node = next(iter(lesson.after.nodes.items()))
    assert labels[node_id] == f"{node.name} ({node.kind}, node {node_id})"
    session.take_click(state, "graph_plot_fwd")  # nothing clicked yet
    assert not session.click_taken(state) and session.chosen_node(state) == ""
    state["graph_plot_fwd"] = {"clicked": node_id}
    session.take_click(state, "graph_plot_fwd")
    assert session.chosen_node(state) == node_id and session.click_taken(state) and not session.click_taken(state)


def test_stepper_buttons_say_what_a_click_does():
    state: dict = {}
    steps.settle(state, "bwd", 4, default=0)
    prev, nxt, play = steps.buttons(state, "bwd", 4)
    assert (prev["key"], prev["disabled"], prev["shortcut"]) == ("graph_bwd_prev", True, "Left")
    assert (nxt["key"], nxt["disabled"], nxt["help"]) == ("graph_bwd_next", False,
                                                          "One backward step further (keyboard: Right).")
    assert (play["label"], play["shortcut"], "disabled" in play) == ("Play", "P", False)
    play["on_click"](*play["args"])
    assert steps.buttons(state, "bwd", 4)[2]["label"] == "Pause"
    nxt["on_click"](*nxt["args"])  # a move stops playing
    assert state["graph_bwd_pos"] == 1 and steps.buttons(state, "bwd", 4)[2]["label"] == "Play"
    slider = steps.slider(state, "fwd", 0)
    assert (slider["label"], slider["max_value"], slider["disabled"]) == ("ops run so far", 1, True)


def test_the_link_carries_each_widget_as_its_widget_takes_it():
    graph = controls.graph_state(500)
    values, problems = decode({"graph_row": "499", "graph_mlp_hidden": "16", "graph_mlp_cap": "150",
                               "graph_view": "check", "graph_expr": "x" * 300}, graph.spec)
    assert problems == [] and values["graph_mlp_hidden"] == 16  # a width is a number, as the select_slider has it
    assert encode({"graph_mlp_hidden": 16, "graph_expr": "x" * 301}, graph.spec) == {"graph_mlp_hidden": "16"}
    for params in ({"graph_row": "500"}, {"graph_mlp_hidden": "5"}, {"graph_mlp_cap": "155"},
                   {"graph_view": "sideways"}, {"graph_node": "n" * 21}):
        assert decode(params, graph.spec)[0] == {}
    assert controls.first_values(graph) == {"graph_row": 100, "graph_seed": 0, "graph_expr": "x @ w.T + b"}
    assert controls.first_values(controls.graph_state(50), mlp=True) == {  # the large graph's, given when it shows
        "graph_mlp_layers": 2, "graph_mlp_hidden": 16, "graph_mlp_cap": 150, "graph_mlp_collapse": True}


def test_mlp_options_and_graph_are_the_plain_mlps(frame):
    values = {**controls.first_values(controls.graph_state(len(frame)), mlp=True), "graph_mlp_backward": True, "graph_mlp_hide_acc": False,
              "graph_mlp_hide_views": False, "graph_mlp_cap": 20, "graph_mlp_layers": 3}
    options = controls.mlp_options(values)
    assert (options.layers, options.hidden, options.max_nodes, options.collapse, options.after_backward) == (
        3, 16, 20, True, True)
    loss, params, modules = views.mlp_run(frame, options, "cpu")
    inputs, target = lagged_batch(frame, rows=32)
    model = make_mlp(inputs.shape[1], 16, 3, 0)
    plain = mlp_loss(model, inputs, target)
    plain.backward()
    assert torch.equal(loss, plain) and torch.equal(params["0.weight"].grad, model[0].weight.grad)
    assert modules == {n: f"{n}: {type(m).__name__}" for n, m in model.named_children()}
    picker = controls.expand_picker(modules, collapse=False)
    assert picker["disabled"] and picker["format_func"]("0") == "0: Linear"
    said, dot = views.mlp_graph(loss, params, controls.mlp_options({**values, "graph_mlp_collapse": False}), [])
    assert said[-1][0] == "caption" and said[-1][1].endswith(f"loss = {plain.item():.4f}")
    assert ("warning", next(n for level, n in said if "only the 20" in n)) in said and dot.startswith("digraph")


@pytest.mark.parametrize("name", ["fwd", "bwd"])
def test_each_step_shows_its_graph_table_and_inspector(frame, name):
    lesson, _ = session.kept_lesson({}, frame, 100, 0, "x @ w.T + b", "cpu")
    first = views.step_panel(lesson, name, 0, "")
    assert first.side == views.BEFORE[name] and first.side_key is None
    last = len(lesson.journal.entries) if name == "fwd" else len(lesson.trace.steps)
    panel = views.step_panel(lesson, name, last, "")
    model, active = (views.forward_view if name == "fwd" else views.backward_view)(lesson, last)
    assert panel.active == active and panel.model.nodes.keys() == model.nodes.keys()
    assert panel.side_key == views.SIDE_KEYS[name] and panel.side == (
        views.journal_html if name == "fwd" else views.steps_html)(lesson, last)
    assert panel.inspector == views.inspector_html(lesson, model, "", active, None if name == "fwd" else last)
