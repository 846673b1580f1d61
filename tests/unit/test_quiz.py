"""Predict, then reveal: answers checked with the stated tolerance, reasons for known mistakes, the score."""
from __future__ import annotations

import pytest
import torch

from explorer.teaching import questions as q
from explorer.teaching.quiz import AnswerError, Score, check, parse_answer, tolerance_text


def test_grad_question_accepts_within_tolerance_and_explains_accumulation():
    x = torch.tensor([[4291.3701, 4291.3701, 4291.3701, 4291.3701, 0.0]])
    w = torch.randn_like(x, requires_grad=True)
    for _ in range(2):
        (x @ w.T).sum().backward()
    question = q.grad_after_backward("g", w.grad.flatten().tolist(), x.flatten().tolist(), calls=2)
    assert check(question, "8582.74, 8582.74, 8582.74, 8582.74, 0").correct
    assert check(question, "tensor([[8583., 8583., 8583., 8583., 0.]])").correct  # within 0.1%
    assert not check(question, "8600, 8600, 8600, 8600, 0").correct  # 0.2% off
    wrong = check(question, "4291.37, 4291.37, 4291.37, 4291.37, 0")
    assert not wrong.correct and "adds into .grad" in wrong.message and "8582.7" in wrong.message
    assert "0.1%" in tolerance_text(question)


def test_one_number_counts_for_a_tensor_of_equal_values():
    question = q.grad_after_retained_backward("r", -12.0, -6.0)
    assert check(question, "-12").correct
    assert "one call's gradient" in check(question, "-6").message
    assert not check(question, "12").correct
    with pytest.raises(AnswerError, match="type a number"):
        check(question, "minus twelve")


def test_choice_questions_explain_each_wrong_choice():
    none = q.grad_after_set_to_none("z")
    assert check(none, "None").correct
    assert "set_to_none=False" in check(none, "zeros").message
    second = q.second_backward_raises("s")
    assert check(second, "RuntimeError").correct
    assert "WITH retain_graph=True" in check(second, q.SECOND_BACKWARD[1]).message
    with pytest.raises(AnswerError):
        parse_answer(second, "KeyError")


def test_weight_shape_question_knows_the_transposed_mistake():
    layer = torch.nn.Linear(4, 2)
    question = q.linear_weight_shape("w", 4, 2)
    assert question.answer == tuple(layer.weight.shape)
    assert check(question, "[2, 4]").correct and check(question, "torch.Size([2, 4])").correct
    assert "W.T" in check(question, "(4, 2)").message
    assert "2 dimensions" in check(question, "[8]").message
    with pytest.raises(AnswerError, match="whole"):
        check(question, "[2.5, 4]")


def test_index_shape_question_matches_torch():
    t = torch.randn(3, 2, 4, 2)
    question = q.index_shape("i", "t[2, 1]", t.shape, t[2, 1].shape)
    assert check(question, "[4, 2]").correct
    assert "removes" in check(question, "[3, 2, 4, 2]").message


def test_magnitude_within_a_factor_of_ten():
    preds, target = torch.full((100,), 27000.0), torch.full((100,), 27000.0) + torch.linspace(-20000, 20000, 100)
    loss = torch.nn.functional.mse_loss(preds, target).item()
    question = q.raw_price_loss("m", loss)
    assert check(question, f"{loss * 9:.6g}").correct and check(question, f"{loss / 9:.6g}").correct
    assert not check(question, f"{loss * 11:.6g}").correct
    assert "RMSE" in check(question, f"{loss ** 0.5:.6g}").message
    assert "factor of" in check(question, "1").message


def test_score_counts_first_answers_only():
    score = Score()
    score.record("a", True)
    score.record("a", False)
    score.record("b", False)
    assert (score.right, len(score.answers)) == (1, 2) and str(score) == "1 of 2 predictions right first time"


def test_a_wrong_answer_hints_without_the_answer_and_stays_open():
    from explorer.teaching.quiz import Asked
    question = q.grad_after_retained_backward("r", -12.0, -6.0)
    asked = Asked(question)
    assert asked.said() is None and not asked.settled
    assert asked.answer(check(question, "-6"))  # the first answer: the one the score counts
    hint = asked.said()
    assert not asked.settled and "one call's gradient" in hint.message and "-12" not in hint.message
    assert not asked.answer(check(question, "-12")) and asked.settled  # a second try: right, not counted
    assert asked.said().message.startswith("Right: -12")
    shown = Asked(question)
    shown.answer(check(question, "5"))
    shown.gave_up = True  # "Show me the answer"
    assert shown.settled and "PyTorch gives -12" in shown.said().message


