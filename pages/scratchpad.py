"""Scratchpad: the learner's own short PyTorch, run statement by statement (checked and interpreted, never eval)."""
from __future__ import annotations

import streamlit as st

from explorer.autograd.graph_plot import graph_svg
from explorer.data.sources import literal
from explorer.mechanics import scratchpad as sp
from explorer.mechanics.scratch_view import GRAPH_NOTE, node_details, scratch_graph, tensor_table
from pages._common import publish_state, share_state
from pages._graph_views import FONT_PX, _graph_drawing
from pages._state import PRESENT_KEY, init_widgets

state = st.session_state
st.title("Scratchpad: your own PyTorch, one statement at a time")
with st.container(key="secondary_scratch_intro"):  # presenter mode leaves it out: the program gets the screen
    st.markdown(sp.INTRO)
share_state(*sp.LINK)  # a link's ?code= (and step), checked, lands in session state
if "code" in state:  # the program a link carried goes into the editor
    state["scratch_code"] = state.pop("code")
elif "scratch_code" not in state and "scratch_program" in state:  # back from another page (which drops widgets)
    state["scratch_code"] = state["scratch_program"]
FIRST = next(iter(sp.EXAMPLES))
init_widgets({"scratch_code": sp.example_program(FIRST), "scratch_example": FIRST, "scratch_pos": 0})


def start_over() -> None:
    state["scratch_pos"] = 0
    state.pop("scratch_node", None)


def load_example() -> None:
    state["scratch_code"] = sp.example_program(state["scratch_example"])
    start_over()


def move_to(position: int) -> None:
    state["scratch_pos"] = position


def take_click() -> None:
    state["scratch_node"] = (state.get("scratch_graph") or {}).get("clicked")


left, right = st.columns([3, 2])
code = left.text_area("your program (Ctrl+Enter applies an edit)", key="scratch_code", height=300,
                      max_chars=sp.MAX_CHARS, on_change=start_over,
                      help="torch and F are imported; one statement is one step.")
right.selectbox("load an example program", list(sp.EXAMPLES), key="scratch_example", on_change=load_example,
                help="Replaces the program with an example: micrograd's two tests written in PyTorch, and two "
                     "autograd errors.")
run, refusal = sp.latest_run(state, code, int(state["scratch_pos"]))
if refusal:
    st.error(f"Program not run: {literal(refusal, keep_code=True)}"
             + (". Still showing the last good run." if run else "."))
with right.container(horizontal=True):
    done, total = (run.done, run.total) if run else (0, 0)
    st.button("Step", key="scratch_step", icon=":material/skip_next:", on_click=move_to, args=(min(done + 1, total),),
              disabled=done >= total, help="Run the next statement.")
    st.button("Run all", key="scratch_run_all", icon=":material/fast_forward:", on_click=move_to, args=(total,),
              disabled=done >= total, help="Run every statement that is left.")
    st.button("Reset", key="scratch_reset", icon=":material/restart_alt:", on_click=start_over,
              disabled=done == 0, help="Start again: nothing has run, no tensor exists.")
if run is not None:
    right.caption(run.status())
    if run.done:
        last = run.outcomes[-1]
        right.code(last.source, language="python")
        for how, text in last.messages():
            if how == "code":
                right.code(text, language="text", wrap_lines=True)
            else:
                getattr(right, how)(literal(text))  # PyTorch's words, as written (no markdown)
    st.subheader("Every tensor, as autograd sees it")
    st.dataframe(tensor_table(run.env), hide_index=True)
    model = scratch_graph(run.env)
    if model.nodes:
        st.subheader("The graph")
        st.caption(GRAPH_NOTE)
        picked = state.get("scratch_node") if state.get("scratch_node") in model.nodes else None
        _graph_drawing(key="scratch_graph", data=graph_svg(model, FONT_PX[bool(state.get(PRESENT_KEY))],
                                                           selected=picked), on_clicked_change=take_click)
        for note in model.notes:
            st.caption(note)
        if picked:
            st.code(f"node {picked}\n" + node_details(model, picked), language="text", wrap_lines=True)
    with st.expander("Everything run so far", expanded=False):
        st.code(run.transcript() or "(nothing yet)", language="text", wrap_lines=True)

state["scratch_program"] = state["code"] = code  # kept for a return visit; and what the link carries, as ?code=
publish_state(*sp.LINK)
del state["code"]
