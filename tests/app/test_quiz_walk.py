"""Every question the app can ask, walked with ?quiz=1: while it is open nothing on the page shows its answer (not
the text, a node label, the inspector, a table, a chart, a printout); a wrong answer says why and asks again; a
right one reveals what was held back; the score counts first answers, also in presenter mode."""
from __future__ import annotations

import html
import inspect
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer.autograd.journal import brief, preview
from explorer.teaching import questions
from explorer.teaching.quiz import Question, show
from tests.app.apptest import APP, click
from tests.app.test_retain_graph_page import torch_second_backward_error

PAGES = Path(__file__).resolve().parents[2] / "pages"


# --- what PyTorch itself says when each choice question's answer happens (the page shows it once answered) -------

def no_grad_error() -> str:
    x, w = torch.ones(4), torch.ones(4, requires_grad=True)
    with torch.no_grad():
        loss = (x * w).sum()
    try:
        loss.backward()
    except RuntimeError as exc:
        return str(exc).split(" and ")[0]  # "element 0 of tensors does not require grad"
    raise AssertionError("torch did not raise")


def non_leaf_warning() -> str:
    w = torch.ones(4, requires_grad=True)
    h = torch.ones(4) * w
    h.sum().backward()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert h.grad is None
    return str(seen[0].message).split(" is being accessed")[0][-40:]  # "...that is not a leaf Tensor"


def second_grad_error() -> str:
    x = torch.tensor(0.5, requires_grad=True)
    dy_dx = torch.autograd.grad(torch.tanh(x), x)[0]
    try:
        torch.autograd.grad(dy_dx, x)
    except RuntimeError as exc:
        return str(exc).split(" and ")[0]
    raise AssertionError("torch did not raise")


# --- how to reach each question, and what would give its answer away --------------------------------------------

@dataclass
class Case:
    """One question as a learner meets it: the page, the clicks that lead to it, the values it may show because the
    learner reasons from them (`givens`), and texts that would tell the answer (`tells`)."""
    key: str
    factory: str  # the explorer.teaching.questions function that makes it
    page: str
    reach: Callable[[AppTest], None] = lambda at: None
    givens: Callable[[AppTest], list[float]] = lambda at: []
    tells: Callable[[AppTest, Question], list[str]] = lambda at, q: []


def steps_to_end(at: AppTest) -> None:
    at.radio(key="graph_view").set_value("bwd").run()
    for _ in range(30):  # until the last backward step asks
        if any("Predict first" in m.value for m in at.markdown):
            return
        click(at, "graph_bwd_next")
    raise AssertionError("the last backward step did not ask")


def times_three(at: AppTest) -> None:
    at.text_input(key="graph_expr").set_value("(x @ w.T + b) * 3").run()
    steps_to_end(at)


def graph_x(at: AppTest) -> list[float]:
    """The Graph lesson's x: w.grad of y = x @ w.T + b is made of it, and the learner reasons from it."""
    from explorer.autograd.session import LESSON
    return at.session_state[LESSON][1].x.flatten().tolist()


def graph_tells(at: AppTest, q: Question) -> list[str]:
    grad = torch.tensor(q.answer).reshape(1, -1)
    return [f"w.grad is now {preview(grad)}", f"grad {brief(grad)}", "w.grad = tensor", "w.grad == x"]


def acc_x(at: AppTest) -> list[float]:
    return at.session_state["acc_lab"].x.flatten().tolist()


def acc_tells(at: AppTest, q: Question) -> list[str]:
    if q.kind == "choice":
        return ["w.grad = None", "b.grad = None"]
    return [f"w.grad = {torch.tensor([q.answer])}"]


