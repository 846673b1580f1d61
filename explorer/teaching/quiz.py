"""Predict, then reveal: questions asked at a lesson's key moments, answers checked with a stated tolerance.

Pure logic (no streamlit): a Question knows its answer, how close counts, and why the usual wrong answers are wrong.
The answers are computed by PyTorch where the question is made, from the same objects the page shows.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal, MutableMapping, Sequence

from explorer.teaching.controls import Control, PageState

Kind = Literal["numbers", "shape", "choice", "magnitude"]
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class AnswerError(ValueError):
    """The learner's text is not an answer of the asked kind."""


@dataclass(frozen=True)
class Question:
    """One prediction: the prompt, the right answer, the tolerance, and reasons for known wrong answers."""
    key: str
    prompt: str
    kind: Kind
    answer: Any  # numbers: tuple of floats; shape: tuple of ints; choice: one of `choices`; magnitude: a float
    why: str  # said with the answer, right or wrong
    choices: tuple[str, ...] = ()
    rtol: float = 1e-3  # numbers: relative tolerance (plus atol 1e-6); magnitude: within a factor of 10
    wrong: tuple[tuple[Any, str], ...] = field(default=())  # (a wrong answer, the reason it is wrong)
    hides: tuple[str, ...] = ()  # what the page leaves out while this is open (e.g. "w.grad"): it shows the answer


@dataclass(frozen=True)
class Verdict:
    """Whether the answer counts, and what to tell the learner: `message` with the answer, `hint` (a wrong answer)
    without it, so the learner can try again."""
    correct: bool
    message: str
    hint: str = ""


def tolerance_text(q: Question) -> str:
    """The tolerance, said in words next to the question."""
    return {"numbers": f"Numbers count when within {q.rtol:.1%} of the answer (or 1e-6 of 0).",
            "shape": "Type the shape as a list, e.g. [3, 4]; each size must match exactly.",
            "choice": "Pick one.",
            "magnitude": "Counts when within a factor of 10 of the answer (the right order of magnitude)."}[q.kind]


def parse_answer(q: Question, text: str) -> Any:
    """The learner's text as a value of the question's kind; AnswerError says what was expected."""
    text = text.strip()
    if q.kind == "choice":
        if text not in q.choices:
            raise AnswerError(f"pick one of {', '.join(q.choices)}")
        return text
    numbers = [float(m) for m in NUMBER.findall(text.replace("tensor", "").replace("Size", ""))]
    if not numbers:
        raise AnswerError("type a number" if q.kind != "shape" else "type a shape such as [3, 4]")
    if q.kind == "shape":
        if any(n != int(n) or n < 0 for n in numbers):
            raise AnswerError("a shape is a list of whole, non-negative sizes")
        return tuple(int(n) for n in numbers)
    if q.kind == "magnitude":
        return numbers[0]
    return tuple(numbers)


def matches(q: Question, guess: Any, target: Any) -> bool:
    """Does `guess` count as `target` under the question's tolerance?"""
    if q.kind in ("choice", "shape"):
        return tuple(guess) == tuple(target) if q.kind == "shape" else guess == target
    if q.kind == "magnitude":
        return guess > 0 and target > 0 and abs(math.log10(guess) - math.log10(target)) <= 1
    target = tuple(target)
    if len(guess) == 1 and len(target) > 1 and len(set(target)) == 1:
        guess = guess * len(target)  # one number for a tensor whose entries are all equal
    return len(guess) == len(target) and all(math.isclose(g, t, rel_tol=q.rtol, abs_tol=1e-6)
                                             for g, t in zip(guess, target))


def show(q: Question, value: Any) -> str:
    """An answer written the way the learner would type it."""
    if q.kind == "numbers":
        return ", ".join(f"{v:g}" for v in value)
    if q.kind == "shape":
        return str(list(value))
    return f"{value:.3g}" if q.kind == "magnitude" else str(value)


def check(q: Question, text: str) -> Verdict:
    """Right (within tolerance) or wrong, with the answer, the reason and, for a known mistake, what it mixed up."""
    guess = parse_answer(q, text)
    if matches(q, guess, q.answer):
        return Verdict(True, f"Right: {show(q, q.answer)}. {q.why}")
    reason = next((why for wrong, why in q.wrong if matches(q, guess, wrong)), None)
    told = reason or _distance(q, guess)
    return Verdict(False, f"Not quite: you said {show(q, guess)}, PyTorch gives {show(q, q.answer)}. {told} {q.why}",
                   f"Not quite: you said {show(q, guess)}. {told}".strip())


