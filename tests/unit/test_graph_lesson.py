"""The Graph lesson is plain PyTorch, and the app's instruments watch it from outside without changing a number:
the lesson run bare equals the lesson run watched, bit for bit; the journal sees backward() without the lesson
passing anything; the steppers' state moves as the buttons say."""
from __future__ import annotations

import inspect
import textwrap

import pytest
import torch

from explorer.autograd import steps
from explorer.autograd.expr import noting_sources, parse_expression
from explorer.autograd.journal import OpJournal
from explorer.autograd.large_graph import lagged_batch, make_mlp, mlp_loss
from explorer.autograd.lesson import (EXAMPLES, gradcheck_lesson, gradient_printout, graph_lesson, make_leaves,
                                      run_lesson, seed_forward, seed_printout)
from tests.app.test_code_blocks import problems
from tests.unit.test_graph_gradcheck import frame  # noqa: F401  (candles priced around 4,000, like the sample)

LESSONS = (make_leaves, seed_forward, graph_lesson, seed_printout, gradient_printout, gradcheck_lesson, lagged_batch,
           make_mlp, mlp_loss)


@pytest.mark.parametrize("fn", LESSONS, ids=lambda fn: fn.__name__)
def test_each_lesson_function_is_a_short_plain_lesson(fn):
    source = textwrap.dedent(inspect.getsource(fn))
    assert problems(source) == [] and 3 <= source.count("\n") <= 25


def test_the_seed_lesson_in_plain_torch(frame):
    x = torch.tensor(frame.to_numpy()[100], dtype=torch.float32).reshape(1, -1)
    torch.manual_seed(0)
    w = torch.randn_like(x, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    y = graph_lesson(x, w, b)
    assert torch.equal(y, x @ w.T + b) and torch.equal(w.grad, x) and torch.equal(b.grad, torch.ones(1))


@pytest.mark.parametrize("text", EXAMPLES)
def test_watching_the_lesson_changes_no_number(frame, text):
    watched = run_lesson(frame, 100, 0, text)
    x, w, b = make_leaves(frame, 100, 0)
    y = graph_lesson(x, w, b, parse_expression(text))  # the same lesson, nothing around it
    for ours, bare in ((watched.y, y), (watched.w.grad, w.grad), (watched.b.grad, b.grad)):
        assert torch.equal(ours, bare) or (ours.isnan().any() and torch.equal(ours.isnan(), bare.isnan()))
    assert seed_printout(*watched.tensors()) == seed_printout(x, w, b, y)
    assert [e.output_name for e in watched.journal.entries][-1] == "y"


def test_the_journal_sees_backward_from_outside():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    seen = []

    def at_backward(y, run_backward):
        seen.append((y, len(journal.entries)))
        (y * 3).sum()  # what the instrument does is not recorded
        run_backward()

    def lesson(w):
        y = (w * w).sum()
        y.backward()
        return y

    with OpJournal({"w": w}, on_backward=at_backward) as journal:
        y = lesson(w)
    assert [(e.op, e.output_name) for e in journal.entries] == [("Tensor.mul", "t1"), ("Tensor.sum", "t2")]
    assert seen == [(y, 2)] and torch.equal(w.grad, 2 * w.detach())


def test_expressions_name_their_parts_only_when_asked():
    x, w = torch.ones(1, 2), torch.ones(1, 2, requires_grad=True)
    expression = parse_expression("(x * w).sum()")
    with noting_sources({}) as sources:
        y = expression(x, w, w)
    assert sources[id(y)] == "(x * w).sum()" and "x * w" in sources.values()
    with noting_sources({}) as later:
        pass
    expression(x, w, w)  # outside: nothing noted
    assert later == {}


def test_gradcheck_lesson_is_torch_gradcheck(frame):
    x, w, b = make_leaves(frame, 100, 0)
    assert gradcheck_lesson(seed_forward, x, w, b) is True
    assert gradcheck_lesson(lambda x, w, b: (x @ w.T + b).detach().requires_grad_(), x, w, b) is False


def test_steppers_move_play_and_stop_at_the_ends():
    state: dict = {}
    assert steps.settle(state, "fwd", 3, default=3) == 3 and state["graph_fwd_slider"] == 3
    steps.move(state, "fwd", 1, 3)
    assert state["graph_fwd_pos"] == 3  # not past the last
    steps.toggle_play(state, "fwd", 3)  # at the end: play starts over
    assert state["graph_fwd_pos"] == 0 and state["graph_fwd_playing"] is True
    assert [steps.advance(state, "fwd", 3) for _ in range(4)] == [True, True, True, False]
    assert steps.settle(state, "fwd", 3, default=0) == 3 and state["graph_fwd_playing"] is False
    state["graph_fwd_slider"] = 1
    steps.slid(state, "fwd")
    assert state["graph_fwd_pos"] == 1
    steps.start_over(state, ("row", 1))
    steps.start_over(state, ("row", 2))  # a new lesson: both steppers start over
    assert "graph_fwd_pos" not in state
    state["graph_bwd_pos"] = 40
    said = steps.refuse_past_end(state, {"fwd": 3, "bwd": 5})
    assert state["graph_bwd_pos"] == 5 and len(said) == 1 and "past the last backward step" in said[0]
