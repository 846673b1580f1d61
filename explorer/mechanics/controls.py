"""The mechanics pages' widgets as data (explorer/teaching/controls.py): Autograd errors, Gradient flow, Hooks and
higher order. Keys, labels, ranges, options and first values are the ones the pages declared by hand before."""
from __future__ import annotations


from explorer.mechanics import errors as er, flow, tools
from explorer.teaching.controls import SEED_MAX, Control, PageState


def errors_state(n_candles: int) -> PageState:
    """Which error, the candle row x ends at, and w's seed."""
    return PageState((
        Control("radio", "errors_view", "error", tuple(er.ERRORS),
                "Each view opens on the broken code with PyTorch's message, next to the fix.", first=er.FIRST,
                more={"format_func": er.label, "horizontal": True}),
        Control("number_input", "errors_row", "last candle row", (er.FIRST_ROW, n_candles - 1),
                "x holds the moves of this candle and the three before it.", first=min(100, n_candles - 1)),
        Control("number_input", "errors_seed", "seed for w", (0, SEED_MAX),
                "w is drawn from torch.randn with this seed: same seed, same numbers.", first=0)))


FLOW = PageState((
    Control("slider", "flow_depth", "layers", (1, 20), flow.HELP["depth"], first=10),
    Control("radio", "flow_activation", "activation", flow.ACTIVATIONS, flow.HELP["activation"], first="sigmoid"),
    Control("radio", "flow_init", "init", tuple(flow.INITS), flow.HELP["init"], first="pytorch_default",
            more={"format_func": flow.INITS.get}),
    Control("select_slider", "flow_steps", "training steps", flow.STEPS, flow.HELP["steps"], first=100)))


def tools_state(n_candles: int) -> PageState:
    """Which lesson, and the candle it runs on."""
    return PageState((
        Control("radio", "tools_view", "lesson", tuple(tools.VIEWS), first="hooks",
                more={"format_func": tools.VIEWS.get, "horizontal": True}),
        Control("number_input", "tools_row", "candle row", (0, n_candles - 1), tools.ROW_HELP,
                first=min(100, n_candles - 1))))
