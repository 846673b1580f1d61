"""What the Graph page shows, as plain data: the graph at each step, the tables and printouts beside it, the
explanations, the large MLP graph, and the lesson code behind each view."""
from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
import torch

from explorer import svgplot
from explorer.autograd.explain import explain, stoppers
from explorer.autograd.backward import Hide, hiding, never
from explorer.autograd.expr import parse_expression
from explorer.autograd.gradcheck import GradcheckReport
from explorer.autograd.graph import build_graph
from explorer.autograd.graph_dot import graph_to_dot
from explorer.autograd.graph_model import GraphModel
from explorer.autograd.graph_plot import announcement, graph_svg
from explorer.autograd.inspector import details_html, inspect_node
from explorer.autograd.large_graph import leaf_modules, tagged_mlp_loss
from explorer.autograd.lesson import EXAMPLES, GraphLesson, gradcheck_lesson, graph_lesson, make_leaves, seed_forward
from explorer.autograd.nonfinite import kind, report as nonfinite_report

INTRO = ("Every tensor operation records a node of PyTorch's autograd graph. Step through the forward pass as it "
         "builds the graph, then through `backward()` as it walks it in reverse — with the real numbers.")
LEAF_NOTE = ("**A leaf** is a tensor you made yourself, not the result of an op. `w` and `b` are leaves with "
             "`requires_grad=True`: each gets an `AccumulateGrad` node, the place where `.grad` is written. `x` is "
             "data and needs no gradient, so it is not a node of autograd's graph; the op that uses it only *saves* a "
             "copy, because the gradient of `w` needs it.")
GRADCHECK_CAVEAT = ("A FAIL is not always autograd's fault: finite differences lose about |f|·1e-16/eps to rounding, "
                    "so tiny gradients next to huge values can miss the tolerance — compare the two columns.")
DOT_HELP = "The graph as Graphviz DOT text (open it with `dot -Tsvg`)."
BEFORE = {"fwd": "No op has run yet: only the leaves x, w and b exist.",  # what a stepper says at step 0
          "bwd": "backward() has not run yet. It starts at y with ∂y/∂y = 1 and runs the nodes in reverse."}
SIDE_KEYS = {"fwd": "graph_journal", "bwd": "graph_steps"}  # the table beside the graph, by stepper
CLASSIC_CAPTION = "torchviz `make_dot(y, params=…, show_attrs=True, show_saved=True)`, before backward()"
LESSON_CODE = {  # the lesson functions behind each view, shown in the container under that key
    "fwd": ("secondary_graph_code_fwd", (make_leaves, seed_forward, graph_lesson)),
    "bwd": ("secondary_graph_code_bwd", (graph_lesson,)),
    "check": ("secondary_graph_code_gradcheck", (gradcheck_lesson,))}
ALLOWED = ("Allowed: `x w b`, numbers, `+ - * / @ **`, unary minus, `.T`, and relu sigmoid tanh exp log abs sum mean "
           "pow clamp softmax.")


def forward_view(lesson: GraphLesson, upto: int) -> tuple[GraphModel, str | None]:
    """The graph as built after journal op `upto` (0: only the leaves), and the node that op created."""
    entry = lesson.journal.entries[upto - 1] if upto else None
    return lesson.before.until(upto), lesson.before.node_for(entry.grad_fn) if entry else None


def backward_view(lesson: GraphLesson, upto: int, hide: Hide = never) -> tuple[GraphModel, str | None]:
    """The graph after `upto` backward steps: grads so far (those `hide` picks as '?'); saved tensors freed on the
    nodes that already ran."""
    ran = {lesson.after.node_for(s.fn) for s in lesson.trace.steps[:upto]}
    nodes = {nid: replace(node, grad=None, grad_brief="",
                          saved=(node if nid in ran else lesson.before.nodes.get(nid, node)).saved)
             for nid, node in lesson.after.nodes.items()}
    model = lesson.trace.annotate(replace(lesson.after, nodes=nodes), upto, hide)
    active = lesson.trace.steps[upto - 1] if upto else None
    return model, model.node_for(active.fn) if active else None


