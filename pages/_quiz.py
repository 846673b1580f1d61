"""Predict-then-reveal glue: the sidebar switch (also `?quiz=1`), `quiz_ask` at a lesson's key moment, the score."""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import StopException

from explorer.teaching import quiz
from explorer.teaching.quiz import ON_KEY, Asked, Question, tolerance_text
from pages._state import PRESENT_KEY, QUIZ_KEY, widgets


def quiz_mode():
    """Sidebar toggle; `?quiz=1` turns it on and stays in the URL, so shared links carry it. Returns a sidebar slot
    for the score (filled after the page ran, see quiz_score)."""
    st.session_state.setdefault(QUIZ_KEY, False)
    st.sidebar.toggle("Predict, then reveal", key=QUIZ_KEY, help=quiz.MODE_HELP)
    st.session_state[ON_KEY] = st.session_state[QUIZ_KEY]  # a copy: a run that does not draw the switch drops it
    return st.sidebar.container()


def quiz_score(where) -> None:
    """The session's score, once something has been asked."""
    if text := quiz.score_text(st.session_state):
        where.caption(text)


def quiz_hidden(question: Question | None) -> tuple[str, ...]:
    """What the page leaves out (question.hides) while `question` is open in quiz mode; () once it is settled."""
    return quiz.hidden(st.session_state, question)


def quiz_ask(question: Question | None) -> bool:
    """At a key moment: in quiz mode, ask `question` first. True when what follows may be shown (mode off, nothing
    to ask, answered right, or the answer shown); False while the prediction is still open, so the page holds the
    answer back. A wrong answer says why and asks again; only the first answer counts in the score."""
    if question is None or not st.session_state.get(ON_KEY):
        return True
    asked = quiz.asked_in(st.session_state, question)
    with st.container(border=True, key=f"quiz_{question.key}"):
        st.markdown(f":material/psychology: **Predict first.** {question.prompt}")
        said = asked.said()
        if said is not None:
            (st.success if said.correct else st.warning)(said.message)
        if not asked.settled and _ask(asked):
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


def _ask(asked: Asked) -> bool:
    """The answer form (after a wrong answer, with a button that shows the answer instead); True once a readable
    answer was submitted or the answer asked for (the record changed)."""
    question, again = asked.question, bool(asked.verdicts)
    with st.form(key=f"quiz_form_{question.key}", border=False):
        (text,) = widgets([st], quiz.answer_state(question), f"quiz_in_{question.key}")
        st.caption(tolerance_text(question))
        buttons = st.container(horizontal=True)
        submitted = buttons.form_submit_button("Try again" if again else "Check my prediction",
                                               key=f"quiz_check_{question.key}")
        asked.gave_up = again and buttons.form_submit_button("Show me the answer", key=f"quiz_show_{question.key}")
    if not submitted:
        return asked.gave_up
    if problem := quiz.answer(st.session_state, asked, text or ""):
        st.error(problem)
    return problem is None
