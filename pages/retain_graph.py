"""retain_graph (seed Part E): backward frees the graph's saved tensors; retain_graph keeps them."""
from __future__ import annotations

import streamlit as st

from explorer import svgplot
from explorer.labs import retain as rl
from explorer.teaching.questions import retain_question
from explorer.teaching.shareable import Shared
from explorer.teaching.takehome import retain_takehome
from pages._accumulation_ui import buttons
from pages._components import take_home
from pages._common import current_device, publish_state, share_state, show_code
from pages._components import light_html
from pages._graph_views import FONT_PX
from pages._quiz import quiz_gate
from pages._state import PRESENT_KEY, init_widgets, link_clicks

SPEC = (Shared("retain_pnl", "float", -10, 10, choices=rl.PNL_VALUES),
        Shared("retain_loss", "str", choices=tuple(rl.TRADING_LOSSES)), Shared("retain_retain", "bool"),
        Shared("retain_calls", "clicks", max_len=50))


@st.fragment  # a call reruns the lab only, not the page around it
def lab_panel(lab: rl.RetainLab) -> None:
    """The calls, what they did (pnl.grad, the events, the saved tensors, the graph) and the take-home script."""
    above = st.container()  # the buttons go above the toggle: a tooltip opens upwards, so none hides the toggle
    flag = st.toggle("retain_graph=True for the next call", key="retain_retain",
                     help="Keep the saved tensors after the next call, so that another backward can run.")
    with above:
        buttons(lab, rl.call_buttons(flag))  # equal widths: no label is squeezed into breaking mid-word
    publish_state(*SPEC, retain_calls=rl.calls_code(lab))  # after the buttons: the URL carries the calls so far
    quiz_gate(retain_question(lab.events))  # predict first, then see
    if lab.loss is None:
        st.error(lab.problem())
        with st.container(key="secondary_retain_seed_code"):
            show_code(rl.custom_trading_loss, rl.fixed_trading_loss, caption="The seed's loss and the fixed one")
    elif lab.error:
        st.warning(lab.problem())
    st.code(lab.printout(), language="text")
    light_html(svgplot.table(lab.events_frame(), "retain-events"), key="retain_events")
    st.caption(rl.EVENTS_NOTE)
    st.subheader("Saved tensors of the loss's graph")
    st.markdown(rl.SAVED_NOTE)
    drawn, problem = rl.saved_tensors_html(lab, FONT_PX[bool(st.session_state.get(PRESENT_KEY))])
    if problem:
        st.error(problem)
    light_html(drawn, key="retain_saved")
    take_home(retain_takehome(lab))


st.title("retain_graph")
st.markdown("The seed's `custom_trading_loss`: **0.05·pnl** for a gain, **pnl²** for a loss. Call `backward()` "
            "once, then again. PyTorch frees the tensors the backward pass needed (the *saved tensors*) as soon as "
            "it has used them, so the second call fails unless the first one said `retain_graph=True`.")
share_state(*SPEC)
calls = link_clicks("retain_calls")  # a link's calls, handed out once: they are replayed once
c1, c2 = st.columns([2, 3])
init_widgets({"retain_pnl": -3.0})
pnl = float(c1.slider("pnl", -10.0, 10.0, step=0.5, key="retain_pnl",
                      help="The trade's profit or loss: a new value builds a new graph. Try 0 with the seed's loss."))
loss_name = c2.radio("loss function", list(rl.TRADING_LOSSES), key="retain_loss", horizontal=True,
                     help="The seed's loss as written, its fix for pnl == 0, or the torch.where version.")
lab, refused = rl.lab_for(st.session_state.get("retain_lab"), pnl, loss_name, current_device(), calls)
st.session_state["retain_lab"] = lab  # live tensors: kept in the session, rebuilt when pnl, the loss or device changed
if refused:
    st.warning(refused)
lab_panel(lab)
with st.container(key="secondary_retain_code"):
    show_code(rl.TRADING_LOSSES[loss_name], rl.backward, rl.autograd_grad)
