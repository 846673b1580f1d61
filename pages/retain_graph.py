"""retain_graph (seed Part E): backward frees the graph's saved tensors; retain_graph keeps them."""
from __future__ import annotations

import streamlit as st

from explorer.labs import retain as rl
from explorer.labs.controls import RETAIN
from explorer.teaching.questions import retain_question
from explorer.teaching.takehome import retain_takehome
from pages._common import current_device, publish_state, show_code
from pages._components import buttons, label_px, light_html, take_home
from pages._quiz import quiz_gate
from pages._state import enter_state, link_clicks, widgets


@st.fragment  # a call reruns the lab only, not the page around it
def lab_panel(lab: rl.RetainLab) -> None:
    """The calls, what they did (pnl.grad, the events, the saved tensors, the graph) and the take-home script."""
    above = st.container()  # the buttons go above the toggle: a tooltip opens upwards, so none hides the toggle
    (flag,) = widgets([st], RETAIN, "retain_retain")
    with above:
        buttons(lab, rl.call_buttons(flag))  # equal widths: no label is squeezed into breaking mid-word
    publish_state(*RETAIN.spec, retain_calls=rl.calls_code(lab))  # after the buttons: the URL carries the calls so far
    quiz_gate(retain_question(lab.events))  # predict first, then see
    if lab.loss is None:
        st.error(lab.problem())
        show_code(rl.custom_trading_loss, rl.fixed_trading_loss, caption="The seed's loss and the fixed one", key="secondary_retain_seed_code")
    elif lab.error:
        st.warning(lab.problem())
    st.code(lab.printout(), language="text")
    light_html(lab.events_html(), key="retain_events")
    st.caption(rl.EVENTS_NOTE)
    st.subheader("Saved tensors of the loss's graph")
    st.markdown(rl.SAVED_NOTE)
    drawn, problem = rl.saved_tensors_html(lab, label_px())
    if problem:
        st.error(problem)
    light_html(drawn, key="retain_saved")
    take_home(retain_takehome(lab))


st.title("retain_graph")
st.markdown(rl.INTRO)
enter_state(RETAIN)
calls = link_clicks("retain_calls")  # a link's calls, handed out once: they are replayed once
pnl, loss_name = widgets(st.columns([2, 3]), RETAIN, "retain_pnl", "retain_loss")
lab, refused = rl.session_lab(st.session_state, pnl, loss_name, current_device(), calls)  # kept in the session
if refused:
    st.warning(refused)
lab_panel(lab)
show_code(rl.TRADING_LOSSES[loss_name], rl.backward, rl.autograd_grad, key="secondary_retain_code")
