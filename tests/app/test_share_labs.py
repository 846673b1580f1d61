"""Accumulation and retain_graph links: query parameters in → the same widgets, the same clicks, the same numbers."""
from __future__ import annotations


import pytest
from streamlit.testing.v1 import AppTest

from explorer.labs.accumulation import AccumulationLab, replay
from explorer import load_candles
from explorer.data.config import load_config, resolve_data_path
from explorer.labs.retain import TRADING_LOSSES, RetainLab, replay_calls
from explorer.tensors import candle_row
from tests.app.apptest import APP, component_html, html_table


@pytest.fixture(scope="module")
def frame():
    """The candles the app loads by default."""
    d = (config := load_config()).data
    return load_candles(str(resolve_data_path(config)), sep=d.separator, nrows=d.train_rows,
                        names=list(d.features)).frame


def open_link(page: str, params: dict[str, str]) -> AppTest:
    """A copied link opened in a fresh browser: a new session whose first run is that page."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()  # app.py's first run (AppTest opens on the default page; the browser test opens the page's URL)
    at.switch_page(f"pages/{page}.py").run()  # the page's first show: share_state reads the link
    assert not at.exception
    return at


def history(at: AppTest):
    return html_table(component_html(at, "acc-history"))


def test_accumulation_clicks_travel_and_replay(frame):
    at = open_link("accumulation", {})
    at.number_input(key="acc_row").set_value(9).run()
    at.number_input(key="acc_seed").set_value(4).run()
    at.button(key="acc_step").click().run()
    at.number_input(key="acc_steps").set_value(2).run()
    at.button(key="acc_run").click().run()
    at.button(key="acc_zero_false").click().run()
    at.toggle(key="acc_zero_each").set_value(True).run()
    at.button(key="acc_step").click().run()
    at.button(key="acc_zero_none").click().run()
    at.button(key="acc_grad_zero").click().run()
    url = dict(at.query_params)
    assert (url["acc_row"], url["acc_seed"], url["acc_steps"], url["acc_zero_each"]) == ("9", "4", "2", "1")
    assert url["acc_history"] == "FFFZfNG"

    again = open_link("accumulation", url)
    assert [w.value for w in again.warning] == [w.value for w in at.warning]  # the failed .grad.zero_() only
    assert again.number_input(key="acc_row").value == 9 and again.toggle(key="acc_zero_each").value is True
    assert history(again).equals(history(at))
    assert again.code[0].value == at.code[0].value

    lab = AccumulationLab(candle_row(frame, 9), 4)  # PyTorch reference: the same clicks on a fresh lab
    replay(lab, "FFF")
    assert history(again).iloc[3]["b.grad"] == 3.0 and lab.w.grad.tolist()[0] == pytest.approx(
        [history(again).iloc[3][f"w.grad[{c}]"] for c in frame.columns], abs=5e-5)  # the table shows 4 decimals


@pytest.mark.parametrize("params, words", [({"acc_history": "FFx"}, "`acc_history` = 'FFx' ignored"),
                                           ({"acc_row": "1000"}, "`acc_row` = '1000' ignored"),
                                           ({"acc_lr": "0.5"}, "not one of the choices"),
                                           ({"acc_steps": "0"}, "`acc_steps` = '0' ignored")])
def test_accumulation_bad_link_values_are_messages(params, words):
    at = open_link("accumulation", params)
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(history(at)) == 1  # a fresh lab: just the reset row


def test_retain_calls_travel_and_replay():
    at = open_link("retain_graph", {})
    at.slider(key="retain_pnl").set_value(-2.5).run()
    at.radio(key="retain_loss").set_value(list(TRADING_LOSSES)[2]).run()
    at.toggle(key="retain_retain").set_value(True).run()
    at.button(key="retain_backward").click().run()
    at.toggle(key="retain_retain").set_value(False).run()
    at.button(key="retain_grad").click().run()
    at.button(key="retain_backward").click().run()  # fails: autograd.grad freed the graph
    url = dict(at.query_params)
    assert (url["retain_pnl"], url["retain_calls"], url["retain_retain"]) == ("-2.5", "Bab", "0")

    again = open_link("retain_graph", url)
    assert [w.value for w in again.warning] == [w.value for w in at.warning]  # "PyTorch refused", both times
    assert again.slider(key="retain_pnl").value == -2.5 and again.radio(key="retain_loss").value == list(TRADING_LOSSES)[2]
    assert component_html(again, "retain-events") == component_html(at, "retain-events")
    assert again.code[0].value == at.code[0].value
    lab = RetainLab(-2.5, list(TRADING_LOSSES)[2])
    replay_calls(lab, "Bab")
    assert "RuntimeError" in lab.events[-1].result and lab.pnl.grad.item() == -5.0
    assert f"pnl.grad = {lab.pnl.grad}" in again.code[0].value


@pytest.mark.parametrize("params, words", [({"retain_pnl": "0.25"}, "not one of the choices"),
                                           ({"retain_pnl": "nan"}, "`retain_pnl` = 'nan' ignored"),
                                           ({"retain_loss": "mine"}, "not one of the choices"),
                                           ({"retain_calls": "BBz"}, "`retain_calls` = 'BBz' ignored")])
def test_retain_bad_link_values_are_messages(params, words):
    at = open_link("retain_graph", params)
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.slider(key="retain_pnl").value == -3.0 or "retain_pnl" not in params


def test_lab_buttons_have_keyboard_shortcuts():
    acc = open_link("accumulation", {})
    assert acc.button(key="acc_step").proto.shortcut == "f" and "keyboard: F" in acc.button(key="acc_step").help
    ret = open_link("retain_graph", {})
    assert ret.button(key="retain_backward").proto.shortcut == "b"


def test_unavailable_device_from_a_link_is_refused(cpu_only):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["device"] = "cuda"
    at.run()
    assert any("does not have" in w.value and "cuda" in w.value for w in at.warning)
    assert at.selectbox(key="device").value == "cpu" and at.selectbox(key="device").options == ["cpu"]
    assert "device" not in at.query_params
    at.switch_page("pages/graph.py").run()  # (AppTest runs a switched-to page without the router's sidebar)
    assert not at.exception


def test_data_page_shows_the_device_as_the_seed_did(cpu_only):
    at = open_link("data", {"data": "sample:250"})
    assert "(torch.float32, torch.Size([250, 5]), device(type='cpu'))" in at.code[0].value
    assert any(m.label == "device" and m.value == "device(type='cpu')" for m in at.metric)


def test_accumulation_tab_travels_in_the_link():
    at = open_link("accumulation", {"acc_tab": "micro-batches"})  # a link opens on its tab
    assert at.number_input(key="acc_mb_k") and "acc_step" not in [b.key for b in at.button]
    at.number_input(key="acc_mb_k").set_value(4).run()
    assert dict(at.query_params)["acc_tab"] == "micro-batches" and dict(at.query_params)["acc_mb_k"] == "4"
    again = open_link("accumulation", {"acc_tab": "mine"})
    assert any("`acc_tab` = 'mine' ignored" in w.value for w in again.warning)
    assert again.button(key="acc_step")  # the first tab


def reproducible(at: AppTest) -> list[str]:
    """The code blocks on screen but the seed's prediction with an unseeded model (new numbers every run)."""
    return [c.value for c in at.code if not c.value.startswith("Predicted class")]


def test_modules_widgets_travel_in_the_link():
    at = open_link("modules", {})
    at.number_input(key="modules_in").set_value(3).run()
    at.selectbox(key="modules_init").set_value("zeros_").run()
    at.slider(key="modules_window").set_value(4).run()
    at.text_input(key="modules_index").set_value("t[..., 0]").run()
    url = dict(at.query_params)
    assert (url["modules_in"], url["modules_init"], url["modules_window"], url["modules_index"]) == (
        "3", "zeros_", "4", "t[..., 0]")
    again = open_link("modules", url)
    assert again.number_input(key="modules_in").value == 3 and again.selectbox(key="modules_init").value == "zeros_"
    assert reproducible(again) == reproducible(at)  # the same printouts and lessons
    bad = open_link("modules", {"modules_in": "9", "modules_init": "eye_"})
    assert sum("ignored" in w.value for w in bad.warning) == 2 and bad.number_input(key="modules_in").value == 4
