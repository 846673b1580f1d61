"""The training page's controls: widgets, defaulting to the config's training section, into the run's settings."""
from __future__ import annotations

import streamlit as st

from explorer.data.config import AppConfig, TrainingSection, load_config
from explorer.teaching.shareable import Shared
from explorer.training.features import FEATURE_COLUMNS, NORMALISATIONS, TARGETS, FeatureSpec
from explorer.training.models import ACTIVATIONS, INITS, LEARNING_RATES, LOSSES, MODELS, OPTIMIZERS, parse_hidden_sizes
from explorer.training.trainer import TrainSettings, specs_from_config
from pages._common import publish_state, share_state
from pages._state import init_widgets

PACES = ["5", "20", "100", "500", "max"]
RATES = sorted(LEARNING_RATES)


def pick(label: str, options, default: str, key: str, **kw) -> str:
    """A selectbox whose default comes from the config (given through session state, as every widget's is)."""
    init_widgets({key: default})
    return st.selectbox(label, options, key=key, **kw)


def shared_settings(n_candles: int) -> tuple[Shared, ...]:
    """The settings a copied link carries: with the same candles, the same run and the same first loss."""
    return (Shared("train_rows", "int", 50, max(50, n_candles)), Shared("train_lags", "int", 1, 30),
            Shared("train_columns", "list", choices=tuple(FEATURE_COLUMNS)),
            Shared("train_target", "str", choices=tuple(TARGETS)),
            Shared("train_norm", "str", choices=tuple(NORMALISATIONS)), Shared("train_valid", "float", 0.05, 0.5),
            Shared("train_model", "str", choices=tuple(MODELS)), Shared("train_hidden", "str", max_len=40),
            Shared("train_activation", "str", choices=tuple(ACTIVATIONS)),
            Shared("train_init", "str", choices=tuple(INITS)), Shared("train_loss", "str", choices=tuple(LOSSES)),
            Shared("train_optimizer", "str", choices=tuple(OPTIMIZERS)), Shared("train_zero_grad", "bool"),
            Shared("train_lr", "float", choices=tuple(RATES)), Shared("train_momentum", "float", 0.0, 0.99),
            Shared("train_batch", "int", 1, 100_000), Shared("train_epochs", "int", 1, 10_000),
            Shared("train_seed", "int", 0, 2**31 - 1))


APPLIED = "config_applied"  # the config applied on the Config page (its model_dump)


def config_training() -> TrainingSection:
    """The training section of the config applied on the Config page, else of the bundled config.

    These are the widgets' defaults: a shared link's values (share_state) still win over them."""
    applied = st.session_state.get(APPLIED)
    return AppConfig.model_validate(applied).training if applied else load_config().training


def train_controls(n_candles: int) -> tuple[FeatureSpec, TrainSettings]:
    """Read the widgets (defaults from the config's training section) into a FeatureSpec and TrainSettings."""
    feats, sets = specs_from_config(config_training(), n_candles)
    shared = shared_settings(n_candles)
    share_state(*shared)
    init_widgets({"train_rows": n_candles, "train_lags": feats.lags, "train_columns": list(feats.columns),
                  "train_valid": feats.validation_fraction, "train_hidden": ", ".join(map(str, sets.hidden_sizes)),
                  "train_zero_grad": sets.zero_grad, "train_lr": sets.learning_rate, "train_momentum": sets.momentum,
                  "train_batch": sets.batch_size, "train_epochs": sets.epochs, "train_seed": sets.seed})
    with st.expander("Data and features", expanded=True):
        rows = (st.slider("Candles used (from the start)", 50, n_candles, key="train_rows")
                if n_candles > 50 else n_candles)
        lags = st.slider("Lags k (previous candles per row)", 1, 30, key="train_lags")
        columns = st.multiselect("Feature columns", FEATURE_COLUMNS, key="train_columns")
        target = pick("Target", TARGETS, feats.target, "train_target")
        norm = pick("Normalisation", NORMALISATIONS, feats.normalisation, "train_norm",
                    help="none reproduces the seed's explosion; min-max and z-score use training rows only")
        valid = st.slider("Validation share (the last part of time)", 0.05, 0.5, step=0.05, key="train_valid")
    with st.expander("Model, loss, optimiser", expanded=True):
        model = pick("Model", MODELS, sets.model, "train_model")
        hidden = st.text_input("MLP hidden sizes", key="train_hidden",
                               disabled=model != "mlp")
        activation = pick("Activation", ACTIVATIONS, sets.activation, "train_activation", disabled=model != "mlp")
        init = pick("Initialisation", INITS, sets.init, "train_init")
        loss = pick("Loss", LOSSES, sets.loss, "train_loss")
        optimizer = pick("Optimiser", OPTIMIZERS, sets.optimizer, "train_optimizer")
        zero_grad = st.checkbox("Zero the gradients every step", key="train_zero_grad",
                                help="off = the seed's trap: each backward() adds onto the earlier gradients")
        lr = st.select_slider("Learning rate", sorted({*RATES, sets.learning_rate}),
                              format_func=lambda v: f"{v:g}", key="train_lr")
        momentum = st.slider("Momentum (torch.optim.SGD)", 0.0, 0.99, step=0.01, key="train_momentum",
                             disabled=optimizer != "sgd")
        batch = st.number_input("Batch size", 1, 100_000, key="train_batch")
        epochs = st.number_input("Epochs", 1, 10_000, key="train_epochs")
        seed = st.number_input("Random seed", 0, 2**31 - 1, key="train_seed")
    publish_state(*shared)
    spec = FeatureSpec(rows, lags, tuple(columns), target, norm, valid)
    hidden_sizes = parse_hidden_sizes(hidden) if model == "mlp" else sets.hidden_sizes
    settings = TrainSettings(model=model, hidden_sizes=hidden_sizes, activation=activation, init=init, loss=loss,
                             optimizer=optimizer, zero_grad=zero_grad, learning_rate=lr, momentum=momentum,
                             batch_size=int(batch), epochs=int(epochs), seed=int(seed))
    return spec, settings
