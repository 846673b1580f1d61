"""The seven autograd errors learners hit most, each a broken lesson next to its fix, on one candle.

The lessons (top) are plain torch: the page shows them and the take-home scripts are made of them. Each broken one
stops where PyTorch refuses (or warns); the fix is the same lesson with the one line that changes. What the page
says about each is in ERRORS below; explorer.mechanics.watch runs them and draws their graphs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from explorer.tensors import candles_to_tensor


def candle_moves(frame, row):
    """Four candles' moves up to `row`, in basis points: 10,000 * (close - open) / open (the x of these lessons)."""
    candles = candles_to_tensor(frame[["open", "close"]].iloc[row - 3:row + 1])  # float32, one row per candle
    return 10_000 * (candles[:, 1] - candles[:, 0]) / candles[:, 0]


def make_weights(seed):
    """Four weights that require grad, drawn from a seeded generator: a leaf tensor."""
    return torch.randn(4, generator=torch.Generator().manual_seed(seed), requires_grad=True)


# --- 1. a saved tensor changed in place ---------------------------------------------------------------------------

def inplace_on_saved(x, w):
    """sigmoid saves its output for backward; add_ then changes that output in place."""
    y = torch.sigmoid(x * w)  # SigmoidBackward0 saves y, at version 0
    y.add_(1)  # in place: y._version is now 1
    y.sum().backward()  # backward needs the y it saved at version 0
    return w.grad


def out_of_place(x, w):
    """y + 1 makes a new tensor: the y sigmoid saved stays at version 0."""
    y = torch.sigmoid(x * w)
    z = y + 1
    z.sum().backward()
    return w.grad


# --- 2. a leaf that requires grad, changed in place -----------------------------------------------------------------

def sgd_step_on_leaf(x, w):
    """A hand-written SGD step on the weights, with autograd still recording."""
    loss = ((x * w).sum() - 1) ** 2
    loss.backward()
    w -= 0.1 * w.grad  # an in-place op on a leaf that requires grad
    return w


def sgd_step_under_no_grad(x, w):
    """The same step under torch.no_grad(): not recorded, w stays a leaf (its _version goes up by one)."""
    loss = ((x * w).sum() - 1) ** 2
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
    return w


# --- 3. nothing requires grad -------------------------------------------------------------------------------------

def loss_under_no_grad(x, w):
    """The loss computed inside torch.no_grad(), as in an evaluation loop: nothing was recorded."""
    with torch.no_grad():
        loss = ((x * w).sum() - 1) ** 2
    loss.backward()  # the loss has no grad_fn: there is no graph to go back through
    return w.grad


def loss_with_grad(x, w):
    """The loss computed with grad mode on: it has a grad_fn, and backward() reaches w."""
    loss = ((x * w).sum() - 1) ** 2
    loss.backward()
    return w.grad


def where_the_graph_is_cut(x, w):
    """requires_grad spreads from w to everything computed from it, unless the graph is cut."""
    made = {"x": x, "x * w": x * w}
    with torch.no_grad():
        made["x * w under no_grad()"] = x * w
    with torch.inference_mode():
        made["x * w under inference_mode()"] = x * w
    made["(x * w).detach()"] = (x * w).detach()
    w.requires_grad_(False)
    made["x * w after w.requires_grad_(False)"] = x * w
    return made


# --- 4. backward() of a vector ------------------------------------------------------------------------------------

def backward_of_vector(x, w):
    """Running totals of x * w: four outputs, and backward() is not told how to weigh them."""
    y = torch.cumsum(x * w, dim=0)
    y.backward()
    return w.grad


def vector_jacobian_product(x, w, v):
    """backward(gradient=v) weighs the outputs by v: w.grad = v @ J, where J[i, j] = dy[i] / dw[j]."""
    y = torch.cumsum(x * w, dim=0)
    y.backward(gradient=v)
    return w.grad


def jacobian_then_product(x, w, v):
    """The same from the whole Jacobian: J.T @ v (one backward per output, so only for small outputs)."""
    J = torch.autograd.functional.jacobian(lambda w: torch.cumsum(x * w, dim=0), w)
    return J.T @ v


# --- 5. .grad of a tensor that is not a leaf -----------------------------------------------------------------------

def grad_of_non_leaf(x, w):
    """h is made by an op, so it is not a leaf: backward() fills w.grad, not h.grad."""
    h = x * w
    loss = (h.sum() - 1) ** 2
    loss.backward()
    return h.grad  # None, with a warning


def retain_grad_of_non_leaf(x, w):
    """h.retain_grad() before backward(): autograd keeps d loss / d h in h.grad."""
    h = x * w
    h.retain_grad()
    loss = (h.sum() - 1) ** 2
    loss.backward()
    return h.grad


def retain_grad_without_grad(x, w):
    """A tensor that does not require grad has no gradient to keep."""
    h = x * w.detach()
    h.retain_grad()
    return h


# --- 6. numpy() of a tensor that requires grad ---------------------------------------------------------------------

def numpy_of_prediction(x, w):
    """Hand the prediction to NumPy (to plot it, say) while it still requires grad."""
    y = x * w
    return y.numpy()


def numpy_of_detached(x, w):
    """detach() first: the same memory, outside the graph, so NumPy may have it."""
    y = x * w
    return y.detach().numpy()


