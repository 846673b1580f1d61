"""Accumulation lab (seed Part C) against plain PyTorch: k backward calls = k x one, both zero_grad variants."""
from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import torch

from explorer.labs.accumulation import AccumulationLab, grad_panels, history_frame, history_table
from explorer.tensors import candle_row, seeded_leaves

NAMES = ["open", "high", "low", "close", "volume"]


@pytest.fixture
def frame() -> pd.DataFrame:
    """Five candles; row 1 is the seed's row 100 (four equal prices, zero volume)."""
    values = [[1.0, 2.0, 0.5, 1.5, 10.0], [4291.37, 4291.37, 4291.37, 4291.37, 0.0], [3.0, 4.0, 2.0, 3.5, 7.0],
              [5.0, 6.0, 4.0, 5.5, 1.0], [6.0, 7.0, 5.0, 6.5, 2.0]]
    return pd.DataFrame(values, columns=NAMES)


def reference_grads(x: torch.Tensor, seed: int, steps: int, zero_each: bool = False):
    """The seed's loop written out in plain PyTorch: (w.grad, b.grad) printed at each iteration."""
    w, b = seeded_leaves(x, seed)
    printed = []
    for _ in range(steps):
        y = x @ w.T + b
        y.backward()
        printed.append((w.grad.clone(), b.grad.clone()))
        if zero_each:
            w.grad.zero_()
            b.grad.zero_()
    return printed


def test_candle_row_is_the_seed_expression(frame):
    x = candle_row(frame, 1)
    assert x.shape == (1, 5) and x.dtype == torch.float32
    assert torch.equal(x, torch.tensor(frame.values, dtype=torch.float32)[1].reshape(1, -1))
    with pytest.raises(ValueError, match="row 5 is outside"):
        candle_row(frame, 5)


def test_seeded_leaves_are_reproducible_and_leaves(frame):
    x = candle_row(frame, 1)
    w1, b1 = seeded_leaves(x, 7)
    w2, b2 = seeded_leaves(x, 7)
    assert torch.equal(w1, w2) and torch.equal(b1, b2)
    assert w1.is_leaf and w1.requires_grad and w1.shape == x.shape and b1.shape == (1,)
    assert not torch.equal(seeded_leaves(x, 8)[0], w1)


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_k_backward_calls_accumulate_k_times_one(frame, k):
    x = candle_row(frame, 1)
    lab = AccumulationLab(x, seed=0, feature_names=NAMES)
    lab.run_steps(k)
    assert torch.allclose(lab.w.grad, k * x)
    assert lab.b.grad.item() == pytest.approx(float(k))
    ref = reference_grads(x, 0, k)
    for record, (w_ref, b_ref) in zip(lab.history[1:], ref):
        assert record.w_grad == w_ref.flatten().tolist() and record.b_grad == b_ref.item()


def test_seed_cell_11_numbers(frame):
    """4291.37 -> 8582.74 -> 12874.11 and 1 -> 2 -> 3 on the seed's row."""
    lab = AccumulationLab(candle_row(frame, 1), seed=0, feature_names=NAMES)
    lab.run_steps(3)
    w_open = [r.w_grad[0] for r in lab.history[1:]]
    assert w_open == pytest.approx([4291.37, 8582.74, 12874.11], rel=1e-6)
    assert [r.b_grad for r in lab.history[1:]] == [1.0, 2.0, 3.0]
    assert lab.history[1].w_grad[4] == 0.0  # zero volume -> zero gradient on that weight


def test_zero_after_each_step_is_seed_cell_12(frame):
    x = candle_row(frame, 1)
    lab = AccumulationLab(x, seed=3, feature_names=NAMES)
    lab.zero_after_step = True
    lab.run_steps(3)
    ref = reference_grads(x, 3, 3, zero_each=True)
    assert [r.w_grad for r in lab.history[1:]] == [w.flatten().tolist() for w, _ in ref]
    assert [r.b_grad for r in lab.history[1:]] == [1.0, 1.0, 1.0]
    assert torch.equal(lab.w.grad, torch.zeros_like(x)) and lab.b.grad.item() == 0.0


