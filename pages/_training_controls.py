"""The training page's controls: widgets, defaulting to the config's training section, into the run's settings."""
from __future__ import annotations

import streamlit as st

from explorer.training.controls import (SETTINGS_ERRORS, check_run, rate_options, read_settings, shared_settings,
                                        training_section, widget_defaults)
from explorer.training.features import FEATURE_COLUMNS, NORMALISATIONS, TARGETS, FeatureSpec
from explorer.training.models import ACTIVATIONS, INITS, LOSSES, MODELS, OPTIMIZERS
from explorer.training.trainer import TrainSettings
from pages._state import init_widgets, publish_state, share_state

APPLIED = "config_applied"  # the config applied on the Config page (its model_dump)


def train_controls(frame) -> tuple[FeatureSpec | None, TrainSettings | None, str | None]:
    """Read the widgets into a FeatureSpec and TrainSettings, or a message saying why they cannot train on `frame`.
    Their defaults come from the training section of the config applied on the Config page, else the bundled one;
    a shared link's values (share_state) win over them."""
    n_candles = len(frame)
    section = training_section(st.session_state.get(APPLIED))
    shared = shared_settings(n_candles)
    share_state(*shared)
    init_widgets(widget_defaults(section, n_candles))
    with st.expander("Data and features", expanded=True):
        if n_candles > 50:
            st.slider("Candles used (from the start)", 50, n_candles, key="train_rows")
        st.slider("Lags k (previous candles per row)", 1, 30, key="train_lags")
        st.multiselect("Feature columns", FEATURE_COLUMNS, key="train_columns")
        st.selectbox("Target", TARGETS, key="train_target")
        st.selectbox("Normalisation", NORMALISATIONS, key="train_norm",
                     help="none reproduces the seed's explosion; min-max and z-score use training rows only")
        st.slider("Validation share (the last part of time)", 0.05, 0.5, step=0.05, key="train_valid")
    with st.expander("Model, loss, optimiser", expanded=True):
        mlp = st.selectbox("Model", MODELS, key="train_model") == "mlp"
        st.text_input("MLP hidden sizes", key="train_hidden", disabled=not mlp)
        st.selectbox("Activation", ACTIVATIONS, key="train_activation", disabled=not mlp)
        st.selectbox("Initialisation", INITS, key="train_init")
        st.selectbox("Loss", LOSSES, key="train_loss")
        sgd = st.selectbox("Optimiser", OPTIMIZERS, key="train_optimizer") == "sgd"
        st.checkbox("Zero the gradients every step", key="train_zero_grad",
                    help="off = the seed's trap: each backward() adds onto the earlier gradients")
        st.select_slider("Learning rate", rate_options(section), format_func=lambda v: f"{v:g}", key="train_lr")
        st.slider("Momentum (torch.optim.SGD)", 0.0, 0.99, step=0.01, key="train_momentum", disabled=not sgd)
        st.number_input("Batch size", 1, 100_000, key="train_batch")
        st.number_input("Epochs", 1, 10_000, key="train_epochs")
        st.number_input("Random seed", 0, 2**31 - 1, key="train_seed")
    publish_state(*shared)
    try:
        spec, settings = read_settings(st.session_state, n_candles, section)
        check_run(frame, spec, settings)  # cheap checks here; building the features waits for Reset
    except SETTINGS_ERRORS as exc:
        return None, None, str(exc)
    return spec, settings, None
