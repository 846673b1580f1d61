"""The pages' state layer: widgets get their values through session state only, so Streamlit's duplication
warning (switched back on here, as in .streamlit/config.toml) has nothing to warn about, links included."""
from __future__ import annotations

import pytest
from streamlit import config
from streamlit.elements.lib import policies
from streamlit.testing.v1 import AppTest

from tests.app.apptest import APP

LINKS = {  # a page and a link that sets every value it shares
    "pages/graph.py": {"graph_row": "7", "graph_seed": "3", "graph_expr": "x @ w.T + b", "graph_fwd_pos": "2",
                       "graph_classic": "1", "graph_mlp_layers": "3", "graph_mlp_hidden": "8"},
    "pages/accumulation.py": {"acc_row": "5", "acc_seed": "2", "acc_steps": "4", "acc_zero_each": "1",
                              "acc_history": "FFN", "acc_lr": "0.001", "acc_mb_start": "3", "acc_mb_size": "6",
                              "acc_mb_k": "2"},
    "pages/retain_graph.py": {"retain_pnl": "2.5", "retain_loss": "fixed: else branch", "retain_retain": "1",
                              "retain_calls": "Bb"},
    "pages/training.py": {"train_rows": "400", "train_lags": "2", "train_target": "next_close",
                          "train_model": "mlp", "train_hidden": "8", "train_lr": "0.001", "train_batch": "64",
                          "train_epochs": "2", "train_seed": "4", "train_zero_grad": "0"},
    "pages/data.py": {"data": "sample:300"},
}


@pytest.fixture
def duplication_warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every widget-state duplication warning Streamlit logs (it logs the first one per process only: reset)."""
    seen: list[str] = []
    monkeypatch.setattr(config, "get_option", lambda name, _get=config.get_option: False
                        if name == "global.disableWidgetStateDuplicationWarning" else _get(name))
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)

    def record(message, *args, **kwargs):
        seen.append(message % args)
        policies._shown_default_value_warning = False  # keep listening after the first one

    monkeypatch.setattr(policies._LOGGER, "warning", record)
    return seen


@pytest.mark.parametrize("page", list(LINKS))
@pytest.mark.parametrize("with_link", [False, True])
def test_no_widget_gets_a_value_twice(page, with_link, duplication_warnings):
    at = AppTest.from_file(str(APP), default_timeout=90)
    if with_link:
        at.query_params.update(LINKS[page])
    at.run()
    at.switch_page(page).run()
    at.run()  # and the rerun after it
    assert not at.exception
    assert not [w for w in at.warning if "ignored" in w.value]  # every link value above was taken
    assert duplication_warnings == [], duplication_warnings


def test_click_history_is_not_a_widget_key():
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params.update({"acc_history": "FF"})
    at.run()
    at.switch_page("pages/accumulation.py").run()
    assert "acc_history" not in at.session_state  # the link's clicks went to the lab, not into a widget's state
    assert [r.action for r in at.session_state["acc_lab"].history] == ["reset (new w, b)"] + ["forward + backward"] * 2
    assert at.query_params["acc_history"] == "FF"
