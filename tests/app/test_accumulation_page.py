"""AppTest of the Gradient accumulation page: each button sequence, numbers checked against plain PyTorch."""
from __future__ import annotations


import re

import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer import load_candles
from explorer.data.config import load_config, resolve_data_path
from explorer.labs.microbatch import compare_microbatches
from tests.app.apptest import as_shown, click, component_html, light_table, light_tables, open_app_page


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """The candles the page uses by default (the bundled sample via the config)."""
    config = load_config()
    d = config.data
    return load_candles(str(resolve_data_path(config)), sep=d.separator, nrows=d.train_rows,
                        names=list(d.features)).frame


@pytest.fixture
def at() -> AppTest:
    return open_app_page("pages/accumulation.py")


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The table on screen that has `column` (each is a light HTML table)."""
    for table in light_tables(at):
        if column in table.columns:
            return table
    raise AssertionError(f"no table with column {column!r}")


def open_tab(at: AppTest, label: str) -> AppTest:
    """Show one of the page's tabs (only the open tab runs)."""
    at.session_state["acc_tab"] = label
    at.run()
    assert not at.exception
    return at


def x_row(frame: pd.DataFrame, row: int) -> torch.Tensor:
    return torch.tensor(frame.values[row], dtype=torch.float32)


def test_run_three_steps_accumulates(at, frame):
    click(at, "acc_run")
    history = table_with(at, "b.grad")
    assert history["b.grad"].tolist()[1:] == [1.0, 2.0, 3.0]
    x = x_row(frame, 100)
    for k in (1, 2, 3):
        assert history.loc[k, "w.grad[open]"] == pytest.approx((k * x)[0].item(), rel=1e-6)
        assert history.loc[k, "w.grad[volume]"] == pytest.approx((k * x)[4].item(), rel=1e-6)
    assert "b.grad = tensor([3.])" in at.code[0].value
    assert len(grad_panels_html(at).split("<b>")) == 7  # six panels


def test_zero_grad_variants_and_grad_zero_error(at, frame):
    click(at, "acc_run")
    click(at, "acc_zero_none")
    assert "w.grad = None" in at.code[0].value and "b.grad = None" in at.code[0].value
    click(at, "acc_grad_zero")  # .grad is None: the AttributeError is a lesson, not a crash
    assert any("AttributeError" in w.value and "'NoneType' object has no attribute 'zero_'" in w.value
               for w in at.warning)
    click(at, "acc_step")
    assert "b.grad = tensor([1.])" in at.code[0].value and not at.warning
    click(at, "acc_zero_false")
    assert "b.grad = tensor([0.])" in at.code[0].value
    click(at, "acc_step")
    history = table_with(at, "b.grad")
    assert history["b.grad"].iloc[-1] == 1.0
    assert history["w.grad[close]"].iloc[-1] == pytest.approx(x_row(frame, 100)[3].item(), rel=1e-6)


def test_zero_after_each_step_toggle_and_reset(at):
    at.toggle(key="acc_zero_each").set_value(True).run()
    click(at, "acc_run")
    history = table_with(at, "b.grad")
    assert history["b.grad"].tolist()[1:] == [1.0, 1.0, 1.0]
    assert "b.grad = tensor([0.])" in at.code[0].value
    click(at, "acc_reset")
    assert len(table_with(at, "b.grad")) == 1


def test_row_and_seed_change_rebuild_the_lab(at, frame):
    click(at, "acc_step")
    at.number_input(key="acc_row").set_value(7).run()
    assert not at.exception
    click(at, "acc_step")
    history = table_with(at, "b.grad")
    assert len(history) == 2  # a fresh lab for the new x
    assert history.loc[1, "w.grad[high]"] == pytest.approx(x_row(frame, 7)[1].item(), rel=1e-6)
    at.number_input(key="acc_steps").set_value(5).run()
    click(at, "acc_run")
    assert table_with(at, "b.grad")["b.grad"].iloc[-1] == 6.0


def test_optimizer_zero_grad_vs_forgetting(at, frame):
    lr = 1e-4
    open_tab(at, "nn.Linear + optimizer")
    for key in ("acc_opt_zero", "acc_opt_zero", "acc_opt_forget", "acc_opt_forget"):
        click(at, key)
    table = light_table(at, "acc-opt")
    assert table["step"].tolist() == [1, 2, 3, 4]
    assert table["optimizer.zero_grad()"].tolist() == ["called", "called", "forgotten", "forgotten"]
    assert table["bias.grad"].tolist() == [1.0, 1.0, 2.0, 3.0]
    assert table["Δbias"].tolist() == [as_shown(-k * lr) for k in (1, 1, 2, 3)]
    assert table["weight.grad[open]"].iloc[-1] == as_shown(3 * x_row(frame, 100)[0].item())
    assert table["Δweight[open]"].iloc[-1] == as_shown(-lr * 3 * x_row(frame, 100)[0].item())
    assert table["Δ == −lr·grad"].tolist() == ["True"] * 4
    click(at, "acc_opt_reset")
    assert not any("Δbias" in t.columns for t in light_tables(at))