# --- 7. two devices in one op -------------------------------------------------------------------------------------

def weights_on_other_device(x, w, device):
    """The weights moved to the GPU, the candle left on the CPU."""
    w = w.to(device)
    return x * w


def both_on_one_device(x, w, device):
    """Every tensor an op uses on one device: move the data too (and the result back to print it)."""
    w = w.to(device)
    x = x.to(device)
    return (x * w).cpu()


# --- what the page says about each ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class AutogradError:
    """One error: its label, the broken lesson and the fix, and what to say about them."""
    label: str
    broken: Callable
    fixed: Callable
    why: str  # the error and its cause (markdown), shown above the two sides
    fix: str  # what the fix changes (markdown), shown below them
    more: Callable | None = None  # a third lesson run beside them (a related refusal, a comparison)
    more_note: str = ""
    extra: str | None = None  # the name of a third argument: "v" or "device"


V = (1.0, -1.0, 0.5, 2.0)  # the weights backward(gradient=v) puts on the four outputs
ERRORS: dict[str, AutogradError] = {
    "inplace": AutogradError(
        "in-place on a saved tensor", inplace_on_saved, out_of_place,
        "Every tensor has a version counter, `_version`, that each in-place op raises by one. A node that saves a "
        "tensor for backward remembers the version it saved; if the tensor has changed since, backward() refuses "
        "rather than use the wrong numbers. The graph shows each saved tensor's version now against the version "
        "it was saved at.",
        "`y + 1` makes a new tensor, so the saved `y` keeps version 0. (Out-of-place costs one more tensor; "
        "in-place is only safe on tensors no node saved.)"),
    "leaf": AutogradError(
        "in-place on a leaf", sgd_step_on_leaf, sgd_step_under_no_grad,
        "`w -= 0.1 * w.grad` is an in-place op on `w`, a leaf that requires grad. Recorded by autograd it would "
        "make `w` the output of an op, no longer a leaf, and its old value lost to every node that saved it, so "
        "PyTorch refuses.",
        "An optimizer's step runs under `torch.no_grad()`: the update is not recorded, `w` stays a leaf, and its "
        "`_version` goes up by one (drawn on the graph)."),
    "no_grad": AutogradError(
        "nothing requires grad", loss_under_no_grad, loss_with_grad,
        "Inside `torch.no_grad()` no op is recorded: the loss has no `grad_fn` and does not require grad, so "
        "backward() has nothing to go back through. `requires_grad` spreads: any result of an op on a tensor that "
        "requires grad requires grad too, unless the graph is cut.",
        "Compute the loss with grad mode on. Below: the four ways to cut the graph, and what each leaves.",
        where_the_graph_is_cut,
        "`no_grad()` and `inference_mode()` record nothing inside them; `detach()` returns the same memory outside "
        "the graph; `requires_grad_(False)` switches a leaf off, so later ops on it are not recorded."),
    "vector": AutogradError(
        "backward() of a vector", backward_of_vector, vector_jacobian_product,
        "`y.backward()` with no argument means d y / d w for ONE number y. With four outputs PyTorch would have "
        "to invent how to weigh them, so it refuses.",
        "`y.backward(gradient=v)` computes the vector-Jacobian product v @ J without ever building J: that is "
        "what backward() does at every node. `gradient=torch.ones_like(y)` is the same as `y.sum().backward()`.",
        jacobian_then_product, "The whole Jacobian, then J.T @ v: the same numbers.", "v"),
    "non_leaf": AutogradError(
        ".grad of a non-leaf", grad_of_non_leaf, retain_grad_of_non_leaf,
        "backward() writes `.grad` only on leaves (tensors you made that require grad). `h = x * w` is the output "
        "of an op, not a leaf: its gradient flows through on the way to `w` and is thrown away, so `h.grad` is "
        "None and PyTorch warns.",
        "`h.retain_grad()` before backward() asks autograd to keep it: `h.retains_grad` is then True.",
        retain_grad_without_grad, "Related: retain_grad() on a tensor that does not require grad."),
    "numpy": AutogradError(
        "numpy() of a tensor in a graph", numpy_of_prediction, numpy_of_detached,
        "A NumPy array has no gradient and autograd cannot see what NumPy does with it, so PyTorch refuses to "
        "hand out a tensor that requires grad.",
        "`detach()` returns a tensor outside the graph that shares the memory (no copy); NumPy may have that. "
        "On a GPU add `.cpu()` first."),
    "device": AutogradError(
        "two devices in one op", weights_on_other_device, both_on_one_device,
        "An op runs on one device; PyTorch does not move tensors for you, so an op on a GPU tensor and a CPU "
        "tensor is refused.",
        "Move every tensor an op uses to one device (`model.to(device)` and `batch.to(device)`). Note that "
        "`w.to(device)` is not a leaf when it moves: the gradient goes back to `w` on the CPU.", extra="device"),
}
FIRST = "inplace"
INTRO = ("The autograd errors people hit most, each run live on the loaded candles: the broken code with PyTorch's "
         "own message, next to the fix and what it gives. x holds four candles' moves in basis points "
         "(1 bp = 0.01 %), the last one at the row you pick; w four seeded weights that require grad.")
FIRST_ROW = 3  # candle_moves needs the three candles before the row


def label(key: str) -> str:
    """The radio's label of an error."""
    return ERRORS[key].label
