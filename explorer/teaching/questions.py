"""The predictions each lesson asks for, made from the tensors that lesson has just computed (PyTorch's answers)."""
from __future__ import annotations

import re
from typing import Sequence

from explorer.labs.accumulation import Click
from explorer.labs.retain import Call
from explorer.teaching.quiz import Question, numbers_of

ADDS = "backward() adds into .grad; it never overwrites what is there."


def grad_after_backward(key: str, grad: Sequence[float], x: Sequence[float], calls: int) -> Question:
    """w.grad after the `calls`-th backward() of y = x @ w.T + b (each call adds x)."""
    nth = {1: "backward()", 2: "a second backward()"}.get(calls, f"backward() number {calls}")
    wrong = [(numbers_of(x), f"x is what ONE backward() writes. {ADDS}")] if calls > 1 else []
    wrong.append((numbers_of([0.0] * len(grad)), "Before the first backward .grad is None; backward() then "
                  "writes dy/dw = x into it."))
    return Question(key, f"What is **w.grad** after {nth}? (all its numbers, or one if they are equal)", "numbers",
                    numbers_of(grad), f"y = x·w + b, so dy/dw = x, and each backward() adds x once: "
                    f"{calls} × x.", wrong=tuple(wrong), hides=("w.grad",))


def grad_after_set_to_none(key: str) -> Question:
    """What .grad holds right after zero_grad(set_to_none=True)."""
    return Question(key, "What does **w.grad** hold after `zero_grad(set_to_none=True)`?", "choice", "None",
                    "set_to_none=True drops the tensor (frees its memory); the next backward() assigns instead of "
                    "adding.", choices=("None", "zeros", "unchanged"),
                    wrong=(("zeros", "Zeros is what set_to_none=False (and .grad.zero_()) leaves."),
                           ("unchanged", "zero_grad clears .grad either way; set_to_none only decides how.")),
                    hides=("w.grad", "b.grad"))


SECOND_BACKWARD = ("RuntimeError", "nothing: pnl.grad doubles", "nothing: pnl.grad stays")


def second_backward_raises(key: str) -> Question:
    """The second backward() through the same graph, without retain_graph the first time."""
    return Question(key, "The first `backward()` had no `retain_graph=True`. What does the **second** "
                    "`backward()` do?", "choice", "RuntimeError", "The first backward freed the tensors each node "
                    "saved (e.g. pnl for pnl²); the second one needs them, so PyTorch raises "
                    "'Trying to backward through the graph a second time'.", choices=SECOND_BACKWARD,
                    wrong=((SECOND_BACKWARD[1], "That is what happens WITH retain_graph=True on the first call."),
                           (SECOND_BACKWARD[2], "backward() never silently does nothing: it adds, or it raises.")))


def grad_after_retained_backward(key: str, grad: float, once: float) -> Question:
    """pnl.grad after backward(retain_graph=True) and then backward()."""
    return Question(key, "`loss.backward(retain_graph=True)`, then `loss.backward()`: what is **pnl.grad**?",
                    "numbers", (grad,), "retain_graph=True kept the saved tensors, so the second call ran and "
                    f"added d loss/d pnl = {once:g} again.",
                    wrong=(((once,), f"{once:g} is one call's gradient. {ADDS}"),))


def linear_weight_shape(key: str, in_features: int, out_features: int) -> Question:
    """The shape of nn.Linear(in, out).weight."""
    return Question(key, f"What is the shape of `nn.Linear({in_features}, {out_features}).weight`?", "shape",
                    (out_features, in_features), "nn.Linear stores W as [out_features, in_features] and computes "
                    "x @ W.T + b: each ROW of W makes one output.",
                    wrong=(((in_features, out_features), "That is [in_features, out_features], the shape of W.T, "
                            "not W."),))


