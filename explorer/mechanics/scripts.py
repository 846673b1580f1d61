"""Take-home scripts of the mechanics lessons: each lesson's source (as it ran) plus a tiny driver that prints what
the page printed, with the inputs embedded exactly (float64 as float.hex, the candles as round-trip CSV)."""
from __future__ import annotations

import torch

from explorer.mechanics import flow, tools
from explorer.teaching.source import lesson_source
from explorer.teaching.parts import TakeHome, read_candles
from explorer.training import features

HEADER = '"""{title}\n\nTaken home from Autograd Explorer. Needs only torch and pandas: python {file}\n"""\n'
TOOL_PARTS = {
    "hooks": (tools.hooks_lesson, tools.hook_on_a_constant),
    "higher": (tools.second_derivative, tools.second_derivative_without_create_graph, tools.hessian_of_tanh),
    "function": (tools.LogReturn, tools.LogReturnSignBug, tools.log_return_lesson, tools.check_function),
    "anomaly": (tools.volatility, tools.volatility_in_anomaly_mode),
}
REFUSED = "try:\n    {call}\nexcept RuntimeError as exc:\n    print(f\"{{type(exc).__name__}}: {{exc}}\")\n"
TOOL_DRIVERS = {
    "hooks": 'y, w, b, fired = hooks_lesson(x)\nfor i, (where, grad) in enumerate(fired, start=1):\n'
             '    print(f"{i}. {where:<22} grad = {grad.item():.6f}")\nprint(f"w.grad = {w.grad.item():.6f}")\n'
             'print(f"b.grad = {b.grad.item():.6f}")\n' + REFUSED.format(call="hook_on_a_constant(x)"),
    "higher": 'x_leaf, dy_dx, d2y_dx2 = second_derivative(x)\nprint(f"dy/dx        = {dy_dx.item():.10f}")\n'
              'print(f"d²y/dx²      = {d2y_dx2.item():.10f}")\n'
              'print(f"hessian(...) = {hessian_of_tanh(x).item():.10f}")\n'
              + REFUSED.format(call="second_derivative_without_create_graph(x)"),
    "function": 'r, last_leaf, first_leaf = log_return_lesson(last, first)\n'
                'print(f"r = log(last / first) = {r.item():.10f}")\n'
                'print(f"last.grad  = {last_leaf.grad.item():.6e}")\n'
                'print(f"first.grad = {first_leaf.grad.item():.6e}")\n'
                'print("gradcheck(LogReturn.apply, ...) ->", check_function(LogReturn, last, first))\n'
                + REFUSED.format(call="check_function(LogReturnSignBug, last, first)"),
    "anomaly": 'vol, prices_leaf = volatility(prices)\nprint("vol =", vol.item())\n'
               'print("prices.grad =", prices_leaf.grad.tolist())\n'
               + REFUSED.format(call="volatility_in_anomaly_mode(prices)"),
}


def exact(value: torch.Tensor) -> str:
    """A float64 tensor as source that rebuilds it bit for bit."""
    values = [f"float.fromhex({v.hex()!r})" for v in value.flatten().tolist()]
    inside = values[0] if value.dim() == 0 else "[" + ", ".join(values) + "]"
    return f"torch.tensor({inside}, dtype=torch.float64)"


def tools_script(view: str, shown: tools.ToolView) -> str:
    """The view's lessons, its inputs and a driver that prints the page's numbers and PyTorch's refusal."""
    inputs = "".join(f"{name} = {exact(value)}\n" for name, value in shown.inputs.items())
    return (HEADER.format(title=f"Autograd tools: {tools.VIEWS[view]}.", file=f"autograd_{view}.py") +
            "import torch\n" + lesson_source(*TOOL_PARTS[view]) + inputs + TOOL_DRIVERS[view])


def tools_takehome(view: str, shown: tools.ToolView) -> TakeHome:
    """The download of one view of the Hooks and higher order page."""
    return TakeHome(f"tools_{view}_takehome", lambda: tools_script(view, shown), f"autograd_{view}.py",
                    "A plain script (torch only): these lessons on this candle, printing what the page shows and "
                    "PyTorch's own message for the broken call.")


FEATURE_PARTS = (features.lagged_windows, features.target_series, features.log_return_frame,
                 features.log_return_target, features.feature_table, features.split_point, features.fit_scaler,
                 features.build_features)
FLOW_IMPORTS = ("import io\nimport math\n\nimport numpy as np\nimport pandas as pd\nimport torch\n"
                "import torch.nn.functional as F\nfrom torch import nn\n")


def flow_script(run: flow.FlowRun, candles) -> str:
    """The candles the page used, the features as the app builds them, the seeded MLP, its norms at init, the
    steps it took and its norms after them."""
    s, spec = run.settings, flow.FEATURES
    csv = candles.iloc[:spec.rows].to_csv(index_label="timestamp")
    return (HEADER.format(title=f"Gradient flow: {s.depth} layers, {s.activation}, init {s.init}, {run.done} SGD "
                                f"steps (lr {flow.LR}).", file="gradient_flow.py") + FLOW_IMPORTS +
            f'\nCANDLES = io.StringIO("""\\\n{csv}""")\n' + lesson_source(read_candles, *FEATURE_PARTS) +
            lesson_source(flow.make_deep_mlp, flow.layer_grad_norms, flow.train_steps) +
            f"data = build_features(read_candles(CANDLES), {list(spec.columns)!r}, {spec.lags}, {spec.target!r}, "
            f"{spec.normalisation!r}, {spec.validation_fraction!r})\nx, y = data['x_train'], data['y_train']\n"
            f"torch.manual_seed({s.seed})\nmodel = make_deep_mlp(x.shape[1], {s.depth}, {s.activation!r}, "
            f"{s.init!r}, len(x))\nprint('at init:', layer_grad_norms(model, x, y))\n"
            f"optimizer = torch.optim.SGD(model.parameters(), lr={flow.LR!r})\n"
            f"train_steps(model, optimizer, x, y, {run.done})\n"
            f"print('after {run.done} steps:', layer_grad_norms(model, x, y))\n")


def flow_takehome(run: flow.FlowRun, candles) -> TakeHome:
    """The Gradient flow page's download (built on click: it embeds the candles)."""
    return TakeHome("flow_takehome", lambda: flow_script(run, candles), "gradient_flow.py",
                    "A plain script (torch + pandas): the candles, the features, this MLP and the steps taken, "
                    "printing each layer's gradient norm at init and now.")
