"""The two seed notebooks, rebuilt cell by cell on the loaded candles, their mistakes fixed, as .ipynb downloads.

The candles are embedded in the seed's own file format (pipe-separated, no header, unix seconds), so each cell reads
like the seed's. Where a seed cell has a mistake the app teaches, the seed's line stays, commented out, next to the
fixed one, with a one-line note on why. Where the app has the cell as a lesson function (custom_trading_loss,
calc_preds, NeuralNetwork, the nn.Linear sidebar), the notebook takes its source. `torch.manual_seed(0)` is added
where the seed drew random numbers, so the numbers are the ones the app's guided path shows.
"""
from __future__ import annotations

import base64
import functools
import gzip
from typing import TYPE_CHECKING, Callable

from explorer.teaching.notebook import NEEDS, code, markdown, notebook_text
from explorer.teaching.source import source_of

if TYPE_CHECKING:  # the Home page imports this module for its buttons: pandas loads when a notebook is built
    import pandas as pd

FIELDS = ["open", "high", "low", "close", "volume"]
PLAIN_ROWS = 2_000  # above this many candles the text is embedded gzip + base64 (as the take-home scripts do)
ROW = 100  # the seed's row for x (Part B), or the last row of fewer candles


def seed_format(frame: pd.DataFrame) -> str:
    """The candles as the seed's file: `timestamp|open|high|low|close|volume`, unix seconds, no header."""
    import pandas as pd
    index = frame.index if frame.index.tz is None else frame.index.tz_convert("UTC").tz_localize(None)
    seconds = (index - pd.Timestamp(0)) // pd.Timedelta("1s")
    table = frame[FIELDS].set_axis(seconds, axis=0)
    return table.to_csv(sep="|", header=False)


def data_cell(frame: pd.DataFrame) -> str:
    """CANDLES: the seed's file as text (packed when long); read with pd.read_csv(io.StringIO(CANDLES), ...)."""
    text = seed_format(frame)
    if len(frame) <= PLAIN_ROWS:
        return f'import io\n\n# the loaded candles in the seed\'s file format\nCANDLES = """\\\n{text}"""'
    packed = base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()
    lines = "\n".join(f'    "{packed[i:i + 100]}"' for i in range(0, len(packed), 100))
    return ("import base64\nimport gzip\nimport io\n\n# the loaded candles in the seed's file format, packed\n"
            f"CANDLES = gzip.decompress(base64.b64decode(\n{lines}\n)).decode()")


def intro(title: str, frame: pd.DataFrame, source: str, what: str) -> list:
    return [markdown(f"# {title}\n\n{what} Rebuilt by Autograd Explorer on the loaded candles ({source}, "
                     f"{len(frame):,} rows, embedded below in the seed's file format). Where a seed cell has a "
                     "mistake the app teaches, the seed's line stays, commented out, next to the fix. "
                     f"`torch.manual_seed(0)` is added where the seed drew random numbers. *{NEEDS}*")]


def part_a(frame: pd.DataFrame) -> list:
    n = len(frame)
    return [
        code("import pandas as pd\nimport torch\nimport torch.nn as nn"),
        code(data_cell(frame)),
        markdown("# Part A: load Data"),
        code(f"# the seed: pd.read_csv('../data/BTCUSDT.csv', sep='|', nrows=1000, ...); here every loaded candle\n"
             f"data = pd.read_csv(io.StringIO(CANDLES), sep='|', nrows={n}, header=None, usecols=[0, 1, 2, 3, 4, 5], "
             "names=['timestamp', 'open', 'high', 'low', 'close', 'volume'])\nprint(data.head())"),
        code("data['timestamp'] = pd.to_datetime(data['timestamp'], unit='s')\n"
             "# data.set_index('timestamp', inplace=True)  # the seed's: pandas 3.1 deprecates inplace\n"
             "data = data.set_index('timestamp')\nprint(data)"),
        markdown("**Fixed:** under pandas 3 (copy-on-write) `data.values` can be a read-only view, and "
                 "`torch.from_numpy` warns that such a tensor must not be written; `to_numpy(copy=True)` gives torch "
                 "an array of its own."),
        code("# data_tensor = torch.from_numpy(data.values).to(torch.float32)  # the seed's\n"
             "data_tensor = torch.from_numpy(data.to_numpy(copy=True)).to(torch.float32)\nprint(data_tensor)"),
        code("data_tensor.dtype, data_tensor.shape, data_tensor.device"),
    ]


