"""The Graph page's widgets as data: each one's label, range and tooltip as the keyword arguments the page passes to
its st.* call, their first values, and the MLP widgets' values read back into MlpOptions."""
from __future__ import annotations

from collections.abc import Mapping

from explorer.autograd.lesson import DEFAULT_EXPRESSION
from explorer.autograd.views import MlpOptions

WIDTHS = [4, 8, 16, 32, 64]  # the MLP's hidden widths on offer
MLP_FIRST = {"graph_mlp_layers": 2, "graph_mlp_hidden": 16, "graph_mlp_cap": 150, "graph_mlp_collapse": True}
MLP_WIDGETS = (  # (the st.* function, its keyword arguments), one column each
    ("slider", dict(label="hidden layers", min_value=1, max_value=60, key="graph_mlp_layers",
                    help="Linear + ReLU blocks in the MLP.")),
    ("select_slider", dict(label="width", options=WIDTHS, key="graph_mlp_hidden",
                           help="Units per hidden layer (changes shapes, not the number of nodes).")),
    ("slider", dict(label="node cap", min_value=20, max_value=400, step=10, key="graph_mlp_cap",
                    help="At most this many nodes are drawn, the ones nearest the loss first.")),
    ("toggle", dict(label="after backward()", key="graph_mlp_backward",
                    help="Run loss.backward() first: parameters show their grad, saved tensors are freed.")))
MLP_TOGGLES = (  # the drawing's options, a toggle each
    dict(label="one node per module", key="graph_mlp_collapse",
         help="Draw each nn.Module as one box; expand chosen ones below."),
    dict(label="hide AccumulateGrad", key="graph_mlp_hide_acc",
         help="Leave out the nodes that write .grad into each parameter."),
    dict(label="hide view / reshape nodes", key="graph_mlp_hide_views",
         help="Leave out shape bookkeeping (ViewBackward0, TBackward0, ...)."))


def first_values(n_rows: int) -> dict:
    """The lesson's inputs before the learner touches them: candle 100 (or the last), seed 0, the seed's y."""
    return {"graph_row": min(100, n_rows - 1), "graph_seed": 0, "graph_expr": DEFAULT_EXPRESSION}


def lesson_inputs(n_rows: int) -> dict[str, dict]:
    """The candle row, the seed for w and b, and the forward expression: each widget's keyword arguments, by key."""
    return {"graph_row": dict(label="candle row", min_value=0, max_value=n_rows - 1, key="graph_row",
                              help="Which candle is x: row i of the loaded data (open, high, low, close, volume)."),
            "graph_seed": dict(label="seed for w and b", min_value=0, max_value=2**31 - 1, key="graph_seed",
                               help="w and b are drawn from torch.randn with this seed: same seed, same numbers."),
            # no max_chars: the browser drops a whole paste that is longer (silently); the parser names the length
            "graph_expr": dict(label="forward expression (edit me)", key="graph_expr",
                               help="Any formula over x, w and b that ends in one number; Enter to run it.")}


def mlp_options(values: Mapping) -> MlpOptions:
    """The MLP widgets' values (by key) as MlpOptions."""
    return MlpOptions(values["graph_mlp_layers"], values["graph_mlp_hidden"], values["graph_mlp_collapse"],
                      values["graph_mlp_hide_acc"], values["graph_mlp_hide_views"], values["graph_mlp_cap"],
                      values["graph_mlp_backward"])


def expand_picker(modules: dict[str, str], collapse: bool) -> dict:
    """The 'expand modules' multiselect over the MLP's leaf modules (only while modules are collapsed)."""
    return dict(label="expand modules", options=list(modules), key="graph_mlp_expand", disabled=not collapse,
                format_func=modules.get, help="Modules drawn op by op instead of as one box.")