def index_shape(key: str, index: str, shape: Sequence[int], answer: Sequence[int]) -> Question:
    """The shape of an indexed tensor."""
    return Question(key, f"`t` has shape {list(shape)}. What is the shape of `{index}`?", "shape", tuple(answer),
                    "An integer index removes its dimension; a slice or `...` keeps dimensions.",
                    wrong=((tuple(shape), "Indexing with an integer removes that dimension."),))


def index_question(index: str, shape: Sequence[int], answer: Sequence[int]) -> Question:
    """index_shape with one key per index text (a CSS-safe key: the quiz's container is named after it)."""
    return index_shape("modules_index_" + re.sub(r"\W", "_", index), index, shape, answer)


def raw_price_loss(key: str, loss: float) -> Question:
    """The seed's MSE on raw prices (within an order of magnitude)."""
    return Question(key, "The seed's predictions on raw prices (tens of thousands) against the real highs: roughly "
                    "what **MSE** comes out?", "magnitude", loss, "Errors of thousands of dollars, squared, make "
                    "millions to billions: that is why inputs get normalised.",
                    wrong=((loss ** 0.5, "That is about the size of the error itself (the RMSE); MSE squares it."),))


def graph_w_grad(grad: Sequence[float], expression: str) -> Question:
    """The Graph lesson: w.grad once backward() has walked the whole graph of the learner's expression."""
    return Question("graph_w_grad", f"`y = {expression}`, then `y.backward()`: what is **w.grad**? (all its numbers, "
                    "or one if they are equal)", "numbers", numbers_of(grad), "backward() writes dy/dw into w.grad; "
                    "for y = x @ w.T + b that is exactly x.",
                    wrong=((numbers_of([0.0] * len(grad)), "Only a tensor y does not depend on gets no gradient."),),
                    hides=("w.grad",))


def accumulation_question(history: Sequence, x: Sequence[float]) -> Question | None:
    """The accumulation lab's moments: the first and second backward from a clean .grad, and set_to_none=True."""
    backward = (Click.FORWARD_BACKWARD, Click.FORWARD_BACKWARD_ZEROED)
    last = history[-1]
    if last.click is Click.ZERO_GRAD_TO_NONE and len(history) > 1 and history[-2].w_grad is not None:
        return grad_after_set_to_none("acc_set_to_none")
    if last.click not in backward or last.note or last.w_grad is None:
        return None
    calls = 0
    for record in reversed(history):
        if record.click not in backward:
            break
        calls += 1
    if calls > 2 or history[-calls - 1].click is Click.ZERO_GRAD_TO_ZEROS:
        return None
    return grad_after_backward(f"acc_backward_{calls}", last.w_grad, x, calls)


def retain_question(events: Sequence) -> Question | None:
    """The retain_graph lab's moment: the second backward() after a fresh forward, with or without retain_graph."""
    if len(events) < 3 or events[-3].code is not None or not events[-3].ok:
        return None
    first, second = events[-2], events[-1]
    backward = (Call.BACKWARD, Call.BACKWARD_RETAIN)
    if not (first.code in backward and second.code in backward and first.ok):
        return None
    if first.code is Call.BACKWARD_RETAIN and second.ok:
        return grad_after_retained_backward("retain_retained_grad", second.pnl_grad, first.pnl_grad)
    did = ("RuntimeError" if not second.ok else SECOND_BACKWARD[1] if second.pnl_grad == 2 * first.pnl_grad
           else SECOND_BACKWARD[2])
    question = second_backward_raises("retain_second_backward")
    return question if did == question.answer else None  # ask only what the question's story says


def untrained_raw_loss(normalisation: str, classification: bool, steps: int, loss: float) -> Question | None:
    """The Training page before the first step on raw (unnormalised) prices: the loss, to an order of magnitude."""
    if normalisation != "none" or classification or steps:
        return None
    return raw_price_loss("train_raw_loss", loss)


def saved_version(key: str, now: int, then: int) -> Question:
    """Autograd errors, in place on a saved tensor: the version counter after the in-place op."""
    return Question(key, f"sigmoid saved `y` at version {then}; then `y.add_(1)` ran. What is **y._version** now?",
                    "numbers", (float(now),), "Every in-place op raises a tensor's version counter by one. backward() "
                    f"compares it with the version saved ({then}) and refuses when they differ.",
                    wrong=(((float(then),), "The counter counts in-place changes: add_ is one."),))


