"""The Graph page's views: the clickable graph, the node inspector, explanations, gradcheck, torchviz's picture.

Only the view that is on screen is computed and drawn (a radio, not st.tabs: hidden tabs would still run)."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from explorer.autograd.gradcheck import GradcheckReport, check_gradients
from explorer.autograd.graph_model import GraphModel
from explorer.autograd.graph_plot import graph_figure
from explorer.autograd.inspector import full, inspect_node
from explorer.autograd.lesson import GraphLesson, explanations, run_lesson

VIEWS = {"fwd": "1 · Forward: op journal", "bwd": "2 · Backward step by step", "check": "3 · Gradcheck",
         "mlp": "4 · Large graph (MLP)"}
FONT_PX = {True: 20, False: 14}  # node labels: the body text size in presenter mode (20 px), a little under at a desk


def presenting() -> bool:
    return bool(st.session_state.get("present"))


def graph_and_side() -> tuple:
    """Where the graph and its side panel go: side by side at a desk; stacked on a projector, so the graph gets
    the full width and its labels their full size."""
    if presenting():
        return st.container(), st.container()
    return tuple(st.columns([3, 2]))


def cached_lesson(frame: pd.DataFrame, row: int, seed: int, text: str, device: str) -> GraphLesson:
    """The lesson for these inputs, computed once and kept in the session (its tensors keep their graph)."""
    key = (id(frame), len(frame), row, seed, text, device)
    held = st.session_state.get("graph_lesson")
    if held is None or held[0] != key:
        held = (key, run_lesson(frame, row, seed, text, device), {})
        st.session_state["graph_lesson"] = held
    return held[1]


def lesson_extra(name: str, make):
    """Something derived from the current lesson (gradcheck, torchviz's DOT), made on first use and kept with it."""
    extras = st.session_state["graph_lesson"][2]
    if name not in extras:
        extras[name] = make()
    return extras[name]


KEPT = ("graph_classic", "graph_classic_after", "graph_node", "graph_mlp_layers", "graph_mlp_hidden", "graph_mlp_cap",
        "graph_mlp_backward", "graph_mlp_collapse", "graph_mlp_hide_acc", "graph_mlp_hide_views", "graph_mlp_expand")


def view_picker() -> str:
    """Which view is on screen (it travels in the link as graph_view).

    Streamlit forgets the value of a widget that a run does not draw; writing each option back keeps it while its
    view is hidden, so a switch back (and the link) finds it unchanged.
    """
    for key in KEPT:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    if st.session_state.get("graph_view") not in VIEWS:
        st.session_state["graph_view"] = "fwd"
    return st.radio("view", list(VIEWS), format_func=VIEWS.get, key="graph_view", horizontal=True,
                    label_visibility="collapsed")


def _take_click(chart_key: str) -> None:
    """A node clicked in the drawing becomes the inspected node (read before anything is drawn)."""
    event = st.session_state.get(chart_key)
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else []
    clicked = points[0].get("customdata") if points else None
    if clicked and clicked != st.session_state.get("graph_clicked"):
        st.session_state["graph_node"] = clicked if isinstance(clicked, str) else clicked[0]
    st.session_state["graph_clicked"] = clicked


def draw_graph(model: GraphModel, highlight: str | None, name: str) -> None:
    """Our graph, drawn with plotly at body-text size; click a node to inspect it, scroll to zoom."""
    key = f"graph_plot_{name}"
    _take_click(key)
    selected = st.session_state.get("graph_node") or None
    fig = graph_figure(model, FONT_PX[presenting()], highlight, selected if selected in model.nodes else None)
    st.plotly_chart(fig, key=key, on_select="rerun", selection_mode="points", theme=None,
                    config={"scrollZoom": True, "displaylogo": False, "modeBarButtonsToRemove": ["select2d",
                                                                                                "lasso2d"]})


def inspector(lesson: GraphLesson, model: GraphModel, active: str | None, steps: int | None) -> None:
    """Pick a node (or click it above) and see all of it: value, grad, grad_fn, saved tensors, next_functions."""
    ids = list(model.nodes)
    if st.session_state.get("graph_node") not in [""] + ids:
        st.session_state["graph_node"] = ""
    current = active or model.root

    def name(nid: str) -> str:
        nid = nid or current
        return f"{model.nodes[nid].name} ({model.nodes[nid].kind}, node {nid})"

    chosen = st.selectbox("inspect node (or click it in the graph)", [""] + ids, key="graph_node",
                          format_func=lambda n: f"this step's node: {name(n)}" if not n else name(n),
                          help="Everything about one node of the real graph, unabridged.") or current
    d = inspect_node(lesson, chosen, steps)
    left, right = st.columns(2)
    with left:
        st.markdown(f"Inspecting **{d.name}** (node {d.node_id}) · grad_fn: `{d.grad_fn}`")
        st.code("value: " + (full(d.value) if d.value is not None else "—"), language="text", wrap_lines=True)
        st.code("grad: " + (full(d.grad) if d.grad is not None else "None") + f"\n({d.grad_note})",
                language="text", wrap_lines=True)
    with right:
        saved = [f"{k}: {v if isinstance(v, str) else full(v)}" for k, v in d.saved.items()]
        st.code("saved tensors:\n" + ("\n".join(saved) or "none") + "\n\nnext_functions:\n" +
                ("\n".join(d.next_functions) or "none (a leaf or the output)"), language="text", wrap_lines=True)
        if d.step is not None:
            when = "ran here" if d.step_ran else "runs here when backward() gets to it"
            st.caption(f"The chain-rule step that {when} (backward step {d.step.index}), with its real numbers:")
            st.code(d.step.chain_rule(), language="text", wrap_lines=True)


def why_gradients(lesson: GraphLesson) -> None:
    """Each leaf's gradient from the chain rule that ran, and w.grad == x only where it holds."""
    for paragraph in explanations(lesson):
        st.markdown(paragraph)
    w_is_x = torch.equal(lesson.w.grad, lesson.x)
    if w_is_x:
        st.success("Here **w.grad == x** exactly: y is linear in w (y = x₀w₀ + … + x₄w₄ + b), so ∂y/∂wᵢ = xᵢ.")
    else:
        st.info(f"Here w.grad ≠ x: `{lesson.expression.text}` multiplies x by the factors above.")


def gradcheck_view(lesson: GraphLesson) -> GradcheckReport:
    """Autograd against finite differences; the verdict's colour follows the verdict."""
    report = lesson_extra("gradcheck", lambda: check_gradients(lesson.expression, lesson.x, lesson.w, lesson.b))
    st.markdown(f"Autograd's Jacobian against central finite differences (eps = {report.eps:g}) in float64; "
                f"PASS when |diff| ≤ {report.atol:g} + {report.rtol:g}·|numeric| everywhere (gradcheck's rule).")
    st.dataframe(pd.DataFrame([leaf.as_row() for leaf in report.leaves]), hide_index=True)
    if report.nonfinite:
        st.warning(f"Not checkable: the function or its gradient is **{report.nonfinite}** at this input, so "
                   "neither PASS nor FAIL means anything (torch.autograd.gradcheck reports "
                   f"{'PASS' if report.torch_gradcheck else 'FAIL'}). See what made it above.")
    elif report.torch_gradcheck:
        st.success("torch.autograd.gradcheck on the same function: PASS")
    else:
        st.error("torch.autograd.gradcheck on the same function: FAIL")
    return report