def hidden(lesson: GraphLesson, names: tuple[str, ...]) -> Hide:
    """What a question open on the lesson leaves out: the gradients named ('w.grad', 'b.grad') and every gradient
    with the same numbers (the one flowing into w's AccumulateGrad, w.T's)."""
    grads = {"w.grad": lesson.w.grad, "b.grad": lesson.b.grad}
    return hiding([grads[n] for n in names if n in grads])


def named_tensors(lesson: GraphLesson) -> dict[str, torch.Tensor]:
    """x, w, b and every journal output under its journal name (t1, t2, …, y)."""
    return {"x": lesson.x, "w": lesson.w, "b": lesson.b, **{e.output_name: e.output for e in lesson.journal.entries}}


def explanations(lesson: GraphLesson) -> list[str]:
    """Each leaf's gradient as the chain rule with the numbers that ran, and why it is zero when it is."""
    known = {"x": lesson.x, **{lesson.journal.sources.get(id(e.output), e.output_name): e.output
                               for e in lesson.journal.entries if not e.output.requires_grad}}
    return explain(lesson.chains, {"w": lesson.w.grad, "b": lesson.b.grad}, known)


def gradient_stoppers(lesson: GraphLesson) -> list[str]:
    """Where the gradient was stopped on its way to w and b (saturation, a relu that is off), with a fix to try."""
    return stoppers(lesson.expression.text, lesson.chains)


def problems(lesson: GraphLesson) -> list[str]:
    """Every NaN and inf in the lesson, named, with the op it came from."""
    return nonfinite_report(lesson.journal, lesson.trace, named_tensors(lesson), lesson.y,
                            {"w": lesson.w.grad, "b": lesson.b.grad})


def example_notes(frame: pd.DataFrame, row: int, seed: int, examples: tuple[str, ...] = EXAMPLES) -> dict[str, str]:
    """What each suggested expression does on this row: '' when its gradients teach something, else why not."""
    x, w, b = make_leaves(frame, row, seed)
    notes = {}
    for text in examples:
        y = parse_expression(text)(x, w, b)
        grads = [g for g in torch.autograd.grad(y, (w, b), allow_unused=True) if g is not None]
        largest = max((float(g.abs().max()) for g in grads), default=0.0)
        if kind(y):
            notes[text] = f"y is {kind(y)} on this row"
        elif largest == 0:
            notes[text] = "saturated on this row: every gradient is 0"
        elif largest < 1e-6:
            notes[text] = f"vanishing on this row: gradients below {largest:.0e}"
        else:
            notes[text] = ""
    return notes


def examples_caption(notes: dict[str, str]) -> str:
    """The suggested expressions, each with what it does on this row, and what an expression may use."""
    return ("Try " + " · ".join(f"`{e}`" + (f" ({n})" if n else "") for e, n in notes.items()) + " — on this row. "
            + ALLOWED)


def forward_dot(lesson: GraphLesson, k: int) -> str:
    """The graph after journal op `k` as DOT, that op's node highlighted (the download)."""
    return graph_to_dot(*forward_view(lesson, k))


def journal_html(lesson: GraphLesson, k: int) -> str:
    """Op `k` worked out, above the journal so far (k ≥ 1)."""
    journal = pd.DataFrame([e.as_row() for e in lesson.journal.entries[:k]]).astype({"#": int})
    return svgplot.pre(lesson.journal.entries[k - 1].describe()) + svgplot.table(journal, "graph-journal")


def steps_html(lesson: GraphLesson, k: int, hide: Hide = never) -> str:
    """Backward step `k`'s chain rule with its numbers (those `hide` picks as '?'), above the steps so far (k ≥ 1)."""
    steps = pd.DataFrame([{"step": s.index, "node": s.name, "inputs": ", ".join(s.input_names)}
                          for s in lesson.trace.steps[:k]])
    return svgplot.pre(lesson.trace.steps[k - 1].chain_rule(hide=hide)) + svgplot.table(steps, "graph-steps")


