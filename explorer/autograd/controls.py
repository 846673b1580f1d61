"""The Graph page's widgets as data (explorer/teaching/controls.py): the lesson's inputs, the view picker, torchviz's
toggles and the large graph's options, with what a copied link carries of them, and the MLP widgets' values read
back into MlpOptions."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from explorer.autograd.lesson import DEFAULT_EXPRESSION
from explorer.autograd.session import VIEWS
from explorer.autograd.steps import MAX_POSITION
from explorer.autograd.views import MlpOptions
from explorer.teaching.controls import SEED_MAX, Control, PageState
from explorer.teaching.shareable import Shared

WIDTHS = (4, 8, 16, 32, 64)  # the MLP's hidden widths on offer
LESSON_INPUTS = ("graph_row", "graph_seed", "graph_expr")
CLASSIC = {"fwd": "graph_classic", "bwd": "graph_classic_after"}  # torchviz's picture, by stepper: its toggle
MLP_WIDGETS = ("graph_mlp_layers", "graph_mlp_hidden", "graph_mlp_cap", "graph_mlp_backward")  # one column each
MLP_TOGGLES = ("graph_mlp_collapse", "graph_mlp_hide_acc", "graph_mlp_hide_views")  # the drawing's options


def graph_state(n_rows: int) -> PageState:
    """What the Graph page's link carries: row, seed, expression, both step positions, torchviz's toggles, the large
    graph's options, the view on screen and the inspected node."""
    return PageState((
        Control("number_input", "graph_row", "candle row", (0, n_rows - 1),
                "Which candle is x: row i of the loaded data (open, high, low, close, volume).",
                first=min(100, n_rows - 1)),
        Control("number_input", "graph_seed", "seed for w and b", (0, SEED_MAX),
                "w and b are drawn from torch.randn with this seed: same seed, same numbers.", first=0),
        # no max_chars: the browser drops a whole paste that is longer (silently); the parser names the length
        Control("text_input", "graph_expr", "forward expression (edit me)",
                help="Any formula over x, w and b that ends in one number; Enter to run it.",
                first=DEFAULT_EXPRESSION, max_len=300),
        Shared("graph_fwd_pos", "int", 0, MAX_POSITION), Shared("graph_bwd_pos", "int", 0, MAX_POSITION),
        Control("toggle", "graph_classic", "below it: torchviz's classic make_dot picture",
                help="torchviz's make_dot drawing of the same graph, for comparison."),
        Control("toggle", "graph_classic_after", "ask torchviz for the picture now, after backward()",
                help="torchviz reads the saved tensors, which backward() has already freed."),
        Control("slider", "graph_mlp_layers", "hidden layers", (1, 60), "Linear + ReLU blocks in the MLP.", first=2),
        Control("select_slider", "graph_mlp_hidden", "width", WIDTHS,
                "Units per hidden layer (changes shapes, not the number of nodes).", first=16),
        Control("slider", "graph_mlp_cap", "node cap", (20, 400),
                "At most this many nodes are drawn, the ones nearest the loss first.", first=150, more={"step": 10},
                choices=tuple(range(20, 401, 10))),
        Control("toggle", "graph_mlp_backward", "after backward()",
                help="Run loss.backward() first: parameters show their grad, saved tensors are freed."),
        Control("toggle", "graph_mlp_collapse", "one node per module",
                help="Draw each nn.Module as one box; expand chosen ones below.", first=True),
        Control("toggle", "graph_mlp_hide_acc", "hide AccumulateGrad",
                help="Leave out the nodes that write .grad into each parameter."),
        Control("toggle", "graph_mlp_hide_views", "hide view / reshape nodes",
                help="Leave out shape bookkeeping (ViewBackward0, TBackward0, ...)."),
        Control("radio", "graph_view", "view", tuple(VIEWS),
                more={"format_func": VIEWS.get, "horizontal": True, "label_visibility": "collapsed"}),
        Shared("graph_node", "str", max_len=20)))


def first_values(state: PageState, mlp: bool = False) -> dict[str, Any]:
    """The first values of the lesson's inputs (candle 100 or the last, seed 0, the seed's y), or (`mlp`) of the
    large graph's options: those are given when its view first shows, so a link leaves them out until then."""
    return {key: value for key, value in state.firsts().items() if key.startswith("graph_mlp_") == mlp}


def mlp_options(values: Mapping) -> MlpOptions:
    """The MLP widgets' values (by key) as MlpOptions."""
    return MlpOptions(values["graph_mlp_layers"], values["graph_mlp_hidden"], values["graph_mlp_collapse"],
                      values["graph_mlp_hide_acc"], values["graph_mlp_hide_views"], values["graph_mlp_cap"],
                      values["graph_mlp_backward"])


def expand_picker(modules: dict[str, str], collapse: bool) -> dict:
    """The 'expand modules' multiselect over the MLP's leaf modules (only while modules are collapsed)."""
    return dict(label="expand modules", options=list(modules), key="graph_mlp_expand", disabled=not collapse,
                format_func=modules.get, help="Modules drawn op by op instead of as one box.")
