"""retain_graph (seed Part E): backward frees the graph's saved tensors; retain_graph keeps them."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from explorer.labs.retain import (TRADING_LOSSES, RetainLab, autograd_grad, backward, calls_code, custom_trading_loss,
                                  fixed_trading_loss, replay_calls, saved_tensor_table)
from explorer.teaching.shareable import Shared
from explorer.teaching.takehome import retain_script
from explorer import svgplot
from pages._common import current_device, publish_state, share_state, show_code
from pages._components import light_html
from pages._quiz import quiz_gate
from explorer.autograd.graph import GraphError, build_graph
from explorer.autograd.graph_plot import graph_svg
from explorer.teaching.questions import retain_question
from pages._graph_views import FONT_PX, presenting
from pages._state import init_widgets, link_clicks


@dataclass
class RetainInputs:
    """The pnl value and which loss function builds the graph."""
    pnl: float
    loss_name: str


PNL_VALUES = tuple(i / 2 for i in range(-20, 21))  # the slider's steps: -10.0 … 10.0 by 0.5
SPEC = (Shared("retain_pnl", "float", -10, 10, choices=PNL_VALUES), Shared("retain_loss", "str", choices=tuple(TRADING_LOSSES)),
        Shared("retain_retain", "bool"), Shared("retain_calls", "clicks", max_len=50))


def retain_controls() -> RetainInputs:
    """Read the widgets that build the graph (a change starts a new lab)."""
    c1, c2 = st.columns([2, 3])
    init_widgets({"retain_pnl": -3.0})
    pnl = c1.slider("pnl", -10.0, 10.0, step=0.5, key="retain_pnl",
                    help="The trade's profit or loss: a new value builds a new graph. Try 0 with the seed's loss.")
    loss_name = c2.radio("loss function", list(TRADING_LOSSES), key="retain_loss", horizontal=True,
                         help="The seed's loss as written, its fix for pnl == 0, or the torch.where version.")
    return RetainInputs(float(pnl), loss_name)


def call_buttons(lab: RetainLab) -> None:
    """The three calls, with the retain_graph toggle below them: a button's tooltip opens above the button, so no
    tooltip hides the toggle."""
    buttons = st.container()
    flag = st.toggle("retain_graph=True for the next call", key="retain_retain",
                     help="Keep the saved tensors after the next call, so that another backward can run.")
    b1, b2, b3 = buttons.columns(3)  # equal widths: no label is squeezed into breaking mid-word
    if b1.button(f"loss.backward(retain_graph={flag})", key="retain_backward", width="stretch", shortcut="B",
                 help="Adds d loss/d pnl into pnl.grad; without retain_graph it frees the saved tensors (keyboard: B)."):
        lab.backward(retain_graph=flag)
    if b2.button(f"torch.autograd.grad(loss, pnl, retain_graph={flag})", key="retain_grad", width="stretch",
                 shortcut="A", help="Returns the gradient and leaves pnl.grad alone; frees the saved tensors "
                                    "unless retain_graph (keyboard: A)."):
        lab.autograd_grad(retain_graph=flag)
    if b3.button("new pnl leaf, forward again", key="retain_reset", width="stretch", shortcut="Shift+F",
                 help="A fresh pnl leaf and a fresh graph: the calls start over (keyboard: Shift+F)."):
        lab.forward()


@st.fragment  # a call reruns the lab only, not the page around it
def lab_panel(lab: RetainLab) -> None:
    """The calls, what they did (pnl.grad, the events, the saved tensors, the graph) and the take-home script."""
    call_buttons(lab)
    publish_state(*SPEC, retain_calls=calls_code(lab))  # after the buttons: the URL carries the calls so far
    quiz_gate(retain_question(lab.events))  # predict first, then see
    if lab.loss is None:
        st.error(f"The forward pass failed: **{lab.forward_error}**. At pnl = {lab.pnl_value:g} neither "
                 "`if pnl > 0` nor `elif pnl < 0` runs, so `loss` is never assigned. A loss with Python branches "
                 "must give every input a branch: pick the *fixed* or *vectorised* version, or move the slider.")
        with st.container(key="secondary_retain_seed_code"):
            show_code(custom_trading_loss, fixed_trading_loss, caption="The seed's loss and the fixed one")
    elif lab.error:
        st.warning(f"PyTorch refused: **RuntimeError: {lab.error}**\n\nThe first call without `retain_graph=True` "
                   "freed the saved tensors below (see *now*). Build a fresh graph (forward again), or turn on "
                   "`retain_graph` for every call but the last one.")
    st.code(f"pnl      = {lab.pnl}\nloss     = {lab.loss}\npnl.grad = {lab.pnl.grad}", language="text")
    light_html(svgplot.table(lab.events_frame(), "retain-events"), key="retain_events")
    st.caption("`backward()` **adds** into `pnl.grad` (with retain_graph: −6, then −12 at pnl = −3); "
               "`torch.autograd.grad` **returns** the gradient and leaves `pnl.grad` alone.")
    saved_tensors(lab)
    with st.container(key="secondary_retain_takehome"):
        st.download_button("Take it home: Python script",
                           retain_script(lab.pnl_value, TRADING_LOSSES[lab.loss_name], lab.events, lab.device),
                           "retain_graph.py", key="retain_takehome", on_click="ignore", icon=":material/download:",
                           help="A plain script (torch only): the loss function, the pnl leaf and these calls, "
                                "printing pnl.grad after each as the table shows.")


def saved_tensors(lab: RetainLab) -> None:
    """The saved tensors right after the forward pass and now, and the loss's graph with them (one light block:
    it is redrawn at every call)."""
    st.subheader("Saved tensors of the loss's graph")
    st.markdown("Each backward node keeps what its derivative needs: `PowBackward0` keeps the base `pnl` "
                "(`_saved_self`, d(pnl²)/dpnl = 2·pnl) and the exponent; `MulBackward0` keeps the constant 0.05 as "
                "a 0-dim tensor (`_saved_other`) and not `pnl` (nothing needs d/d0.05). Plain Python numbers such "
                "as the exponent stay readable; tensors are released by backward and reading them then raises — "
                "shown as *freed*.")
    drawn = (f'<div class="light-columns"><div><p><b>right after the forward pass</b></p>'
             f'{svgplot.table(lab.saved_after_forward, "retain-saved-before")}</div>'
             f'<div><p><b>now</b></p>{svgplot.table(saved_tensor_table(lab.loss), "retain-saved-now")}</div></div>')
    if lab.loss is not None:
        try:
            model = build_graph(lab.loss, {"pnl": lab.pnl}, output_name="loss")
            drawn += ('<p class="light-note">The loss\'s graph now: saved values in each node, <i>freed</i> once '
                      "backward released them.</p>" + graph_svg(model, FONT_PX[presenting()], "full"))
        except GraphError as exc:
            st.error(f"Cannot draw the graph: {exc}")
    light_html(drawn, key="retain_saved")


st.title("retain_graph")
st.markdown("The seed's `custom_trading_loss`: **0.05·pnl** for a gain, **pnl²** for a loss. Call `backward()` "
            "once, then again. PyTorch frees the tensors the backward pass needed (the *saved tensors*) as soon as "
            "it has used them, so the second call fails unless the first one said `retain_graph=True`.")
share_state(*SPEC)
calls = link_clicks("retain_calls")  # a link's calls, handed out once: they are replayed once
inputs = retain_controls()
lab = st.session_state.get("retain_lab")
device = current_device()
if lab is None or (lab.pnl_value, lab.loss_name, lab.device) != (inputs.pnl, inputs.loss_name, device):
    lab = st.session_state["retain_lab"] = RetainLab(inputs.pnl, inputs.loss_name, device)
    try:
        replay_calls(lab, calls or "")
    except ValueError as exc:
        st.warning(f"Link parameter `retain_calls` = {calls[:40]!r} ignored: {exc}.")
        lab.forward()
lab_panel(lab)
with st.container(key="secondary_retain_code"):
    show_code(TRADING_LOSSES[inputs.loss_name], backward, autograd_grad)
