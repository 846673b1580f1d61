"""Predict-then-reveal glue: the sidebar switch (also `?quiz=1`), `quiz_ask` at a lesson's key moment, the score."""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import StopException

from explorer.teaching.quiz import AnswerError, Asked, Question, Score, Verdict, check, tolerance_text
from pages._state import PRESENT_KEY, QUIZ_KEY

ON_KEY = "quiz_on"  # a plain copy: widget state is dropped on a run that does not draw the switch
ANSWERS_KEY = "quiz_answers"  # question key -> Asked: the question on screen, the answers given to it


def quiz_mode():
    """Sidebar toggle; `?quiz=1` turns it on and stays in the URL, so shared links carry it. Returns a sidebar slot
    for the score (filled after the page ran, see quiz_score)."""
    st.session_state.setdefault(QUIZ_KEY, False)
    st.sidebar.toggle("Predict, then reveal", key=QUIZ_KEY, help="At key moments the lessons ask you to predict "
                      "the result before showing it. A teacher turns it on for everyone with ?quiz=1 in the link.")
    st.session_state[ON_KEY] = st.session_state[QUIZ_KEY]
    return st.sidebar.container()


def quiz_score(where) -> None:
    """The session's score, once something has been asked."""
    score = st.session_state.get("quiz_score")
    if st.session_state.get(ON_KEY) and score is not None and score.answers:
        where.caption(f":material/psychology: {score}")


def _asked(question: Question) -> Asked:
    """This question's record, new when it was never asked or was asked about other numbers."""
    answers: dict[str, Asked] = st.session_state.setdefault(ANSWERS_KEY, {})
    asked = answers.get(question.key)
    if not isinstance(asked, Asked) or asked.question != question:
        asked = answers[question.key] = Asked(question)
    return asked


def quiz_hidden(question: Question | None) -> tuple[str, ...]:
    """What the page leaves out (question.hides) while `question` is open in quiz mode; () once it is settled."""
    if question is None or not st.session_state.get(ON_KEY) or _asked(question).settled:
        return ()
    return question.hides


def quiz_ask(question: Question | None) -> bool:
    """At a key moment: in quiz mode, ask `question` first. True when what follows may be shown (mode off, nothing
    to ask, answered right, or the answer shown); False while the prediction is still open, so the page holds the
    answer back. A wrong answer says why and asks again; only the first answer counts in the score."""
    if question is None or not st.session_state.get(ON_KEY):
        return True
    asked = _asked(question)
    with st.container(border=True, key=f"quiz_{question.key}"):
        st.markdown(f":material/psychology: **Predict first.** {question.prompt}")
        said = asked.said()
        if said is not None:
            (st.success if said.correct else st.warning)(said.message)
        if not asked.settled:
            verdict = _ask(question, bool(asked.verdicts))
            if verdict is not None:
                if asked.answer(verdict):
                    st.session_state.setdefault("quiz_score", Score()).record(
                        f"{question.key}={question.answer}", verdict.correct)
                st.rerun()  # the whole page: asked inside a fragment, the sidebar's score would not move until later
        if st.session_state.get(PRESENT_KEY):  # presenter mode hides the sidebar, and its score with it
            quiz_score(st)
    return asked.settled


def quiz_gate(question: Question | None) -> None:
    """quiz_ask, and while the prediction is open the rest of the page waits (everything below shows the answer).

    Ends the page the way st.stop() does, but without st.stop's pending stop request, which would also swallow
    what app.py draws into the sidebar after the page (the loaded candles, the score)."""
    if not quiz_ask(question):
        raise StopException()


def _ask(question: Question, again: bool) -> Verdict | None:
    """The answer form (after a wrong answer, with a button that shows the answer instead); the Verdict once
    submitted with a readable answer."""
    with st.form(key=f"quiz_form_{question.key}", border=False):
        if question.kind == "choice":
            text = st.radio("your prediction", question.choices, index=None, key=f"quiz_in_{question.key}")
        else:
            text = st.text_input("your prediction", key=f"quiz_in_{question.key}", max_chars=200)
        st.caption(tolerance_text(question))
        buttons = st.container(horizontal=True)
        submitted = buttons.form_submit_button("Try again" if again else "Check my prediction",
                                               key=f"quiz_check_{question.key}")
        shown = again and buttons.form_submit_button("Show me the answer", key=f"quiz_show_{question.key}")
    if shown:
        _asked(question).gave_up = True
        st.rerun()
    if not submitted:
        return None
    try:
        return check(question, text or "")
    except AnswerError as exc:
        st.error(f"Not an answer yet: {exc}.")
        return None
