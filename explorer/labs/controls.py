"""The labs pages' widgets as data (explorer/teaching/controls.py): accumulation, retain_graph, modules."""
from __future__ import annotations

from typing import Any, MutableMapping

from explorer.labs.modules import INITS, MODELS
from explorer.labs.optimizer_lab import LEARNING_RATES
from explorer.labs.retain import PNL_VALUES, TRADING_LOSSES
from explorer.teaching.controls import SEED_MAX, Control, PageState
from explorer.teaching.shareable import Shared


# --- Gradient accumulation ----------------------------------------------------------------------------------------

ACC_TABS = ("x, w, b lab", "nn.Linear + optimizer", "micro-batches")
ACC_TAB_WIDGETS = ("acc_steps", "acc_zero_each", "acc_lr", "acc_mb_start", "acc_mb_size", "acc_mb_k")


def keep_tab_widgets(state: MutableMapping[str, Any]) -> None:
    """Only the open tab runs, and a widget not drawn in a run loses its value: each tab's widgets keep theirs."""
    state.update({key: state[key] for key in ACC_TAB_WIDGETS if key in state})


def accumulation_state(n_candles: int) -> PageState:
    """The row and seed, the open tab, the x, w, b lab's settings and clicks, the learning rate, the micro-batches."""
    return PageState((
        Control("number_input", "acc_row", "candle row (x)", (0, n_candles - 1),
                "Which candle is x: row i of the loaded data.", first=min(100, n_candles - 1)),
        Control("number_input", "acc_seed", "seed for w, b (and nn.Linear)", (0, SEED_MAX),
                "w and b (and the nn.Linear) are drawn with this seed: same seed, same numbers.", first=0),
        Shared("acc_tab", "str", choices=ACC_TABS),
        Control("number_input", "acc_steps", "N (steps per 'run N')", (1, 50),
                "How many forward + backward passes one click of 'run N steps' makes.", first=3),
        Control("toggle", "acc_zero_each", "zero after each step (seed cell 12: `w.grad.zero_(); b.grad.zero_()` in "
                "the loop)", help="Zero both grads right after each backward, as the seed's cell 12 does."),
        Shared("acc_history", "clicks", max_len=200),
        Control("select_slider", "acc_lr", "SGD learning rate", LEARNING_RATES,
                "torch.optim.SGD's lr: each step changes a weight by −lr × grad.", first=1e-4,
                more={"format_func": "{:.0e}".format}),
        # each row of a micro-batch needs a next close as its target: the batch starts two rows before the end
        Control("number_input", "acc_mb_start", "first row", (0, max(0, n_candles - 2)),
                "The batch starts at this candle row."),
        Control("number_input", "acc_mb_size", "batch size (rows)", (1, 512),
                "Rows in the full batch (each needs the next row's close as its target)."),
        Control("number_input", "acc_mb_k", "k micro-batches", (1, 64),
                "The batch is split into k parts; backward runs on each part's loss / k.")))


def microbatch_firsts(n_candles: int, row: int) -> dict[str, int]:
    """The micro-batch widgets' first values: the batch starts at the lab's row (or as late as it can)."""
    return {"acc_mb_start": min(row, max(0, n_candles - 2)), "acc_mb_size": 12, "acc_mb_k": 3}


# --- retain_graph -------------------------------------------------------------------------------------------------

RETAIN = PageState((
    Control("slider", "retain_pnl", "pnl", (-10.0, 10.0), "The trade's profit or loss: a new value builds a new "
            "graph. Try 0 with the seed's loss.", first=-3.0, more={"step": 0.5}, choices=PNL_VALUES),
    Control("radio", "retain_loss", "loss function", tuple(TRADING_LOSSES), "The seed's loss as written, its fix for "
            "pnl == 0, or the torch.where version.", more={"horizontal": True}),
    Control("toggle", "retain_retain", "retain_graph=True for the next call",
            help="Keep the saved tensors after the next call, so that another backward can run."),
    Shared("retain_calls", "clicks", max_len=50)))


# --- Modules and shapes -------------------------------------------------------------------------------------------

def modules_state(n_candles: int, window: int = 1) -> PageState:
    """Your own nn.Linear, the model and its candle window (which ends at a row at least `window` - 1), the shape
    explorer's shape, seed and index."""
    return PageState((
        Control("number_input", "modules_in", "in_features", (1, 8), first=4),
        Control("number_input", "modules_out", "out_features", (1, 8), first=2),
        Control("toggle", "modules_bias", "bias", first=True),
        Control("selectbox", "modules_init", "init", INITS, "How the weight (and bias) are filled.", first=INITS[0]),
        Control("radio", "modules_model", "model", MODELS, first=MODELS[0], more={"horizontal": True}),
        Control("slider", "modules_window", "candles per window", (1, 10), first=3),
        Control("slider", "modules_hidden", "hidden units", (2, 64), first=16),
        Control("number_input", "modules_end", "last candle row", (window - 1, n_candles - 1),
                "The window ends at this row of the loaded candles.", first=min(n_candles - 1, 100)),
        Control("text_input", "modules_shape", "shape", help="Up to 6 sizes, e.g. (3, 2, 4, 2) or 2, 3.",
                first="(3, 2, 4, 2)", more={"max_chars": 100}),
        Control("number_input", "modules_shape_seed", "seed", (0, SEED_MAX), first=0),
        Control("text_input", "modules_index", "index it", help="Integers, slices, ... and None, e.g. t[2, 1], "
                "t[..., 0], t[:, 1:3], t[None].", first="t[2]", more={"max_chars": 100})))