def test_a_sessions_answers_and_score():
    from explorer.teaching import quiz
    state, question = {}, q.grad_after_backward("g", (-12.0,), (-6.0,), 2)
    asked = quiz.asked_in(state, question)
    assert quiz.asked_in(state, question) is asked and quiz.score_text(state) is None
    assert quiz.hidden(state, question) == ()  # the mode is off: nothing is left out
    state[quiz.ON_KEY] = True
    assert quiz.hidden(state, question) == ("w.grad",)  # open: w.grad would show the answer
    quiz.record(state, asked, check(question, "-6"))
    quiz.record(state, asked, check(question, "-12"))  # right on the second try: the first answer counts
    assert asked.settled and quiz.hidden(state, question) == ()
    assert quiz.score_text(state) == ":material/psychology: 0 of 1 predictions right first time"
    other = q.grad_after_backward("g", (-10.0,), (-5.0,), 2)  # the same question about other numbers: a new record
    assert quiz.asked_in(state, other) is not asked and not quiz.asked_in(state, other).settled


def graph_lesson_on_a_row():
    """A Graph lesson on a made-up candle row, and PyTorch's own w.grad for its y = x @ w.T + b."""
    import pandas as pd
    from explorer.autograd.lesson import run_lesson
    frame = pd.DataFrame({c: [4266.34 + i, 4269.6 + i] for i, c in enumerate(("open", "high", "low", "close"))}
                         | {"volume": [4.63, 5.0]})
    lesson = run_lesson(frame, 1, 0)
    x = torch.tensor(frame.to_numpy()[1], dtype=torch.float32).reshape(1, -1)
    w, b = torch.randn_like(x, requires_grad=True), torch.randn(1, requires_grad=True)
    (x @ w.T + b).backward()
    return lesson, w.grad


def test_graph_views_leave_out_what_a_question_asks_for():
    from explorer.autograd import views
    from explorer.autograd.inspector import full
    from explorer.autograd.journal import brief, preview
    lesson, grad = graph_lesson_on_a_row()
    assert torch.equal(lesson.w.grad, grad)
    n = len(lesson.trace.steps)
    for k in range(1, n + 1):
        panel = views.step_panel(lesson, "bwd", k, "", ("w.grad",))
        assert brief(grad) not in [n.grad_brief for n in panel.model.nodes.values()]  # the labels' grad lines
        told = [f"{said}{preview(g)}" for said in ("is now ", "∂out = ", "): ") for g in (grad, grad.T)]  # also w.T's
        told += [f"grad: {full(grad)}", f"grad: {full(grad.T)}"]  # the inspector
        assert not [t for t in told if t in panel.side + panel.inspector]  # x, saved by the op, may show: a given
    last = views.step_panel(lesson, "bwd", n, "w_leaf" if "w_leaf" in lesson.after.nodes else "", ("w.grad",))
    assert "w.grad is now ?" in last.side and "grad: ?" in last.inspector
    assert {n.name: n.grad_brief for n in last.model.nodes.values()}["b"] == f"{lesson.b.grad.item():g}"  # not asked
    assert brief(grad) in [n.grad_brief for n in views.step_panel(lesson, "bwd", n, "").model.nodes.values()]
    assert "saved" in views.step_panel(lesson, "bwd", 3, "", ("w.grad",)).side  # x, saved by the op, stays


def test_accumulation_views_show_x_and_leave_out_the_grads_asked_for():
    from explorer.labs.accumulation import AccumulationLab, history_html
    x = torch.tensor([[4266.34, 4269.6, 4265.57, 4268.75, 4.63]])
    lab = AccumulationLab(x, 0)
    lab.forward_backward()
    lab.forward_backward()
    printout = lab.printout(("w.grad",))
    assert f"x      = {x}" in printout and "w.grad = ?" in printout and "b.grad = tensor([2.])" in printout
    drawn = history_html(lab, ["open", "high", "low", "close", "volume"], ("w.grad",))
    assert f"{2 * x[0, 0].item():,.4f}" not in drawn and f"{x[0, 0].item():,.4f}" in drawn  # the last row's as '?'
    assert f"{2 * x[0, 0].item():,.4f}" in history_html(lab, ["open", "high", "low", "close", "volume"])


def test_the_answer_widget_fits_the_question():
    from explorer.teaching.quiz import answer_state
    (choice,) = answer_state(q.which_error("e", "What happens?", "RuntimeError: x", None)).controls("quiz_in_e")
    assert (choice.widget, choice.label, choice.more) == ("radio", "your prediction", {"index": None})
    (typed,) = answer_state(q.linear_weight_shape("w", 4, 2)).controls("quiz_in_w")
    assert (typed.widget, typed.args, typed.more) == ("text_input", (), {"max_chars": 200})


def test_an_unreadable_answer_is_named_and_not_recorded():
    from explorer.teaching import quiz
    state, question = {}, q.linear_weight_shape("w", 4, 2)
    asked = quiz.asked_in(state, question)
    assert quiz.answer(state, asked, "no idea") == "Not an answer yet: type a shape such as [3, 4]."
    assert not asked.verdicts and quiz.SCORE_KEY not in state
    assert quiz.answer(state, asked, "[2, 4]") is None and asked.settled and state[quiz.SCORE_KEY].right == 1