def part_b(frame: pd.DataFrame) -> list:
    row = min(ROW, len(frame) - 1)
    return [
        markdown("# Part B: Computational Graph Internals"),
        code(f"x = data_tensor[{row}].reshape(1, -1)\ntorch.manual_seed(0)  # added: the w and b of the app's Graph "
             "stop\nw = torch.randn_like(x, requires_grad=True)\nb = torch.randn(1, requires_grad=True)\n"
             "x.shape, w.shape, b.shape"),
        code("x, w, b"),
        code("y = x @ w.T + b\ny"),
        code("y.backward()\nw.grad, b.grad"),
        code("# added: dy/dw is x and dy/db is 1, exactly\n"
             "print('torch.equal(w.grad, x) and b.grad == 1:', torch.equal(w.grad, x) and b.grad.item() == 1.0)"),
        code("x, w, b"),
    ]


ACCUMULATE = """torch.manual_seed(0)  # added
w = torch.randn_like(x, requires_grad=True)
b = torch.randn(1, requires_grad=True)

for i in range(3):
    y = x @ w.T + b
    y.backward()

    print(w.grad, b.grad, '\\n')"""


def part_c() -> list:
    return [markdown("# Part C: Gradient Accumulation"), code(ACCUMULATE),
            code(ACCUMULATE + "\n\n    w.grad.zero_()\n    b.grad.zero_()")]


def part_d(frame: pd.DataFrame) -> list:
    config = {"data": {"file_path": "../data/BTCUSDT.csv", "separator": "|", "train_rows": len(frame),
                       "features": ["timestamp", "open", "high", "low", "close", "volume"]}}
    return [
        markdown("# Part D: Config-driven Architecture\n\nThe seed read this dictionary from `configs/configs.yaml` "
                 "with `yaml.safe_load`; it is written out here so the notebook needs only torch and pandas."),
        code(f"config = {config!r}\n\nprint(\"Loaded Config Dictionary:\")\nprint(config)\nprint(\"-\" * 30)\n\n"
             "file_path = io.StringIO(CANDLES)  # the embedded candles in place of config['data']['file_path']\n"
             "sep = config['data']['separator']\nnrows = config['data']['train_rows']\n"
             "cols = config['data']['features']\n\ndata = pd.read_csv(\n    file_path,\n    sep=sep,\n    nrows=nrows,\n"
             "    header=None,\n    usecols=[0, 1, 2, 3, 4, 5],\n    names=cols\n)\n\nprint(data.head())"),
    ]


def part_e() -> list:
    from explorer.labs.retain import custom_trading_loss
    return [
        markdown("# Part E: retain_graph\n\n(`custom_trading_loss` leaves `pnl == 0` in neither branch: see the "
                 "app's retain_graph page.)"),
        code(source_of(custom_trading_loss)),
        code("pnl1 = torch.tensor([4.0], requires_grad=True)\n\ny1 = custom_trading_loss(pnl1)\ny1.backward()\npnl1.grad"),
        code("pnl2 = torch.tensor([-3.0], requires_grad=True)\n\ny2 = custom_trading_loss(pnl2)\ny2.backward()\n"
             "pnl2.grad"),
        markdown("The seed's next cell stopped with this RuntimeError; here it is caught and printed, so the notebook "
                 "runs from top to bottom."),
        code("try:\n    y2.backward()\nexcept RuntimeError as exc:\n    print(f'RuntimeError: {exc}')"),
        code("pnl2 = torch.tensor([-3.0], requires_grad=True)\n\ny2 = custom_trading_loss(pnl2)\n"
             "y2.backward(retain_graph=True)\npnl2.grad"),
        code("y2.backward()\npnl2.grad"),
    ]


def seed_notebook_1(frame: pd.DataFrame, source: str) -> str:
    """The first seed notebook, Parts A-E, on these candles (.ipynb text)."""
    return notebook_text(intro("Seed notebook 1, rebuilt: Parts A–E", frame, source,
                               "Load candles into pandas and a float32 tensor, autograd's graph, gradient "
                               "accumulation, a config, retain_graph.")
                         + part_a(frame) + part_b(frame) + part_c() + part_d(frame) + part_e())


SHIFTED = ["open", "high", "low", "close", "vol"]