def test_zero_grad_set_to_none_true_gives_none(frame):
    x = candle_row(frame, 2)
    lab = AccumulationLab(x, seed=0, feature_names=NAMES)
    lab.run_steps(2)
    lab.zero_grad(set_to_none=True)
    assert lab.w.grad is None and lab.b.grad is None
    assert lab.history[-1].w_grad is None and lab.history[-1].b_grad is None
    lab.forward_backward()  # after None the next backward assigns: one x, not three
    assert torch.equal(lab.w.grad, x) and lab.b.grad.item() == 1.0


def test_zero_grad_set_to_none_false_matches_torch_optimizer(frame):
    x = candle_row(frame, 2)
    lab = AccumulationLab(x, seed=0, feature_names=NAMES)
    lab.run_steps(2)
    grad_tensor = lab.w.grad
    lab.zero_grad(set_to_none=False)
    assert lab.w.grad is grad_tensor  # same tensor, filled with zeros
    # the reference: torch's own optimizer.zero_grad(set_to_none=False) on the same state
    w, b = seeded_leaves(x, 0)
    for _ in range(2):
        (x @ w.T + b).backward()
    torch.optim.SGD([w, b], lr=0.1).zero_grad(set_to_none=False)
    assert torch.equal(lab.w.grad, w.grad) and torch.equal(lab.b.grad, b.grad)
    assert lab.history[-1].w_grad == [0.0] * 5 and lab.history[-1].b_grad == 0.0


def test_grad_zero_on_none_is_captured_not_raised(frame):
    lab = AccumulationLab(candle_row(frame, 1), seed=0, feature_names=NAMES)
    lab.grad_zero_()  # before any backward: .grad is None
    with pytest.raises(AttributeError) as ref:
        torch.zeros(1, requires_grad=True).grad.zero_()
    assert lab.error == f"AttributeError: {ref.value}"
    lab.forward_backward()
    assert lab.error is None
    lab.grad_zero_()
    assert lab.error is None and lab.b.grad.item() == 0.0


def test_reset_restores_seeded_leaves(frame):
    x = candle_row(frame, 1)
    lab = AccumulationLab(x, seed=5, feature_names=NAMES)
    lab.run_steps(2)
    lab.reset()
    w, b = seeded_leaves(x, 5)
    assert torch.equal(lab.w, w) and lab.w.grad is None and len(lab.history) == 1
    with pytest.raises(ValueError, match="at least 1"):
        lab.run_steps(0)


def test_history_frame_and_chart(frame):
    lab = AccumulationLab(candle_row(frame, 1), seed=0, feature_names=NAMES)
    lab.run_steps(2)
    lab.zero_grad(set_to_none=True)
    table = history_frame(lab.history, NAMES)
    assert list(table.columns) == ["action", "y"] + [f"w.grad[{n}]" for n in NAMES] + ["b.grad", "note"]
    assert table["b.grad"].tolist()[1:3] == [1.0, 2.0] and pd.isna(table["b.grad"].iloc[3])
    x = lab.x.flatten().tolist()
    panels = grad_panels(lab.history, NAMES, x).split('<div style="display:flex;flex-direction:column;height:220px">')[1:]
    assert len(panels) == 6
    assert f"<b>w.grad[{NAMES[3]}]</b>" in panels[3] and f"+{x[3]:.6g} per backward" in panels[3]
    b_panel = panels[-1]  # b.grad after reset, 2 backwards, set_to_none: None, 1, 2, None: one line, a gap at each end
    assert "<b>b.grad</b>" in b_panel and "+1 per backward" in b_panel
    assert re.findall(r'<polyline points="([^"]*)"', b_panel) == ["333.3,300.0 666.7,0.0"]  # actions 1, 2 of 0 … 3
    assert re.search(r'<path d="([^"]*)"', b_panel).group(1) == "M333.3 300.0l0 0 M666.7 0.0l0 0"
    assert "<span>2</span><span>1</span>" in b_panel  # its y axis: 2 at the top, 1 at the foot
    w_panel = panels[0]  # w.grad[open] grows by x[0] per backward
    assert f"<span>{2 * x[0]:.6g}</span><span>{x[0]:.6g}</span>" in w_panel


