"""AppTest of the Autograd errors page: every view opens on the broken code with PyTorch's own message on screen,
next to the fix and its numbers (plain torch as the reference); the view travels in a link; the quiz asks first."""
from __future__ import annotations

import warnings

import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer import load_candles
from explorer.data.config import load_config, resolve_data_path
from explorer.data.sources import literal
from tests.app.apptest import APP, click, light_drawn, open_app_page
from tests.app.test_code_blocks import assert_lessons

VIEWS = ("inplace", "leaf", "no_grad", "vector", "non_leaf", "numpy", "device")


@pytest.fixture(scope="module")
def frame():
    d = (config := load_config()).data
    return load_candles(str(resolve_data_path(config)), sep=d.separator, nrows=d.train_rows,
                        names=list(d.features)).frame


def inputs(frame, row=100, seed=0):
    candles = frame.iloc[row - 3:row + 1]
    opens, closes = (torch.tensor(candles[c].to_numpy(), dtype=torch.float32) for c in ("open", "close"))
    return 10_000 * (closes - opens) / opens, lambda: torch.randn(4, generator=torch.Generator().manual_seed(seed),
                                                                   requires_grad=True)


def said(call) -> str:
    """What plain torch raises (or warns) for call(), as the page shows it."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            call()
        except (RuntimeError, AssertionError) as exc:
            return f"{type(exc).__name__}: {exc}"
    return f"{seen[0].category.__name__}: {seen[0].message}"


def expected(frame, view: str) -> tuple[str | None, str]:
    """(PyTorch's message for the broken lesson, or None on a CPU-only machine; the fix's value as printed)."""
    x, w0 = inputs(frame)
    w = w0()
    loss = ((x * w).sum() - 1) ** 2
    if view == "inplace":
        s = torch.sigmoid(x * w)
        return said(lambda: (lambda y: (y.add_(1), y.sum().backward()))(torch.sigmoid(x * w0()))), \
            repr(x * (s * (1 - s)).detach())
    if view == "leaf":
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
        return said(lambda: w0().sub_(1)), repr(w)
    if view == "no_grad":
        with torch.no_grad():
            frozen = ((x * w0()).sum() - 1) ** 2
        loss.backward()
        return said(frozen.backward), repr(w.grad)
    if view == "vector":
        v = torch.tensor([1.0, -1.0, 0.5, 2.0])
        jacobian = torch.autograd.functional.jacobian(lambda w: torch.cumsum(x * w, dim=0), w.detach())
        return said(lambda: torch.cumsum(x * w0(), 0).backward()), repr(jacobian.T @ v)
    if view == "non_leaf":
        h = x * w
        torch.set_warn_always(True)
        try:
            message = said(lambda: (x * w0()).grad)
        finally:
            torch.set_warn_always(False)
        return message, repr(2 * (h.sum() - 1).detach() * torch.ones(4))
    if view == "numpy":
        return said(lambda: (x * w0()).numpy()), repr((x * w).detach().numpy())
    if torch.cuda.is_available():
        return said(lambda: x * w0().to("cuda")), repr((x.to("cuda") * w.to("cuda")).cpu())
    return None, repr(x * w)


def shown(at: AppTest) -> str:
    return "\n".join(e.value for e in list(at.error) + list(at.warning) + list(at.info))


@pytest.mark.parametrize("view", VIEWS)
def test_each_view_shows_torchs_message_and_the_fix(frame, view):
    at = open_app_page("pages/errors.py")
    at.radio(key="errors_view").set_value(view).run()
    assert not at.exception
    message, fixed = expected(frame, view)
    if message is None:  # no GPU: the view says why, with what PyTorch says here
        assert "no GPU" in shown(at)
    else:
        assert literal(message) in shown(at)
    printouts = [c.value for c in at.code if c.language == "text"]
    assert any(fixed in p for p in printouts), (fixed, printouts)
    assert any('class="graph-svg"' in h for h in light_drawn(at))
    assert any("/scratchpad?code=" in m.value for m in at.markdown)
    assert_lessons(at, f"errors {view}")  # every code block is a lesson: broken, fixed, and where x and w come from


def test_opens_on_the_first_error_with_its_message(frame):
    at = open_app_page("pages/errors.py")
    assert at.radio(key="errors_view").value == "inplace"
    assert "is at version 1; expected version 0" in shown(at)
    svg = next(h for h in light_drawn(at) if "SigmoidBackward0" in h)
    assert "saved result: v0, now v1 ✗" in svg


def test_the_view_and_row_travel_in_a_link(frame):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["errors_view"] = "vector"
    at.query_params["errors_row"] = "50"
    at.run()
    at.switch_page("pages/errors.py").run()
    assert not at.exception
    assert at.radio(key="errors_view").value == "vector" and at.number_input(key="errors_row").value == 50
    x, w0 = inputs(frame, 50)
    jacobian = torch.autograd.functional.jacobian(lambda w: torch.cumsum(x * w, dim=0), w0().detach())
    assert any(repr(jacobian.T @ torch.tensor([1.0, -1.0, 0.5, 2.0])) in c.value for c in at.code)
    at.radio(key="errors_view").set_value("numpy").run()
    assert at.query_params["errors_view"] == ["numpy"] or at.query_params["errors_view"] == "numpy"


def test_quiz_asks_which_version_before_the_message():
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["quiz"] = "1"
    at.run()
    at.switch_page("pages/errors.py").run()
    assert "is at version" not in shown(at)  # held back until the prediction
    at.text_input(key="quiz_in_errors_inplace_version").set_value("1")
    click(at, "quiz_check_errors_inplace_version")
    assert "is at version 1; expected version 0" in shown(at)
    assert any("Right" in s.value for s in at.success)


def test_a_bad_link_is_refused_with_a_message():
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["errors_view"] = "<script>"
    at.query_params["errors_row"] = "2"  # candle_moves needs the three candles before the row
    at.run()
    at.switch_page("pages/errors.py").run()
    assert not at.exception
    refused = "\n".join(w.value for w in at.warning)
    assert "`errors_view`" in refused and "`errors_row`" in refused
    assert at.radio(key="errors_view").value == "inplace" and at.number_input(key="errors_row").value == 100