CASES = [
    Case("graph_w_grad", "graph_w_grad", "graph.py", steps_to_end, graph_x, graph_tells),
    Case("graph_w_grad", "graph_w_grad", "graph.py", times_three, graph_x, graph_tells),
    Case("acc_backward_1", "grad_after_backward", "accumulation.py", lambda at: click(at, "acc_step"), acc_x,
         acc_tells),
    Case("acc_backward_2", "grad_after_backward", "accumulation.py",
         lambda at: (click(at, "acc_step"), click(at, "acc_step")), acc_x, acc_tells),
    Case("acc_set_to_none", "grad_after_set_to_none", "accumulation.py",
         lambda at: (click(at, "acc_step"), click(at, "acc_zero_none")), acc_x, acc_tells),
    Case("retain_second_backward", "second_backward_raises", "retain_graph.py",
         lambda at: (click(at, "retain_backward"), click(at, "retain_backward")),
         tells=lambda at, q: [torch_second_backward_error()[:60]]),
    Case("retain_retained_grad", "grad_after_retained_backward", "retain_graph.py",
         lambda at: (at.toggle(key="retain_retain").set_value(True).run(), click(at, "retain_backward"),
                     click(at, "retain_backward")),
         tells=lambda at, q: [f"pnl.grad = tensor([{q.answer[0]:.0f}.])"]),
    Case("modules_weight_shape", "linear_weight_shape", "modules.py",
         tells=lambda at, q: [f"torch.Size({list(q.answer)})"]),
    Case("modules_index_", "index_shape", "modules.py",
         tells=lambda at, q: [f".shape\ntorch.Size({list(q.answer)})"]),
    Case("modules_raw_loss", "raw_price_loss", "modules.py"),
    Case("errors_inplace_version", "saved_version", "errors.py",
         lambda at: at.radio(key="errors_view").set_value("inplace").run(),
         tells=lambda at, q: [f"is at version {q.answer[0]:.0f}"]),
    Case("errors_no_grad_error", "which_error", "errors.py",
         lambda at: at.radio(key="errors_view").set_value("no_grad").run(), tells=lambda at, q: [no_grad_error()]),
    Case("errors_non_leaf_grad", "none_or_tensor", "errors.py",
         lambda at: at.radio(key="errors_view").set_value("non_leaf").run(),
         tells=lambda at, q: [non_leaf_warning()]),
    Case("tools_hooked_w_grad", "hooked_w_grad", "autograd_tools.py",
         givens=lambda at: [at.session_state["quiz_answers"]["tools_hooked_w_grad"].question.answer[0] / 2],
         tells=lambda at, q: [f"w.grad = {q.answer[0]:.6f}"]),
    Case("tools_second_grad", "second_grad_without_create_graph", "autograd_tools.py",
         lambda at: at.radio(key="tools_view").set_value("higher").run(), tells=lambda at, q: [second_grad_error()]),
    Case("flow_smallest_layer", "smallest_layer_gradient", "gradient_flow.py",
         tells=lambda at, q: [flow_sentence(at)]),
    Case("train_raw_loss", "untrained_raw_loss", "training.py",
         lambda at: (at.selectbox(key="train_norm").select("none").run(), click(at, "train_reset"))),
]


def flow_sentence(at: AppTest) -> str:
    from explorer.mechanics import flow
    return flow.sentences(at.session_state["flow_run"])[:80]


# Questions made by a function that others call (index_question → index_shape, accumulation_question → the two
# accumulation questions, retain_question → the two retain questions, untrained_raw_loss → raw_price_loss).
WRAPPERS = {"index_question": "index_shape", "accumulation_question": "grad_after_backward",
            "retain_question": "second_backward_raises", "untrained_raw_loss": "raw_price_loss"}


def test_the_walk_covers_every_question_and_every_page_that_asks():
    made = {name for name, fn in inspect.getmembers(questions, inspect.isfunction)
            if fn.__module__ == questions.__name__ and "Question" in str(inspect.signature(fn).return_annotation)}
    walked = {case.factory for case in CASES} | set(WRAPPERS)
    assert made <= walked, f"questions no walk asks: {sorted(made - walked)}"
    asking = {p.name for p in PAGES.glob("*.py") if re.search(r"\bquiz_(ask|gate)\(", p.read_text())
              and not p.name.startswith("_quiz")}
    assert asking <= {case.page for case in CASES}, f"pages no walk opens: {sorted(asking - {c.page for c in CASES})}"


# --- the page as text --------------------------------------------------------------------------------------------

def strings(value) -> list[str]:
    """Every string inside a component's data (JSON)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def page_text(at: AppTest, verdicts: bool = True) -> str:
    """Everything the page shows as text: markdown, captions, code, alerts, metrics, tables, st.html and every
    component's data (light_html blocks, the graph's SVG) with tags dropped and entities read."""
    parts = []
    for kind in ("markdown", "caption", "code", "info", "warning", "error", "success", "text", "latex"):
        parts += [str(e.value) for e in at.get(kind)
                  if verdicts or not str(e.value).startswith(("Right:", "Not quite", "The answer"))]
    parts += [f"{m.label} {m.value} {m.proto.delta}" for m in at.get("metric")]
    parts += [e.value.to_string() for e in at.get("dataframe")] + [e.value.to_string() for e in at.get("table")]
    parts += [e.proto.body for e in at.get("html")]
    for component in at.get("bidi_component"):
        parts += strings(json.loads(component.proto.json)) if component.proto.json else []
    text = "\n".join(parts)
    return html.unescape(re.sub(r"<[^>]+>", " ", text)) + "\n" + html.unescape(text)


def number_forms(value: float) -> set[str]:
    """A number as the pages print it: torch/numpy's 4 decimals, the inspector's 6, tables' thousands commas, the
    quiz's own %g, a loss in e-notation or whole."""
    forms = {f"{value:.4f}", f"{value:,.4f}", f"{value:.6f}", f"{value:.6g}", f"{value:,.0f}" if abs(value) >= 1e4
             else f"{value:.4f}", f"{value:.3e}", f"{value:.4g}"}
    return {f for f in forms if len(f.strip("-").replace(".", "").replace(",", "").lstrip("0")) >= 4}