ERROR_OUTCOMES = ("RuntimeError", "it runs: w.grad is filled", "it runs: w.grad stays None")


def which_error(key: str, prompt: str, error: str | None, grad: object) -> Question:
    """Autograd errors: what a call does, as PyTorch answered it (`error` the text it raised, `grad` w.grad after)."""
    did = (ERROR_OUTCOMES[0] if error and error.startswith("RuntimeError") else
           ERROR_OUTCOMES[1] if grad is not None else ERROR_OUTCOMES[2])
    return Question(key, prompt, "choice", did, "backward() needs a graph: a tensor with a grad_fn. Without one "
                    "there is nothing to go back through, and PyTorch raises rather than leave w.grad quietly empty.",
                    choices=ERROR_OUTCOMES)


def none_or_tensor(key: str, grad: object) -> Question:
    """Autograd errors: .grad of a tensor that is not a leaf, after backward()."""
    answer = "None" if grad is None else "a tensor"
    return Question(key, "`h = x * w` (w requires grad), then `loss.backward()`. What does **h.grad** hold?",
                    "choice", answer, "backward() writes .grad only on leaves; h is the output of an op, so its "
                    "gradient passes through and is dropped (PyTorch warns), unless h.retain_grad() was called.",
                    choices=("None", "a tensor"),
                    wrong=(("a tensor", "Only leaves (and tensors that called retain_grad()) keep .grad."),))


def hooked_w_grad(w_grad: float, dy_dw: float, scale: float) -> Question:
    """Hooks: w.grad when w's first hook returns the gradient times `scale`."""
    return Question("tools_hooked_w_grad", f"w's first hook is `lambda grad: grad * {scale:g}` and dy/dw = "
                    f"{dy_dw:.6f}. What is **w.grad** after `y.backward()`?", "numbers", (w_grad,),
                    "A hook that returns a tensor replaces the gradient before it reaches .grad (and before the "
                    "next hook sees it).",
                    wrong=(((dy_dw,), "That is dy/dw before the hook: the hook's return value replaced it."),))


SECOND_GRAD = ("RuntimeError", "0", "the same number as with create_graph=True")


def second_grad_without_create_graph() -> Question:
    """Higher order: what the grad of a grad does when the first grad had no create_graph=True."""
    return Question("tools_second_grad", "The first `torch.autograd.grad(y, x)` had **no** `create_graph=True`. What "
                    "does `torch.autograd.grad(dy_dx, x)` do?", "choice", SECOND_GRAD[0],
                    "Without create_graph the first gradient is a plain tensor with no grad_fn: there is nothing to "
                    "differentiate, and PyTorch says so.", choices=SECOND_GRAD,
                    wrong=((SECOND_GRAD[1], "autograd never answers 0 for 'no graph': it raises."),
                           (SECOND_GRAD[2], "Only create_graph=True records the first backward pass as a graph.")))


def smallest_layer_gradient(norms: Sequence[float]) -> Question | None:
    """Gradient flow: which layer's weight gradient is smallest at init (asked from 3 layers on)."""
    if len(norms) < 3:
        return None
    choices = ("layer 1 (input side)", f"layer {len(norms)} (output side)", "a layer in the middle")
    smallest = min(range(len(norms)), key=lambda i: norms[i])
    answer = choices[0] if smallest == 0 else choices[1] if smallest == len(norms) - 1 else choices[2]
    return Question("flow_smallest_layer", "Before any training: which layer's weight gradient has the **smallest** "
                    "norm?", "choice", answer, "Each layer on the way back multiplies the gradient by its weights "
                    "and its activation's slope (at most 0.25 for sigmoid): below 1, the gradient shrinks layer by "
                    "layer towards the input.", choices=choices)
