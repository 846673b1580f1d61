"""Predict-then-reveal on the lesson pages (?quiz=1): each key moment is asked before its numbers are shown."""
from __future__ import annotations

import torch
from streamlit.testing.v1 import AppTest

from tests.app.apptest import APP, click
from tests.app.test_retain_graph_page import torch_second_backward_error


def quiz_page(page: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["quiz"] = "1"
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def predict(at: AppTest, key: str, text: str) -> AppTest:
    widget = at.radio(key=f"quiz_in_{key}") if text in ("None", "zeros", "unchanged", "RuntimeError") else \
        at.text_input(key=f"quiz_in_{key}")
    widget.set_value(text)
    return click(at, f"quiz_check_{key}")


def messages(at: AppTest) -> str:
    return "\n".join([s.value for s in at.success] + [w.value for w in at.warning])


def test_accumulation_asks_first_second_backward_and_set_to_none():
    at = quiz_page("pages/accumulation.py")
    x = at.session_state["acc_lab"].x
    w = torch.randn_like(x, requires_grad=True)
    (x @ w.T).sum().backward()  # PyTorch's answer for one backward: dy/dw
    assert any(c.value.startswith("x      =") for c in at.code)  # nothing to predict yet
    click(at, "acc_step")
    assert any(c.value.startswith("x      =") and "w.grad = ?" in c.value for c in at.code)  # x shown, w.grad held
    predict(at, "acc_backward_1", ", ".join(f"{v:.4f}" for v in w.grad.flatten().tolist()))
    assert "Right:" in messages(at) and any("w.grad = tensor" in c.value for c in at.code)
    click(at, "acc_step")
    assert any(c.value.startswith("x      =") and "w.grad = ?" in c.value for c in at.code)
    wrong = predict(at, "acc_backward_2", ", ".join(f"{v:.4f}" for v in w.grad.flatten().tolist()))
    assert "x is what ONE backward() writes" in messages(wrong)
    click(at, "quiz_show_acc_backward_2")  # the learner asks for the answer instead of trying again
    assert f"{2 * w.grad[0, 0].item():g}" in messages(wrong)  # the right answer, 2 × x, is told
    click(at, "acc_zero_none")
    predict(at, "acc_set_to_none", "zeros")
    assert "set_to_none=False" in messages(at)
    assert str(at.session_state["quiz_score"]) == "1 of 3 predictions right first time"


def graph_w_grad_by_torch() -> torch.Tensor:
    """w.grad for the Graph page's default lesson (row 100 of the bundled sample), computed here by PyTorch."""
    from explorer import load_candles
    from explorer.data.config import load_config, resolve_data_path
    config = load_config()
    frame = load_candles(str(resolve_data_path(config)), sep=config.data.separator, nrows=config.data.train_rows,
                         names=list(config.data.features)).frame
    x = torch.tensor(frame.to_numpy()[100], dtype=torch.float32).reshape(1, -1)
    w, b = torch.randn_like(x, requires_grad=True), torch.randn(1, requires_grad=True)
    (x @ w.T + b).backward()
    return w.grad


def test_graph_asks_for_w_grad_before_the_printout():
    at = quiz_page("pages/graph.py")
    at.radio(key="graph_view").set_value("bwd").run()
    for _ in range(5):  # step backward to the end of the default graph
        click(at, "graph_bwd_next")
    assert not any(c.value.startswith("w.grad") for c in at.code)  # held back
    assert not any("w.grad == x" in s.value for s in at.success)
    predict(at, "graph_w_grad", ", ".join(f"{v:.4f}" for v in graph_w_grad_by_torch().flatten().tolist()))
    assert "Right:" in messages(at)
    assert any("**w.grad == x** exactly" in s.value for s in at.success)  # revealed after the prediction


def test_graph_explains_a_wrong_w_grad():
    at = quiz_page("pages/graph.py")
    at.radio(key="graph_view").set_value("bwd").run()
    for _ in range(5):
        click(at, "graph_bwd_next")
    predict(at, "graph_w_grad", "0")
    assert "Only a tensor y does not depend on" in messages(at)


def test_retain_graph_asks_what_the_second_backward_does():
    at = quiz_page("pages/retain_graph.py")
    click(at, "retain_backward")
    assert any("pnl.grad = tensor([-6.])" in c.value for c in at.code)  # one call: nothing to predict yet
    click(at, "retain_backward")
    assert not any(c.value.startswith("pnl      =") for c in at.code) and not at.warning
    predict(at, "retain_second_backward", "RuntimeError")
    assert "Right: RuntimeError." in messages(at)
    assert any(torch_second_backward_error() in w.value for w in at.warning)  # torch's message, revealed


def test_retain_graph_asks_for_the_doubled_grad():
    p = torch.tensor([-3.0], requires_grad=True)
    y = p ** 2
    y.backward(retain_graph=True)
    once = p.grad.item()
    y.backward()
    at = quiz_page("pages/retain_graph.py")
    at.toggle(key="retain_retain").set_value(True).run()
    click(at, "retain_backward")
    click(at, "retain_backward")
    predict(at, "retain_retained_grad", f"{once:g}")
    assert "one call's gradient" in messages(at)
    click(at, "quiz_show_retain_retained_grad")
    assert "one call's gradient" in messages(at) and f"PyTorch gives {p.grad.item():g}" in messages(at)
    assert any(f"pnl.grad = tensor([{p.grad.item():.0f}.])" in c.value for c in at.code)


def test_training_asks_for_the_raw_price_loss_before_the_first_step():
    at = quiz_page("pages/training.py")
    assert at.get("metric") and not any("Predict first" in m.value for m in at.markdown)  # zscore: no question
    at.selectbox(key="train_norm").select("none").run()
    click(at, "train_reset")
    assert not at.get("metric")  # held back until predicted
    loss = at.session_state["train_worker"].trainer.valid_loss
    predict(at, "train_raw_loss", f"{loss * 5:.6g}")
    assert "Right:" in messages(at) and at.get("metric")