def leaks(at: AppTest, case: Case, q: Question, verdicts: bool = True) -> list[str]:
    """The texts on the page that give the open question's answer away."""
    text = page_text(at, verdicts)
    tells = [t for t in case.tells(at, q) if t]
    if q.kind in ("numbers", "magnitude"):
        values = q.answer if q.kind == "numbers" else (q.answer,)
        given = {f for g in case.givens(at) for f in number_forms(g)}
        tells += [f for v in values for f in number_forms(v) - given]
        if not set(values) & set(case.givens(at)) and len(show(q, q.answer)) >= 4:  # "1" is on every page
            tells.append(show(q, q.answer))
    return [t for t in tells if t in text]


def open_question(at: AppTest, case: Case) -> Question:
    answers = at.session_state["quiz_answers"] if "quiz_answers" in at.session_state else {}
    keys = [k for k in answers if k.startswith(case.key)]
    assert keys, f"{case.key} was not asked"
    return answers[keys[-1]].question


def wrong_answer(q: Question) -> str:
    if q.kind == "choice":
        return next(c for c in q.choices if c != q.answer)
    if q.kind == "shape":
        return str([size + 1 for size in q.answer])
    if q.kind == "magnitude":
        return f"{q.answer * 1e4:g}"
    return ", ".join(f"{v * 3 + 7:g}" for v in q.answer)


def predict(at: AppTest, q: Question, text: str) -> AppTest:
    (at.radio if q.kind == "choice" else at.text_input)(key=f"quiz_in_{q.key}").set_value(text)
    return click(at, f"quiz_check_{q.key}")


def quiz_page(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({"quiz": "1", **query})
    at.run()
    at.switch_page(f"pages/{page}").run()
    assert not at.exception
    return at


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.page}-{c.key}")
def test_while_a_question_is_open_nothing_shows_its_answer(case: Case):
    at = quiz_page(case.page)
    case.reach(at)
    assert not at.exception
    q = open_question(at, case)
    assert not leaks(at, case, q), f"{q.key} shows its answer while asked"

    predict(at, q, wrong_answer(q))
    said = "\n".join(w.value for w in at.warning)
    assert "Not quite" in said and "PyTorch gives" not in said  # why it is wrong, not the answer
    assert len(show(q, q.answer)) < 4 or show(q, q.answer) not in said
    assert at.button(key=f"quiz_check_{q.key}").label == "Try again"
    assert not leaks(at, case, q), f"{q.key} shows its answer after a wrong try"

    predict(at, q, show(q, q.answer))
    assert any(s.value.startswith(f"Right: {show(q, q.answer)}") for s in at.success)
    shown = page_text(at, verdicts=False)
    assert not case.tells(at, q) or any(t in shown for t in case.tells(at, q) if t)  # revealed below the question
    assert str(at.session_state["quiz_score"]) == "0 of 1 predictions right first time"


# --- each defect of the walk (issue 25), against PyTorch's own numbers ----------------------------------------

def torch_graph_w_grad() -> torch.Tensor:
    from tests.app.test_quiz_pages import graph_w_grad_by_torch
    return graph_w_grad_by_torch()


def graph_question() -> Question:
    """The Graph page's question on its default lesson, with PyTorch's w.grad as the answer."""
    return questions.graph_w_grad(torch_graph_w_grad().flatten().tolist(), "x @ w.T + b")


def graph_at_step(k: int | None = None) -> AppTest:
    at = quiz_page("graph.py")
    at.radio(key="graph_view").set_value("bwd").run()
    for _ in range(5 if k is None else k):
        click(at, "graph_bwd_next")
    return at


def w_grad_forms(grad: torch.Tensor) -> list[str]:
    """w.grad as the Graph page prints it: the chain rule's preview, a node label's brief, the inspector's digits."""
    return [f"w.grad is now {preview(grad)}", f"→ w (AccumulateGrad): {preview(grad)}", f"grad {brief(grad)}",
            f"{grad[0, 0].item():.6f}"]


