"""Training links: the settings travel in the URL, and a copied link trains to the same first loss."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.apptest import APP, click


def open_link(params: dict[str, str]) -> AppTest:
    """A copied link opened in a fresh browser: a new session whose first look at Training reads the link."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/training.py").run()
    assert not at.exception
    return at


def first_losses(at: AppTest) -> list[float]:
    click(at, "train_reset")
    click(at, "train_step")
    click(at, "train_step")
    return at.session_state["train_worker"].trainer.history.step_losses[:2]


def test_training_settings_travel_and_give_the_same_first_loss():
    at = open_link({})
    at.slider(key="train_lags").set_value(5).run()
    at.multiselect(key="train_columns").set_value(["close", "volume"]).run()
    at.selectbox(key="train_model").select("mlp").run()
    at.selectbox(key="train_optimizer").select("adam").run()
    at.select_slider(key="train_lr").set_value(0.003).run()
    at.number_input(key="train_batch").set_value(32).run()
    at.number_input(key="train_seed").set_value(7).run()
    losses = first_losses(at)
    url = dict(at.query_params)
    assert url["train_columns"] == "close,volume"
    assert (url["train_lags"], url["train_model"], url["train_optimizer"], url["train_lr"], url["train_batch"],
            url["train_seed"]) == ("5", "mlp", "adam", "0.003", "32", "7")

    again = open_link(url)
    assert not again.warning
    assert again.multiselect(key="train_columns").value == ["close", "volume"]
    assert again.slider(key="train_lags").value == 5 and again.number_input(key="train_seed").value == 7
    assert first_losses(again) == losses


def test_bad_training_link_values_are_refused_with_a_message():
    at = open_link({"train_lags": "999", "train_model": "transformer", "train_lr": "nan"})
    said = " ".join(w.value for w in at.warning)
    assert "`train_lags`" in said and "`train_model`" in said and "`train_lr`" in said
    assert at.slider(key="train_lags").value == 3  # the config's default stays