def test_history_table_shows_torchs_grads_and_none(frame):
    lab = AccumulationLab(candle_row(frame, 1), seed=0, feature_names=NAMES)
    lab.run_steps(2)
    w_grad = lab.w.grad.flatten().tolist()
    lab.zero_grad(set_to_none=True)
    html = history_table(lab.history, NAMES)
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert heads == ["#", "action", "y"] + [f"w.grad[{n}]" for n in NAMES] + ["b.grad", "note"]
    rows = re.findall(r"<tr>(.*?)</tr>", html)[1:]  # after the header
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in rows]
    assert [row[0] for row in cells] == ["0", "1", "2", "3"]
    assert cells[2][3:3 + len(NAMES)] == [f"{v:,.4f}" for v in w_grad]  # after 2 backwards: w.grad = 2x
    assert cells[2][-2] == "2.0000"
    assert cells[3][1] == "zero_grad(set_to_none=True)" and cells[3][2:-1] == ["None"] * (len(NAMES) + 2)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 6),
       values=st.lists(st.floats(-1e4, 1e4, allow_nan=False, width=32), min_size=5, max_size=5))
def test_property_k_calls_equal_k_times_one_call(seed, k, values):
    """For any x, seed and k: k accumulated backward calls give exactly what one call gives, k times."""
    x = torch.tensor([values], dtype=torch.float32)
    one = AccumulationLab(x, seed)
    one.forward_backward()
    many = AccumulationLab(x, seed)
    many.run_steps(k)
    assert torch.allclose(many.w.grad, k * one.w.grad, rtol=1e-6, atol=1e-6)
    assert many.b.grad.item() == k * one.b.grad.item()


def test_the_lessons_are_the_seeds_lines(frame):
    """forward_backward, zero_grad and grad_zero_ against the seed's cells written out in plain torch."""
    from explorer.labs.accumulation import forward_backward, grad_zero_, zero_grad
    x = candle_row(frame, 2)
    w, b = seeded_leaves(x, 3)
    ref_w, ref_b = seeded_leaves(x, 3)
    with pytest.raises(AttributeError):
        grad_zero_(w, b)  # the seed's cell 12 before any backward: .grad is None
    for _ in range(2):
        y = forward_backward(x, w, b)
        ref_y = x @ ref_w.T + ref_b
        ref_y.backward()
        assert torch.equal(y, ref_y)
    assert torch.equal(w.grad, ref_w.grad) and torch.equal(w.grad, 2 * x) and b.grad.item() == 2.0
    grad_zero_(w, b)
    assert torch.equal(w.grad, torch.zeros_like(x)) and b.grad.item() == 0.0
    zero_grad((w, b), set_to_none=True)
    torch.optim.SGD([ref_w, ref_b], lr=0.1).zero_grad(set_to_none=True)
    assert w.grad is None and b.grad is None and ref_w.grad is None


def test_lab_for_replays_a_links_clicks_on_a_fresh_lab_only(frame):
    from explorer.labs.accumulation import history_code, lab_for
    x = candle_row(frame, 1)
    lab, problem = lab_for(None, x, 0, NAMES, "FFN")
    assert problem is None and history_code(lab.history) == "FFN" and lab.w.grad is None
    assert lab_for(lab, x.clone(), 0, NAMES, "FFFF") == (lab, None)  # the same x and seed: the lab stays
    fresh, problem = lab_for(lab, x, 1, NAMES, "FQ")
    assert fresh is not lab and "`acc_history` = 'FQ' ignored" in problem and len(fresh.history) == 1


def test_grad_panels_before_any_backward_say_so_instead_of_six_empty_charts(frame):
    """At first open no .grad exists yet: a short note, not six empty 0-1 charts; one backward draws the charts."""
    lab = AccumulationLab(candle_row(frame, 1), 0)
    x = lab.x.flatten().tolist()
    empty = grad_panels(lab.history, NAMES, x)
    assert "<svg" not in empty and "height:220px" not in empty
    assert "No gradients yet" in empty and "forward + backward" in empty
    lab.forward_backward()
    assert grad_panels(lab.history, NAMES, x).count("height:220px") == 6
