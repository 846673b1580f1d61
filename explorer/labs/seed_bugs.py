"""The second seed notebook's own mistakes, each run live next to its fix (on the loaded candles).

The lessons are short top-level functions the page shows with inspect.getsource: the seed's code as written, then
the fixed code. The instruments at the end run them and put what they give into words and tables.
"""
from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass, replace
from typing import Callable

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from explorer import svgplot
from explorer.labs.modules import NeuralNetwork
from explorer.teaching.questions import raw_price_loss
from explorer.teaching.quiz import Question


def seed_tables(df: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """Seed cells 2–9: three lagged candles plus the current one; 'high' is the target, the 19 others the inputs."""
    df = df[["open", "high", "low", "close", "volume"]].reset_index(drop=True)
    parts = [df.shift(k).add_suffix(f"_s{k}") for k in (3, 2, 1)]
    df_train = pd.concat([*parts, df], axis=1).dropna()
    t_dep = torch.tensor(df_train["high"].to_numpy(), dtype=torch.float)
    t_indep = torch.tensor(df_train.loc[:, df_train.columns != "high"].to_numpy(), dtype=torch.float)
    return t_indep, t_dep


def seed_coeffs(c: int, seed: int = 0) -> torch.Tensor:
    """Seed cell 13: coefficients between -0.5 and 0.5 (seeded here)."""
    coeffs = torch.rand(c, generator=torch.Generator().manual_seed(seed)) - 0.5
    return coeffs


# --- 1. a bias per row -----------------------------------------------------------------------------------------

def seed_bias(t_indep: torch.Tensor) -> torch.Tensor:
    """Seed cell 10 as written: n is the number of ROWS, so this is one bias per row."""
    n, c = t_indep.shape
    bias = torch.zeros(n, requires_grad=True)
    return bias


def fixed_bias(t_indep: torch.Tensor) -> torch.Tensor:
    """One bias for the whole model, shared by every row."""
    bias = torch.zeros(1, requires_grad=True)
    return bias


def best_loss_with_bias(preds: torch.Tensor, t_dep: torch.Tensor, bias: torch.Tensor) -> float:
    """The lowest MSE the bias alone can reach: per row it copies each residual, a single one takes their mean."""
    residual = (t_dep - preds).detach()
    best = residual if bias.numel() == len(t_dep) else residual.mean().reshape(1)
    return F.mse_loss(preds + best, t_dep).item()


def bias_on_new_rows(new_preds: torch.Tensor, bias: torch.Tensor) -> str:
    """Adding the bias to predictions for rows it has not seen: the per-row one does not even fit."""
    try:
        return f"works: shape {list((new_preds + bias).shape)}"
    except RuntimeError as exc:
        return f"RuntimeError: {exc}"


# --- 2. the mislabelled MAE ------------------------------------------------------------------------------------

def seed_losses(preds: torch.Tensor, t_dep: torch.Tensor) -> str:
    """Seed cell 17 as written: loss_mae is overwritten by the MSE, so 'mean absolute error' prints the MSE."""
    loss_mae = F.l1_loss(preds, t_dep)
    loss_mae = F.mse_loss(preds, t_dep)
    return f"mean absolute error: {loss_mae}\nmean squared error: {loss_mae}"


def fixed_losses(preds: torch.Tensor, t_dep: torch.Tensor) -> str:
    """One name per loss: the MAE is in price units, the MSE in price units squared."""
    loss_mae = F.l1_loss(preds, t_dep)
    loss_mse = F.mse_loss(preds, t_dep)
    return f"mean absolute error: {loss_mae}\nmean squared error: {loss_mse}"


# --- 3. "Xavier" with the number of rows -----------------------------------------------------------------------

def seed_xavier(n: int, c: int, generator: torch.Generator) -> torch.Tensor:
    """Seed cell 10: 'Xavier initialisation (multiplying with 1/sqrt(n))', with n the number of rows."""
    weights = torch.randn(c, generator=generator) / math.sqrt(n)
    return weights


def fixed_xavier(n: int, c: int, generator: torch.Generator) -> torch.Tensor:
    """Scale by the fan-in, the number of inputs each output sums (c features), not by how many rows there are."""
    weights = torch.randn(c, generator=generator) / math.sqrt(c)
    return weights


def output_spread(weights: torch.Tensor, n: int, seed: int = 1) -> float:
    """The std of x @ weights for standardised inputs (n rows of unit-variance features): ≈ 1 when scaled right."""
    x = torch.randn(n, len(weights), generator=torch.Generator().manual_seed(seed))
    return (x @ weights).std().item()


# --- 4. backward twice with retain_graph ----------------------------------------------------------------------

def seed_loss(t_indep: torch.Tensor, t_dep: torch.Tensor, coeffs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Seed cell 20: the coefficients as a leaf, and the seed's cross-entropy loss of the predictions."""
    coeffs = coeffs.clone().requires_grad_()
    cel = nn.CrossEntropyLoss()
    preds = (t_indep * coeffs).sum(axis=1)
    loss = cel(preds, t_dep)
    return coeffs, loss


def seed_backward_twice(t_indep: torch.Tensor, t_dep: torch.Tensor, coeffs: torch.Tensor) -> tuple[float, float]:
    """Seed cells 20–21: backward(retain_graph=True) twice on the same loss; coeffs.grad[0] after each."""
    coeffs, loss = seed_loss(t_indep, t_dep, coeffs)
    loss.backward(retain_graph=True)
    first = coeffs.grad[0].item()
    loss.backward(retain_graph=True)
    return first, coeffs.grad[0].item()


def fixed_backward_twice(t_indep: torch.Tensor, t_dep: torch.Tensor, coeffs: torch.Tensor) -> tuple[float, float]:
    """Clear the gradient before each backward (what optimizer.zero_grad() does): the second one is not doubled."""
    coeffs, loss = seed_loss(t_indep, t_dep, coeffs)
    loss.backward(retain_graph=True)
    first = coeffs.grad[0].item()
    coeffs.grad = None
    loss.backward(retain_graph=True)
    return first, coeffs.grad[0].item()


# --- 5. the undefined `device` ---------------------------------------------------------------------------------

def seed_predict(model: NeuralNetwork) -> torch.Tensor:
    """The seed's cell as written: `device` is used but no cell defines it."""
    X = torch.rand(1, 28, 28, device=device)  # noqa: F821 - the seed's mistake, kept: this raises NameError
    logits = model(X)
    return nn.Softmax(dim=1)(logits).argmax(1)


def fixed_predict(model: NeuralNetwork) -> torch.Tensor:
    """Define the device first (the tutorial's own first cell), and put the model there too."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = model.to(device)
    X = torch.rand(1, 28, 28, device=device)
    logits = model(X)
    return nn.Softmax(dim=1)(logits).argmax(1)


def run_seed_predict(model: NeuralNetwork) -> str:
    """The error Python really raises when the seed's cell runs."""
    try:
        seed_predict(model)
    except NameError as exc:
        return f"NameError: {exc}"
    return "no error"  # pragma: no cover - only if someone defines a module-level `device`


# --- 6. the read-only NumPy array of pandas 3 ------------------------------------------------------------------

_WARN_LOCK = threading.Lock()


def seed_read(path: str) -> pd.DataFrame:
    """Seed 1, cells 2–3: the pipe-separated candle file, timestamps as the index (set_index without inplace,
    which pandas 3.1 deprecates)."""
    data = pd.read_csv(path, sep="|", nrows=1000, header=None, usecols=[0, 1, 2, 3, 4, 5],
                       names=["timestamp", "open", "high", "low", "close", "volume"])
    data["timestamp"] = pd.to_datetime(data["timestamp"], unit="s")
    data = data.set_index("timestamp")
    return data


def seed_from_numpy(data: pd.DataFrame) -> torch.Tensor:
    """Seed 1, cell 4 as written: torch.from_numpy shares the array's memory, so it must be writable."""
    data_tensor = torch.from_numpy(data.values).to(torch.float32)
    return data_tensor


def one_block_from_numpy(data: pd.DataFrame) -> torch.Tensor:
    """The same cell after data.copy(): pandas 3 stores the columns as one block, and `.values` is then a
    read-only view of it (copy-on-write), so torch warns."""
    data = data.copy()
    data_tensor = torch.from_numpy(data.values).to(torch.float32)
    return data_tensor


def fixed_from_numpy(data: pd.DataFrame) -> torch.Tensor:
    """Ask pandas for a copy of its own: always a writable array, never a warning."""
    data_tensor = torch.from_numpy(data.to_numpy(copy=True)).to(torch.float32)
    return data_tensor


def values_writeable(data: pd.DataFrame) -> tuple[bool, bool]:
    """Is `.values` writable for the frame as read, and after .copy()? (pandas decides; torch only reads the flag)"""
    return bool(data.values.flags.writeable), bool(data.copy().values.flags.writeable)


def warnings_from(fn, *args) -> list[str]:
    """Every warning `fn(*args)` raises, as text. torch shows this one once per process (TORCH_WARN_ONCE), so
    torch.set_warn_always(True) is switched on around the call: the second learner sees it too."""
    with _WARN_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = torch.is_warn_always_enabled()
        torch.set_warn_always(True)
        try:
            fn(*args)
        finally:
            torch.set_warn_always(before)
    return [f"{w.category.__name__}: {w.message}" for w in caught]


# --- the instruments: each mistake run next to its fix, and what they give in words --------------------------------

@dataclass(frozen=True)
class SeedBug:
    """One of the seed's mistakes: its code and what it gives, beside the fix and what that gives."""
    title: str
    seed_fn: Callable
    seed_out: str
    fixed_fn: Callable
    fixed_out: str
    caption: str = ""
    note: str = ""  # shown above the two columns
    seed_title: str = "Seed, as written"
    lead: str = ""  # shown first, above the question
    question: Question | None = None  # predict first (in quiz mode), then see both sides
    more_code: tuple[Callable, ...] = ()  # lessons shown below, in 'The code that ran'
    link: tuple[str, str] | None = None  # (page, label): where the lesson goes on

    def sides(self) -> tuple[tuple[str, Callable, str], tuple[str, Callable, str]]:
        """(title, code, output) of the seed's side, then of the fix."""
        return (self.seed_title, self.seed_fn, self.seed_out), ("Fixed", self.fixed_fn, self.fixed_out)


BIAS_TITLE, BIAS_LINK = "bias per row", ("pages/training.py", "Training, with one bias →")
BIAS_CODE = (seed_bias, fixed_bias, best_loss_with_bias, bias_on_new_rows)
BIAS_NOTE = ("`n, c = t_indep.shape` makes **n the number of rows**, so `torch.zeros(n)` is one bias *per row*. "
             "With one free number per row the model can copy every row's error and reach a training loss of about 0 "
             "without learning anything — and a new candle has no bias of its own.")


def bias_report(t_indep: torch.Tensor, t_dep: torch.Tensor, preds: torch.Tensor) -> tuple[pd.DataFrame, str]:
    """Both biases: their shape, size and the lowest MSE each reaches; and what each does on 10 unseen rows."""
    rows, new_rows = [], []
    for fn in (seed_bias, fixed_bias):
        bias = fn(t_indep)
        rows.append({"code": fn.__name__, "bias.shape": str(list(bias.shape)), "parameters": bias.numel(),
                     "lowest training MSE the bias alone reaches": f"{best_loss_with_bias(preds, t_dep, bias):.4g}"})
        new_rows.append(f"{fn.__name__}: preds_new + bias → {bias_on_new_rows(preds[:10].detach(), bias)}")
    return pd.DataFrame(rows), "10 rows the model has not seen:\n" + "\n".join(new_rows)


def losses_bug(preds: torch.Tensor, t_dep: torch.Tensor) -> SeedBug:
    return SeedBug("MAE that is the MSE", seed_losses, seed_losses(preds, t_dep), fixed_losses,
                   fixed_losses(preds, t_dep), "The seed printed the MSE twice, once labelled MAE (2.4529e+08 both "
                   "times). The real MAE is in dollars; the MSE in dollars squared.")


def xavier_bug(n: int, c: int) -> SeedBug:
    seed_w = seed_xavier(n, c, torch.Generator().manual_seed(0))
    fixed_w = fixed_xavier(n, c, torch.Generator().manual_seed(0))
    return SeedBug("'Xavier' with rows", seed_xavier, f"n = {n:,} rows → weights.std() = {seed_w.std():.4f}\n"
                   f"std of x @ weights on unit-variance inputs: {output_spread(seed_w, n):.3f}",
                   fixed_xavier, f"c = {c} inputs (fan-in) → weights.std() = {fixed_w.std():.4f}\n"
                   f"std of x @ weights on unit-variance inputs: {output_spread(fixed_w, n):.3f}",
                   f"Xavier/Glorot scales by the layer's fan-in ({c} features) so outputs keep about unit variance; "
                   f"the number of rows ({n:,}) has nothing to do with one row's sum, and shrinks outputs toward 0.")


def backward_twice_bug(t_indep: torch.Tensor, t_dep: torch.Tensor, coeffs: torch.Tensor) -> SeedBug:
    runs = [fn(t_indep, t_dep, coeffs) for fn in (seed_backward_twice, fixed_backward_twice)]
    seed_out, fixed_out = (f"coeffs.grad[0]: {a:.4e} → {b:.4e} (×{b / a:g})" for a, b in runs)
    return SeedBug("doubled gradient", seed_backward_twice, seed_out, fixed_backward_twice, fixed_out,
                   "The seed: 9.5942e+11 → 1.9188e+12 in cells 20–21. `retain_graph=True` lets the second call "
                   "run; `backward()` adds, so the gradient doubles. See the Gradient accumulation page.")


def device_bug() -> SeedBug:
    model = NeuralNetwork()
    return SeedBug("undefined device", seed_predict, run_seed_predict(model), fixed_predict,
                   f"Predicted class: {fixed_predict(model)}")


def read_only_bug(path: str) -> SeedBug:
    """The read-only NumPy warning, captured now on the candle file as the seed read it."""
    data = seed_read(path)
    as_read, after_copy = values_writeable(data)
    outputs = {fn: "\n".join(warnings_from(fn, data)) or "no warning"
               for fn in (seed_from_numpy, one_block_from_numpy, fixed_from_numpy)}
    return SeedBug(
        "read-only NumPy", one_block_from_numpy, outputs[one_block_from_numpy], fixed_from_numpy,
        outputs[fixed_from_numpy], f"The seed's own cell on the file as read: {outputs[seed_from_numpy]}. torch prints "
        "this warning once per program; the app switches `torch.set_warn_always(True)` on around the call so every "
        "session sees it. The Data page copies (`to_numpy(copy=True)`), so its tensors never alias pandas.",
        f"On pandas {pd.__version__}, `.values` of the frame as `read_csv` built it is "
        f"{'writable' if as_read else 'read-only'} (each column its own block, so pandas assembles a new array); "
        f"after `data.copy()` it is {'writable' if after_copy else 'read-only'} (one block, and copy-on-write hands "
        "out a read-only view). torch's warning, captured now:", "The seed's cell, on a one-block frame")


def seed_bug_lessons(frame: pd.DataFrame, path: str) -> tuple[str, str, tuple[SeedBug, ...]]:
    """The seed's mistakes on the loaded candles (read from `path` by the read-only one): the bias per row as a light
    HTML table and what each bias does on new rows; then the others in the page's order, each with what the page
    shows around it."""
    t_indep, t_dep = seed_tables(frame)
    coeffs = seed_coeffs(t_indep.shape[1])
    preds = (t_indep * coeffs).sum(axis=1)
    table, new_rows = bias_report(t_indep, t_dep, preds)
    lead = f"The seed's `t_indep * coeffs` on the loaded candles ({len(t_dep):,} rows, raw prices)."
    return svgplot.table(table, "modules-bias"), new_rows, (
        replace(losses_bug(preds, t_dep), lead=lead,
                question=raw_price_loss("modules_raw_loss", F.mse_loss(preds, t_dep).item())),
        xavier_bug(*t_indep.shape),
        replace(backward_twice_bug(t_indep, t_dep, coeffs), link=("pages/accumulation.py", "Gradient accumulation →")),
        device_bug(),
        replace(read_only_bug(path), more_code=(seed_read, seed_from_numpy), link=("pages/data.py", "Data →")))