def test_optimizer_table_shows_a_tiny_update_with_its_digits(at, frame):
    """At lr = 1e-6 the bias moves by about -1e-6: the table shows its first four digits, not -0.0000."""
    open_tab(at, "nn.Linear + optimizer")
    at.select_slider(key="acc_lr").set_value(1e-6).run()
    click(at, "acc_opt_zero")
    with torch.random.fork_rng(devices=[]):  # the reference: plain PyTorch, seeded as the lab is (seed 0)
        torch.manual_seed(0)
        model = torch.nn.Linear(5, 1)
    before = model.bias.detach().clone()
    model(x_row(frame, 100)).sum().backward()
    torch.optim.SGD(model.parameters(), lr=1e-6).step()
    change = (model.bias.detach() - before).item()
    assert -1.1e-6 < change < -0.9e-6
    assert light_table(at, "acc-opt")["Δbias"].iloc[0] == as_shown(change)
    assert f"<td>{change:.3e}</td>" in component_html(at, "acc-opt")


def test_micro_batches_match_full_batch_and_bad_k_is_an_error(at, frame):
    open_tab(at, "micro-batches")
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["max relative difference, Σ loss_i / k vs full batch"]) < 1e-5
    assert float(metrics["‖Σ loss_i‖ / ‖full batch‖ (no / k)"]) == pytest.approx(3.0, abs=1e-3)
    table = light_table(at, "acc-microbatch")
    assert table["gradient"].tolist() == [f"weight.grad[{c}]" for c in ("open", "high", "low", "close", "volume")] + \
        ["bias.grad"]
    assert (table["Σ loss_i / k"] - table["full batch"]).abs().max() <= 1e-5 * table["full batch"].abs().max()
    assert table["(Σ loss_i) / full"].tolist() == [as_shown(3.0)] * 6
    expected = compare_microbatches(frame, 100, 12, 3, 0).table  # the page's defaults: row 100, 12 rows, k = 3
    for column in expected.columns:
        assert table[column].tolist() == [as_shown(v) for v in expected[column]]
    at.number_input(key="acc_mb_k").set_value(5).run()
    assert not at.exception
    assert any("does not split into 5 equal micro-batches" in e.value for e in at.error)
    at.number_input(key="acc_mb_k").set_value(4).run()
    assert not at.error
    assert float({m.label: m.value for m in at.metric}["‖Σ loss_i‖ / ‖full batch‖ (no / k)"]) == \
        pytest.approx(4.0, abs=1e-3)


def test_code_shown_is_the_code_run(at):
    sources = " ".join(c.value for c in at.code)
    sources += " ".join(c.value for c in open_tab(at, "nn.Linear + optimizer").code)
    sources += " ".join(c.value for c in open_tab(at, "micro-batches").code)
    for name in ("def forward_backward", "def zero_grad", "def grad_zero_", "def sgd_step", "def sgd_step_without_zero_grad",
                 "def accumulated_grad"):
        assert name in sources


def grad_panels_html(at: AppTest) -> str:
    """The small multiples of the gradients (light HTML + SVG, drawn by a component: its data is the HTML)."""
    return component_html(at, 'class="acc-grads"')


def test_chart_gives_each_gradient_its_own_panel_with_torchs_values(at, frame):
    click(at, "acc_run")
    click(at, "acc_zero_none")
    x = x_row(frame, 100)
    w = torch.zeros(1, 5, requires_grad=True)  # the reference: the seed's loop in plain PyTorch
    b = torch.zeros(1, requires_grad=True)
    expected = [[None] * 6]
    for _ in range(3):
        (x @ w.T + b).backward()
        expected.append(w.grad.flatten().tolist() + [b.grad.item()])
    expected.append([None] * 6)
    panels = grad_panels_html(at).split("<b>")[1:]
    names = [f"w.grad[{c}]" for c in frame.columns] + ["b.grad"]
    assert [p.split("</b>")[0] for p in panels] == names
    for i, panel in enumerate(panels):
        values = [row[i] for row in expected if row[i] is not None]  # float32 values, as autograd wrote them
        # one line through actions 1-3 of 0-4 (None after reset and after set_to_none: no point, a gap)
        assert [len(pts.split()) for pts in re.findall(r'points="([^"]*)"', panel)] == [3]
        assert re.findall(r'points="([^"]*)"', panel)[0].startswith("250.0,300.0 500.0,150.0 750.0,0.0")
        assert f"<span>{max(values):.6g}</span><span>{min(values):.6g}</span>" in panel  # its own y axis
    # four nearly equal prices: each in its own panel, titled with the x it grows by
    assert f"+{x[0].item():.6g} per backward" in panels[0] and "+1 per backward" in panels[5]


def test_only_the_open_tab_runs_and_keeps_the_others_settings(at):
    """A hidden tab draws nothing, so its buttons (and their keyboard shortcuts) are not on the page."""
    assert at.button(key="acc_step") and not [b for b in at.button if b.key and b.key.startswith("acc_opt")]
    open_tab(at, "nn.Linear + optimizer")
    assert at.button(key="acc_opt_zero") and not [b for b in at.button if b.key == "acc_step"]
    at.select_slider(key="acc_lr").set_value(1e-5).run()
    click(at, "acc_opt_zero")
    open_tab(at, "micro-batches")
    assert not [b for b in at.button if b.key in ("acc_step", "acc_opt_zero")]
    assert at.query_params["acc_lr"] == "1e-05"  # the hidden tab's setting still travels in the link
    open_tab(at, "nn.Linear + optimizer")
    assert at.select_slider(key="acc_lr").value == 1e-5
    assert len(table_with(at, "Δbias")) == 1  # the same model: switching tabs did not reset it