def linear_model(frame: pd.DataFrame) -> list:
    items = [f"{c}_s{k}" for k in (3, 2, 1) for c in SHIFTED] + SHIFTED
    return [
        code("import pandas as pd\nimport torch\nfrom torch import tensor"),
        code(data_cell(frame)),
        markdown("## import data and shift it"),
        code("# the seed: pd.read_csv('.../btcusdt-2023-6_9.csv', index_col=0).reset_index(drop=True)\n"
             "df = pd.read_csv(io.StringIO(CANDLES), sep='|', header=None,\n"
             "                 names=['time', 'open', 'high', 'low', 'close', 'vol'])\n\nprint(df.shape)\ndf.head(3)"),
        code("# shift data 3 times, so that in one row there is information on the last 3 candles\n"
             "# therefore: the original candle data is the target data\n\ndf_s1 = df.shift(1).add_suffix(\"_s1\")\n"
             "df_s2 = df.shift(2).add_suffix(\"_s2\")\ndf_s3 = df.shift(3).add_suffix(\"_s3\")\n\nprint(df_s3.shape)\n"
             "df_s3.head(3)"),
        code("df_merge = pd.concat([df_s3, df_s2, df_s1, df], axis=1)\nprint(df_merge.shape)\ndf_merge.head(5)"),
        code(f"# do not use the time columns\n\ndf_train = df_merge.filter(items={items!r}).dropna()\n"
             "print(df_train.shape)\ndf_train.head(3)"),
        markdown("## dep, indep & weights\n\nPredict the high from the previous three candles (and this one's "
                 "open, low, close and volume)."),
        code("t_dep = tensor(df_train['high'].values, dtype=torch.float)\nprint(t_dep.shape)  # 1 D tensor\nt_dep"),
        code("t_indep = tensor(df_train.loc[:, df_train.columns != \"high\"].values, dtype=torch.float)\n\n"
             "t_indep.shape  # 2 D tensor > rows with observations and columns with features"),
        markdown("**Fixed:** `n, c = t_indep.shape` makes `n` the number of *rows*: Xavier scales by the fan-in "
                 "(`c` inputs per output), and `torch.zeros(n)` was one bias per row instead of one bias."),
        code("import math\n\nn, c = t_indep.shape\n\ntorch.manual_seed(0)  # added\n"
             "# weights = torch.randn(c) / math.sqrt(n)  # the seed's: n is the number of rows\n"
             "weights = torch.randn(c) / math.sqrt(c)\nweights.requires_grad_()\n"
             "# bias = torch.zeros(n, requires_grad=True)  # the seed's: one bias per row\n"
             "bias = torch.zeros(1, requires_grad=True)\nprint(f'weights.std() = {weights.std():.4f}')  # added\n"
             "weights.shape"),
        code("t_indep*weights"),
        code("# coefficients = weights\n# make them from -0.5 to 0.5 from a uniform distribution\n"
             "torch.manual_seed(0)  # added: the coeffs of the app's seed lessons\n"
             "coeffs = torch.rand(t_indep.shape[1]) - 0.5\n\nprint(coeffs.shape)\ncoeffs"),
        code("(t_indep*coeffs)[0]"),
        markdown("## making the first prediction"),
        code("preds = (t_indep*coeffs).sum(axis=1)\nprint(preds.shape)  # 1d vector of predictions\npreds[0]"),
    ]


def losses() -> list:
    from explorer.training.models import calc_loss, calc_preds
    return [
        markdown("## losses\n\n**Fixed:** `F.cross_entropy` reads its input as class scores and its target as "
                 "classes, not prices; and the seed's `loss_mae` was overwritten by the MSE, so both prints showed "
                 "the MSE."),
        code("import torch.nn.functional as F\n"
             "# loss_ce = F.cross_entropy(preds, t_dep)  # the seed's: cross-entropy is for classes, not prices\n"
             "loss_mae = F.l1_loss(preds, t_dep)\n# loss_mae = F.mse_loss(preds, t_dep)  # the seed's: overwrote the "
             "MAE\nloss_mse = F.mse_loss(preds, t_dep)\n\nprint(\"mean absolute error:\", loss_mae)\n"
             "print(\"mean squared error:\", loss_mse)"),
        markdown("## gradients & learning rate\n\n**Fixed:** the loss is the MSE (not `nn.CrossEntropyLoss` on "
                 "prices), and the gradient is cleared before the second `backward()`: backward adds onto "
                 "`coeffs.grad`, so the seed's second call doubled it."),
        code("coeffs.requires_grad_()"),
        code("from torch import nn\n\n# cel = nn.CrossEntropyLoss()  # the seed's: cross-entropy on prices\n"
             "cel = nn.MSELoss()\n\npreds = (t_indep*coeffs.requires_grad_()).sum(axis=1)\n\nloss = cel(preds, t_dep)\n"
             "print(loss)\nloss.backward(retain_graph=True)\n\ngradients = coeffs.grad\nprint(gradients)"),
        code("coeffs.grad = None  # added: what optimizer.zero_grad() does; the seed's gradient doubled here\n"
             "loss.backward(retain_graph=True)\nprint(coeffs.grad)"),
        code(source_of(calc_preds)),
        code(source_of(calc_loss)),
        code("preds = calc_preds(coeffs, t_indep)\nloss = calc_loss(coeffs, t_indep, t_dep)  # mean absolute error\n"
             "loss"),
    ]