def _distance(q: Question, guess: Any) -> str:
    """For an answer no known mistake explains: how far off it is."""
    if q.kind == "magnitude" and guess > 0:
        return f"That is off by a factor of {max(guess, q.answer) / min(guess, q.answer):.3g}."
    if q.kind == "shape" and len(guess) != len(q.answer):
        return f"The answer has {len(q.answer)} dimensions, yours {len(guess)}."
    if q.kind == "numbers" and len(guess) != len(q.answer) and len(guess) > 1:
        return f"The answer has {len(q.answer)} numbers, yours {len(guess)}."
    return ""


@dataclass
class Asked:
    """One question on screen and the answers given to it: open until one is right or the learner asks to see
    the answer; only the first answer counts in the score."""
    question: Question
    verdicts: list[Verdict] = field(default_factory=list)
    gave_up: bool = False

    @property
    def settled(self) -> bool:
        """Answered right, or shown: what it holds back may be shown."""
        return self.gave_up or bool(self.verdicts and self.verdicts[-1].correct)

    def answer(self, verdict: Verdict) -> bool:
        """Record an answer; True when it is the first (the one the score counts)."""
        self.verdicts.append(verdict)
        return len(self.verdicts) == 1

    def said(self) -> Verdict | None:
        """What to show under the question now: the last verdict (while open, a wrong one's hint only)."""
        if not self.verdicts:
            return None
        last = self.verdicts[-1]
        return last if self.settled or last.correct else Verdict(False, last.hint or last.message)


@dataclass
class Score:
    """A session's score: the first answer to each question counts."""
    answers: dict[str, bool] = field(default_factory=dict)

    def record(self, key: str, correct: bool) -> None:
        self.answers.setdefault(key, correct)

    @property
    def right(self) -> int:
        return sum(self.answers.values())

    def __str__(self) -> str:
        return f"{self.right} of {len(self.answers)} predictions right first time"


def answer_state(question: Question) -> PageState:
    """The answer's widget (key quiz_in_<question key>): a radio with nothing picked for a choice, else a text field."""
    key = f"quiz_in_{question.key}"
    if question.kind == "choice":
        return PageState((Control("radio", key, "your prediction", question.choices, more={"index": None}),))
    return PageState((Control("text_input", key, "your prediction", more={"max_chars": 200}),))


def numbers_of(values: Sequence[float]) -> tuple[float, ...]:
    """A flat tuple of floats (what tensor.flatten().tolist() gives) for a numbers question."""
    return tuple(float(v) for v in values)


# --- a session's answers, kept in a MutableMapping (the page passes st.session_state) -----------------------------

MODE_HELP = ("At key moments the lessons ask you to predict the result before showing it. A teacher turns it on for "
             "everyone with ?quiz=1 in the link.")  # the sidebar switch's tooltip
ON_KEY = "quiz_on"  # the mode is on (a plain copy of the sidebar's switch)
ANSWERS_KEY = "quiz_answers"  # question key -> Asked: the question on screen, the answers given to it
SCORE_KEY = "quiz_score"  # the session's Score


def asked_in(state: MutableMapping[str, Any], question: Question) -> Asked:
    """This question's record, new when it was never asked or was asked about other numbers."""
    answers: dict[str, Asked] = state.setdefault(ANSWERS_KEY, {})
    asked = answers.get(question.key)
    if not isinstance(asked, Asked) or asked.question != question:
        asked = answers[question.key] = Asked(question)
    return asked


def hidden(state: MutableMapping[str, Any], question: Question | None) -> tuple[str, ...]:
    """What the page leaves out (question.hides) while `question` is open in quiz mode; () once it is settled."""
    if question is None or not state.get(ON_KEY) or asked_in(state, question).settled:
        return ()
    return question.hides


def record(state: MutableMapping[str, Any], asked: Asked, verdict: Verdict) -> None:
    """An answer to `asked`: kept with the question, and the first one counted in the session's score."""
    if asked.answer(verdict):
        state.setdefault(SCORE_KEY, Score()).record(f"{asked.question.key}={asked.question.answer}", verdict.correct)


def answer(state: MutableMapping[str, Any], asked: Asked, text: str) -> str | None:
    """Check and record `text` as an answer to `asked`; why it is not an answer yet (None: it was recorded)."""
    try:
        record(state, asked, check(asked.question, text))
    except AnswerError as exc:
        return f"Not an answer yet: {exc}."
    return None


def score_text(state: MutableMapping[str, Any]) -> str | None:
    """The session's score in words, once the mode is on and something has been answered."""
    score = state.get(SCORE_KEY)
    return f":material/psychology: {score}" if state.get(ON_KEY) and score is not None and score.answers else None
