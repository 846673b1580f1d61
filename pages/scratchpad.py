"""Scratchpad: the learner's own short PyTorch, run statement by statement (checked and interpreted, never eval)."""
from __future__ import annotations

from functools import partial

import streamlit as st

from explorer.mechanics import scratch_session as session, scratchpad as sp
from explorer.mechanics.scratch_view import GRAPH_NOTE, tensor_table
from pages._common import publish_state, share_state
from pages._components import label_px, say
from pages._graph_views import graph_drawing
from pages._state import init_widgets

state = st.session_state
st.title("Scratchpad: your own PyTorch, one statement at a time")
with st.container(key="secondary_scratch_intro"):  # presenter mode leaves it out: the program gets the screen
    st.markdown(sp.INTRO)
share_state(*sp.LINK)  # a link's ?code= (and step), checked, lands in session state
init_widgets(session.take_program(state))  # the link's program, or the one left here, goes into the editor

left, right = st.columns([3, 2])
code = left.text_area("your program (Ctrl+Enter applies an edit)", key="scratch_code", height=300,
                      max_chars=sp.MAX_CHARS, on_change=session.start_over, args=(state,), help=session.CODE_HELP)
right.selectbox("load an example program", list(sp.EXAMPLES), key="scratch_example", on_change=session.load_example,
                args=(state,), help=session.EXAMPLE_HELP)
run, refusal = sp.latest_run(state, code, int(state["scratch_pos"]))
say(st, session.refusal_note(refusal, run))
with right.container(horizontal=True):
    for button in session.buttons(state, run):
        st.button(**button)
if run is not None:
    right.caption(run.status())
    if run.done:
        right.code(run.outcomes[-1].source, language="python")
        say(right, session.last_messages(run))  # PyTorch's words, as written (no markdown)
    st.subheader("Every tensor, as autograd sees it")
    st.dataframe(tensor_table(run.env), hide_index=True)
    svg, said = session.graph_view(state, run.env, label_px())
    if svg:
        st.subheader("The graph")
        st.caption(GRAPH_NOTE)
        graph_drawing(key="scratch_graph", data=svg, on_clicked_change=partial(session.take_click, state))
        say(st, said)  # the graph's notes, then all that the clicked node knows
    with st.expander("Everything run so far", expanded=False):
        st.code(run.transcript() or "(nothing yet)", language="text", wrap_lines=True)

session.keep_program(state, code)  # kept for a return visit; and what the link carries, as ?code=
publish_state(*sp.LINK)
del state[session.LINK_CODE]