def test_graph_last_step_hides_w_grad_in_the_text_the_node_labels_and_the_inspector():
    at = graph_at_step()
    grad = torch_graph_w_grad()
    assert any("Predict first" in m.value for m in at.markdown)
    shown = [form for form in w_grad_forms(grad) if form in page_text(at)]
    assert not shown, f"w.grad shows while asked: {shown}"
    assert "w.grad is now ?" in page_text(at) and "grad: ?" in page_text(at)  # left out, and said so
    predict(at, graph_question(), ", ".join(f"{v:.4f}" for v in grad.flatten().tolist()))
    assert all(form in page_text(at) for form in w_grad_forms(grad)[:1] + w_grad_forms(grad)[3:])  # revealed


def test_graph_hides_w_grad_at_the_steps_before_it_is_asked():
    at = graph_at_step(4)  # PermuteBackward0 sends w.grad's numbers to w's AccumulateGrad
    grad = torch_graph_w_grad()
    assert not any("Predict first" in m.value for m in at.markdown)
    assert preview(grad) not in page_text(at) and preview(grad.T) not in page_text(at)


def test_accumulation_shows_x_and_hides_only_w_grad():
    at = quiz_page("accumulation.py")
    x = at.session_state["acc_lab"].x
    w = torch.randn_like(x, requires_grad=True)
    for _ in range(2):
        (x @ w.T).sum().backward()  # PyTorch's w.grad after two backward calls: 2x
    click(at, "acc_step")
    click(at, "acc_step")
    printout = next(c.value for c in at.code if "w.grad =" in c.value)
    assert printout.startswith(f"x      = {x}") and "w.grad = ?" in printout  # x to reason from, not the answer
    assert not [f for v in w.grad.flatten().tolist() for f in number_forms(v) if f in page_text(at)]
    assert "4,266.3398" in page_text(at) or f"{x[0, 0].item():,.4f}" in page_text(at)  # the history keeps x's row


def test_a_wrong_answer_is_asked_again_also_after_previous_and_next():
    at = graph_at_step()
    q = graph_question()
    predict(at, q, "0")
    assert "Only a tensor y does not depend on" in "\n".join(w.value for w in at.warning)  # why it is wrong
    assert at.button(key="quiz_check_graph_w_grad").label == "Try again"
    click(at, "graph_bwd_prev")
    click(at, "graph_bwd_next")
    assert at.text_input(key="quiz_in_graph_w_grad") is not None and "w.grad is now ?" in page_text(at)
    predict(at, q, show(q, q.answer))
    assert any(s.value.startswith("Right:") for s in at.success)
    assert str(at.session_state["quiz_score"]) == "0 of 1 predictions right first time"  # the first try counts


def test_show_me_the_answer_reveals_it_and_counts_the_first_try():
    at = quiz_page("accumulation.py")
    x = at.session_state["acc_lab"].x
    click(at, "acc_step")
    q = questions.grad_after_backward("acc_backward_1", x.flatten().tolist(), x.flatten().tolist(), 1)  # dy/dw = x
    predict(at, q, "1")
    click(at, "quiz_show_acc_backward_1")
    assert any(f"PyTorch gives {show(q, q.answer)}" in w.value for w in at.warning)
    assert any(c.value.startswith("x      =") and "w.grad = tensor" in c.value for c in at.code)
    assert str(at.session_state["quiz_score"]) == "0 of 1 predictions right first time"


def test_new_numbers_ask_again():
    at = graph_at_step()
    q = graph_question()
    predict(at, q, show(q, q.answer))
    at.number_input(key="graph_row").set_value(101).run()
    for _ in range(5):
        click(at, "graph_bwd_next")
    assert at.text_input(key="quiz_in_graph_w_grad").value in (None, "")
    assert "w.grad is now ?" in page_text(at)


def test_the_score_shows_in_presenter_mode_near_the_question():
    at = AppTest.from_file(str(PAGES / "errors.py"), default_timeout=120)  # the page alone: no sidebar at all
    at.session_state["quiz_on"] = True  # what the sidebar's switch (or ?quiz=1) sets
    at.session_state["present"] = True  # presenter mode (?present=1): the sidebar, and its score, are hidden
    at.run()
    y = torch.sigmoid(torch.ones(4, requires_grad=True))  # sigmoid saves its output y (version 0) ...
    y.add_(1)  # ... which an in-place op then changes
    predict(at, questions.saved_version("errors_inplace_version", y._version, 0), str(y._version))
    assert any("1 of 1 predictions right first time" in c.value for c in at.main.caption)