def inspector_html(lesson: GraphLesson, model: GraphModel, chosen: str, active: str | None,
                   steps: int | None, hide: Hide = never) -> str:
    """The inspector on node `chosen`; on this step's node (or y) when nothing is chosen or it is not built yet."""
    note = ""
    if chosen not in model.nodes:
        if chosen:  # the forward pass has not built it yet
            note = f'<p class="light-note">{lesson.after.nodes[chosen].name} is not built yet at this step: ' \
                   "this is the step's own node.</p>"
        chosen = active or model.root
    return note + details_html(inspect_node(lesson, chosen, steps), hide)


@dataclass
class StepPanel:
    """What a stepper shows at one step: the graph, the node this step made or ran, beside them the step worked
    out above the table so far (at step 0, what is there before the first step), and the inspector."""
    model: GraphModel
    active: str | None
    side: str  # light HTML, or at step 0 a note in markdown
    side_key: str | None  # the light HTML's widget key (None at step 0)
    inspector: str
    drawing: dict[str, str]  # the graph as SVG ("svg") and what a screen reader hears of the step ("say")


def step_panel(lesson: GraphLesson, name: str, k: int, chosen: str, hidden_names: tuple[str, ...] = (),
               font_px: float = 14) -> StepPanel:
    """Stepper `name` ('fwd': ops of the journal, 'bwd': backward steps) at step `k`, the inspector on `chosen`
    (outlined in the drawing, whose labels are `font_px`); the gradients an open question asks for (`hidden_names`,
    e.g. 'w.grad') shown as '?'."""
    hide = hidden(lesson, hidden_names)
    if name == "fwd":
        model, active = forward_view(lesson, k)
        side = journal_html(lesson, k) if k else BEFORE[name]
    else:
        model, active = backward_view(lesson, k, hide)
        side = steps_html(lesson, k, hide) if k else BEFORE[name]
    inspector = inspector_html(lesson, model, chosen, active, None if name == "fwd" else k, hide)
    last = len(lesson.journal.entries if name == "fwd" else lesson.trace.steps)
    drawing = {"svg": graph_svg(model, font_px, highlight=active, selected=chosen if chosen in model.nodes else None),
               "say": announcement(model, active, chosen, name, k, last)}
    return StepPanel(model, active, side, SIDE_KEYS[name] if k else None, inspector, drawing)


def warnings(lesson: GraphLesson) -> list[tuple[str, str]]:
    """('error', …) for each NaN and inf of the lesson, then ('warning', …) where the gradient was stopped."""
    return [("error", p) for p in problems(lesson)] + [("warning", n) for n in gradient_stoppers(lesson)]


def beside_seed(lesson: GraphLesson) -> list[tuple[str, str]]:
    """Beside the seed's printout: ('markdown', what a leaf is), then the lesson's warnings."""
    return [("markdown", LEAF_NOTE), *warnings(lesson)]


def why_gradients(lesson: GraphLesson) -> list[tuple[str, str]]:
    """('markdown', …) for each leaf's chain rule with its numbers, then whether w.grad == x, and why."""
    said = [("markdown", paragraph) for paragraph in explanations(lesson)]
    if torch.equal(lesson.w.grad, lesson.x):
        return said + [("success", "Here **w.grad == x** exactly: y is linear in w (y = x₀w₀ + … + x₄w₄ + b), so "
                                   "∂y/∂wᵢ = xᵢ.")]
    return said + [("info", f"Here w.grad ≠ x: `{lesson.expression.text}` multiplies x by the factors above.")]


def classic_after_note(error: str | None) -> str:
    """Why torchviz fails after backward(), with torchviz's own words."""
    return (f"torchviz's `make_dot(y, show_saved=True)` raised RuntimeError: *{error}* backward() frees the tensors "
            "each node saved as soon as the node has run — our graph marks them *freed* instead of reading them. "
            "Use `backward(retain_graph=True)` to keep them.")


