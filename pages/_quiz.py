"""Predict-then-reveal glue: the sidebar switch (also `?quiz=1`), `quiz_ask` at a lesson's key moment, the score."""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import StopException

from explorer.teaching.quiz import AnswerError, Question, Score, Verdict, check, tolerance_text
from pages._state import QUIZ_KEY

ON_KEY = "quiz_on"  # a plain copy: widget state is dropped on a run that does not draw the switch
ANSWERS_KEY = "quiz_answers"  # question key -> (the question answered, the Verdict of the first answer)


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


def quiz_ask(question: Question | None) -> bool:
    """At a key moment: in quiz mode, ask `question` first. True when what follows may be shown (mode off, nothing
    to ask, or answered); False while the prediction is still open, so the page holds the answer back."""
    if question is None or not st.session_state.get(ON_KEY):
        return True
    answers: dict[str, tuple[Question, Verdict]] = st.session_state.setdefault(ANSWERS_KEY, {})
    with st.container(border=True, key=f"quiz_{question.key}"):
        st.markdown(f":material/psychology: **Predict first.** {question.prompt}")
        if answers.get(question.key, (None,))[0] != question:  # never asked, or asked about other numbers
            verdict = _ask(question)
            if verdict is None:
                return False
            answers[question.key] = question, verdict
            st.session_state.setdefault("quiz_score", Score()).record(f"{question.key}={question.answer}",
                                                                      verdict.correct)
            st.rerun()  # the whole page: asked inside a fragment, the sidebar's score would not move until later
        verdict = answers[question.key][1]
        (st.success if verdict.correct else st.warning)(verdict.message)
    return True


def quiz_gate(question: Question | None) -> None:
    """quiz_ask, and while the prediction is open the rest of the page waits (everything below shows the answer).

    Ends the page the way st.stop() does, but without st.stop's pending stop request, which would also swallow
    what app.py draws into the sidebar after the page (the loaded candles, the score)."""
    if not quiz_ask(question):
        raise StopException()


def _ask(question: Question) -> Verdict | None:
    """The answer form; the Verdict once submitted with a readable answer."""
    with st.form(key=f"quiz_form_{question.key}", border=False):
        if question.kind == "choice":
            text = st.radio("your prediction", question.choices, index=None, key=f"quiz_in_{question.key}")
        else:
            text = st.text_input("your prediction", key=f"quiz_in_{question.key}", max_chars=200)
        st.caption(tolerance_text(question))
        submitted = st.form_submit_button("Check my prediction", key=f"quiz_check_{question.key}")
    if not submitted:
        return None
    try:
        return check(question, text or "")
    except AnswerError as exc:
        st.error(f"Not an answer yet: {exc}.")
        return None