def modules_and_shapes() -> list:
    from explorer.labs.modules import NeuralNetwork, seed_flatten, seed_input_image, seed_linear
    return [
        markdown("# pytorch beginner tutorial\n\nhttps://pytorch.org/tutorials/beginner/nn_tutorial.html"),
        code("torch.manual_seed(0)  # added\nxb = torch.randn(64, 784)\nweights = torch.randn(784, 10)"),
        code("pred = xb@weights\npred.shape"),
        code("print(xb.shape)\nprint(weights.shape)"),
        markdown("# pytorch basics tutorial\n\nhttps://pytorch.org/tutorials/beginner/basics/buildmodel_tutorial.html"),
        code(source_of(NeuralNetwork)),
        code("torch.manual_seed(0)  # added\nmodel = NeuralNetwork()\nprint(model)"),
        markdown("**Fixed:** the seed used `device` without defining it (NameError); the tutorial's first cell "
                 "defines it, and the model goes there too."),
        code("# X = torch.rand(1, 28, 28, device=device)  # the seed's: `device` was never defined\n"
             "device = \"cuda\" if torch.cuda.is_available() else \"cpu\"\nmodel = model.to(device)\n"
             "X = torch.rand(1, 28, 28, device=device)\nlogits = model(X)\npred_probab = nn.Softmax(dim=1)(logits)\n"
             "y_pred = pred_probab.argmax(1)\nprint(f\"Predicted class: {y_pred}\")"),
        code("softmax = nn.Softmax(dim=1)\npred_probab = softmax(logits)"),
        markdown("### Sidebar: nn.Linear"),
        code(source_of(seed_input_image)),
        code("input_image = seed_input_image()\nprint(input_image.size())\ninput_image"),
        code(source_of(seed_flatten)),
        code("flat_image = seed_flatten(input_image)\nprint(flat_image.size())\nflat_image"),
        code("import torch.nn.init as init\n\n" + source_of(seed_linear)),
        code("layer1, linear_layer, by_hand = seed_linear(flat_image)\nw = layer1.weight\n"
             "print(f\"\\nlinear layer shape:{linear_layer.size()}\")\n"
             "print(f\"\\nweight shape:{w.shape} = [out_features,in_features]\")\n"
             "print(\"\\nlinear layer weights:\\n\", w)\nprint(f\"\\ny=output = \\n{linear_layer}\")\n"
             "print('\\ntorch.equal(flat_image @ w.T, linear_layer):', torch.equal(by_hand, linear_layer))  # added\n"
             "# output should be:\nflat_image@w.T"),
        markdown("$y = xW^T + b$: nn.Linear's weight has the shape [out_features, in_features]."),
        markdown("## sidebar: tensors"),
        code("torch.manual_seed(0)  # added\ntest = torch.randn(3, 2, 4, 2)\nprint(test.shape)\ntest"),
        code("# the first layer of the tensor consists of three elements of which the third is printed\n"
             "# this third element of the first layer has 2 elements which contain 4 elements which in turn contain 2\n"
             "# the last two form then the vector as printed in the brackets\ntest[2]"),
    ]


def seed_notebook_2(frame: pd.DataFrame, source: str) -> str:
    """The second seed notebook: the linear model, losses, nn.Linear anatomy and tensor shapes (.ipynb text)."""
    return notebook_text(intro("Seed notebook 2, rebuilt: a linear model from scratch, nn.Linear and shapes", frame,
                               source, "Three lagged candles predict the next high with a linear model written by "
                               "hand; its losses and gradients; then nn.Linear's anatomy and tensor shapes.")
                         + linear_model(frame) + losses() + modules_and_shapes())


SEED_NOTEBOOKS = (  # (button label, file name, builder, tooltip): the Home page's downloads
    ("Seed notebook 1, rebuilt (.ipynb)", "seed_notebook_1_parts_a_e.ipynb", seed_notebook_1,
     "The first seed notebook, Parts A–E, rebuilt cell by cell on the loaded candles, its mistakes fixed (the "
     "seed's line kept beside the fix, commented out). Needs only torch, pandas and Jupyter."),
    ("Seed notebook 2, rebuilt (.ipynb)", "seed_notebook_2_linear_model.ipynb", seed_notebook_2,
     "The second seed notebook: the linear model from scratch, its losses, nn.Linear's anatomy and tensor shapes, "
     "rebuilt on the loaded candles with its mistakes fixed. Needs only torch, pandas and Jupyter."))


def notebook_downloads(frame: pd.DataFrame, source: str) -> list[tuple[str, str, Callable[[], str], str]]:
    """The Home page's download buttons: label, file name, the notebook on these candles (built when clicked, not
    on every run), tooltip."""
    return [(label, file, functools.partial(build, frame, source), tip) for label, file, build, tip in SEED_NOTEBOOKS]
