"""retain_graph lab (seed Part E) against plain PyTorch: error texts, accumulation, saved tensors."""
from __future__ import annotations

import pytest
import torch

from explorer.labs.retain import (TRADING_LOSSES, RetainLab, custom_trading_loss, fixed_trading_loss, saved_tensor_table,
                             vectorised_trading_loss)


def torch_second_backward_error() -> str:
    """What torch itself raises on a second backward through a freed graph."""
    p = torch.tensor([-3.0], requires_grad=True)
    y = p ** 2
    y.backward()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    return str(info.value)


def test_seed_loss_values_and_grads():
    for value, loss, grad in [(4.0, 0.2, 0.05), (-3.0, 9.0, -6.0)]:
        pnl = torch.tensor([value], requires_grad=True)
        custom_trading_loss(pnl).backward()
        assert pnl.grad.item() == pytest.approx(grad)
        assert custom_trading_loss(torch.tensor([value])).item() == pytest.approx(loss)


def test_seed_loss_fails_at_zero_and_lab_captures_it():
    with pytest.raises(UnboundLocalError) as ref:
        custom_trading_loss(torch.tensor([0.0], requires_grad=True))
    lab = RetainLab(0.0, "seed: custom_trading_loss")
    assert lab.loss is None and lab.error == f"UnboundLocalError: {ref.value}"
    lab.backward()
    assert "forward pass failed" in lab.error and lab.pnl.grad is None


@pytest.mark.parametrize("fn", [fixed_trading_loss, vectorised_trading_loss])
def test_fixed_losses_at_zero(fn):
    pnl = torch.tensor([0.0], requires_grad=True)
    fn(pnl).backward()
    assert pnl.grad.item() == 0.0
    lab = RetainLab(0.0, next(k for k, v in TRADING_LOSSES.items() if v is fn))
    assert lab.error is None and lab.loss.item() == 0.0


def test_vectorised_loss_on_a_batch():
    pnl = torch.tensor([4.0, -3.0, 0.0], requires_grad=True)
    vectorised_trading_loss(pnl).sum().backward()
    assert pnl.grad.tolist() == pytest.approx([0.05, -6.0, 0.0])


@pytest.mark.parametrize("value", [-3.0, 4.0])
@pytest.mark.parametrize("name", list(TRADING_LOSSES))
def test_second_backward_error_is_torchs_own(value, name):
    lab = RetainLab(value, name)
    lab.backward()
    first = lab.pnl.grad.item()
    assert lab.error is None
    lab.backward()
    assert lab.error == torch_second_backward_error()
    assert lab.events[-1].result == "RuntimeError: " + lab.error and not lab.events[-1].ok
    assert lab.pnl.grad.item() == first  # the failed call changed nothing


def test_retain_graph_accumulates_minus_6_then_minus_12():
    lab = RetainLab(-3.0)
    lab.backward(retain_graph=True)
    assert lab.pnl.grad.item() == -6.0
    lab.backward()
    assert lab.pnl.grad.item() == -12.0
    lab.backward()  # the second call had retain_graph=False: now the graph is gone
    assert lab.error == torch_second_backward_error()
    assert [e.pnl_grad for e in lab.events] == [None, -6.0, -12.0, -12.0]


def test_autograd_grad_returns_without_accumulating():
    lab = RetainLab(-3.0)
    lab.autograd_grad(retain_graph=True)
    lab.autograd_grad(retain_graph=True)
    assert lab.pnl.grad is None
    assert [e.result for e in lab.events[1:]] == ["returned [-6.0]", "returned [-6.0]"]
    lab.autograd_grad(retain_graph=False)
    lab.autograd_grad(retain_graph=False)
    assert lab.error == torch_second_backward_error()


def saved(lab: RetainLab) -> dict[tuple[str, str], str]:
    table = saved_tensor_table(lab.loss)
    return {(r.node, r.saved): r.value for r in table.itertuples()}


def test_saved_tensors_pow_branch_before_and_after():
    lab = RetainLab(-3.0)
    ref = lab.loss.grad_fn
    assert saved(lab) == {("PowBackward0", "_saved_exponent"): repr(ref._saved_exponent),
                          ("PowBackward0", "_saved_self"): str(ref._saved_self.tolist())}
    assert saved(lab)[("PowBackward0", "_saved_self")] == "[-3.0]"
    lab.backward(retain_graph=True)
    assert saved(lab)[("PowBackward0", "_saved_self")] == "[-3.0]"  # retained
    lab.backward()
    with pytest.raises(RuntimeError):
        ref._saved_self  # the reference: torch refuses to hand it out
    assert saved(lab) == {("PowBackward0", "_saved_exponent"): "2", ("PowBackward0", "_saved_self"): "freed"}
    assert lab.saved_after_forward["value"].tolist() == ["2", "[-3.0]"]


def test_saved_tensors_mul_branch_also_saves_and_frees():
    """On this torch the gain branch saves the wrapped scalar 0.05; backward frees it like any saved tensor."""
    lab = RetainLab(4.0)
    node = lab.loss.grad_fn
    assert type(node).__name__ == "MulBackward0" and node._saved_self is None
    assert saved(lab)[("MulBackward0", "_saved_other")] == repr(node._saved_other.item())
    lab.backward()
    with pytest.raises(RuntimeError):
        node._saved_other
    assert saved(lab)[("MulBackward0", "_saved_other")] == "freed"
    assert saved(lab)[("MulBackward0", "_saved_self")].startswith("None")


def test_no_loss_no_saved_tensors_and_unknown_loss():
    assert saved_tensor_table(None).empty
    with pytest.raises(ValueError, match="unknown loss"):
        RetainLab(1.0, "nope")


def test_the_lessons_are_plain_autograd_calls():
    """backward and autograd_grad do what loss.backward and torch.autograd.grad do, refusals included."""
    from explorer.labs.retain import autograd_grad, backward
    pnl, ref = torch.tensor([-3.0], requires_grad=True), torch.tensor([-3.0], requires_grad=True)
    loss, ref_loss = pnl ** 2, ref ** 2
    backward(loss, retain_graph=True)
    ref_loss.backward(retain_graph=True)
    assert torch.equal(pnl.grad, ref.grad) and pnl.grad.item() == -6.0
    grad = autograd_grad(loss, pnl, retain_graph=False)
    (ref_grad,) = torch.autograd.grad(ref_loss, ref, retain_graph=False)
    assert torch.equal(grad, ref_grad) and pnl.grad.item() == -6.0  # returned, not added
    with pytest.raises(RuntimeError) as ours:
        backward(loss, retain_graph=False)
    with pytest.raises(RuntimeError) as theirs:
        ref_loss.backward()
    assert str(ours.value) == str(theirs.value)


def test_lab_for_replays_a_links_calls_once_and_refuses_other_letters():
    from explorer.labs.retain import lab_for
    lab, problem = lab_for(None, -3.0, "seed: custom_trading_loss", "cpu", "bb")
    assert problem is None and lab.pnl.grad.item() == -6.0 and lab.error == torch_second_backward_error()
    assert lab_for(lab, -3.0, "seed: custom_trading_loss", "cpu", "B") == (lab, None)  # the same inputs: kept
    fresh, problem = lab_for(lab, -2.5, "seed: custom_trading_loss", "cpu", "Bz")
    assert fresh is not lab and "`retain_calls` = 'Bz' ignored" in problem and fresh.pnl.grad is None
    assert len(fresh.events) == 1