def gradcheck_intro(report: GradcheckReport) -> str:
    """What the gradcheck table compares, and its rule."""
    return (f"Autograd's Jacobian against central finite differences (eps = {report.eps:g}) in float64; PASS when "
            f"|diff| ≤ {report.atol:g} + {report.rtol:g}·|numeric| everywhere (gradcheck's rule).")


def gradcheck_html(report: GradcheckReport) -> str:
    """One row per leaf: autograd's Jacobian, the finite differences, the largest difference, the verdict."""
    return svgplot.table(pd.DataFrame([leaf.as_row() for leaf in report.leaves]), "graph-gradcheck")


def gradcheck_verdict(report: GradcheckReport) -> list[tuple[str, str]]:
    """('success' | 'error' | 'warning', what torch.autograd.gradcheck says and whether that means anything), then
    ('caption', why a FAIL is not always autograd's fault)."""
    said = "PASS" if report.torch_gradcheck else "FAIL"
    if report.nonfinite:
        verdict = ("warning", f"Not checkable: the function or its gradient is **{report.nonfinite}** at this input, "
                              "so neither PASS nor FAIL means anything (torch.autograd.gradcheck reports "
                              f"{said}). See what made it above.")
    else:
        verdict = ("success" if report.torch_gradcheck else "error",
                   f"torch.autograd.gradcheck on the same function: {said}")
    return [verdict, ("caption", GRADCHECK_CAVEAT)]


def readable_dot(dot: str | None) -> str | None:
    """torchviz's DOT with a white page and black text, so it reads the same in the dark theme."""
    if dot is None:
        return None
    dot = dot.replace("fontname=monospace", "fontname=Courier")  # a font whose metrics graphviz knows: text fits
    return dot.replace("{", "{\n\tbgcolor=white\n\tnode [fontcolor=black]\n\tedge [color=black]", 1)


MLP_INTRO = ("A model's loss has far more nodes. Collapse each `nn.Module` to one node (expand the ones you want to "
             "see inside), hide bookkeeping nodes, and cap how many nodes the browser lays out.")


@dataclass
class MlpOptions:
    """What the learner chose for the MLP graph."""
    layers: int
    hidden: int
    collapse: bool
    hide_accumulate: bool
    hide_views: bool
    max_nodes: int
    after_backward: bool


def mlp_run(frame: pd.DataFrame, options: MlpOptions, device: str) -> tuple[torch.Tensor, dict[str, torch.Tensor],
                                                                          dict[str, str]]:
    """A fresh MLP's loss on lagged candles (after backward() when asked): the loss, the named parameters, and the
    modules a graph can draw as one box (name → 'name: Type')."""
    loss, params, model = tagged_mlp_loss(frame, hidden=options.hidden, layers=options.layers, device=device,
                                          backward=options.after_backward)
    return loss, params, leaf_modules(model)


def mlp_graph(loss: torch.Tensor, params: dict[str, torch.Tensor], options: MlpOptions,
              expand: list[str]) -> tuple[list[tuple[str, str]], str]:
    """The MLP loss's graph as the options ask: ('warning' | 'caption', …) for what was left out (a warning when the
    node cap cut it), then the caption (nodes in all, nodes drawn, the loss); and the graph as DOT."""
    graph = build_graph(loss, params, output_name="loss", collapse=options.collapse, expand=set(expand),
                        hide_accumulate=options.hide_accumulate, hide_views=options.hide_views,
                        max_nodes=options.max_nodes)
    said = [("warning" if "only the" in note else "caption", note) for note in graph.notes]
    caption = f"{graph.total_nodes} nodes in the full graph · {len(graph.nodes)} drawn · loss = {loss.item():.4f}"
    return said + [("caption", caption)], graph_to_dot(graph)
