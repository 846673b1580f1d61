"""The Training page's settings as widgets see them: each widget as data (key, label, range, first value from the
config's training section; what a copied link carries of it), how the controls column groups them, and the widget
values read back into a FeatureSpec and TrainSettings."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from explorer.data.config import AppConfig, TrainingSection, load_config
from explorer.teaching.controls import SEED_MAX, Control, PageState
from explorer.training.features import FEATURE_COLUMNS, NORMALISATIONS, TARGETS, FeatureError, FeatureSpec, check_spec
from explorer.training.models import (ACTIVATIONS, INITS, LEARNING_RATES, LOSSES, MODELS, OPTIMIZERS, SettingsError,
                                      check_settings, parse_hidden_sizes)
from explorer.training.trainer import TrainSettings, specs_from_config

APPLIED = "config_applied"  # the session key of the config applied on the Config page (its model_dump)
PACES = ["5", "20", "100", "500", "max"]  # the speed slider: steps per second
RATES = sorted(LEARNING_RATES)
SETTINGS_ERRORS = (FeatureError, SettingsError)  # settings that cannot train; the message says why
ONLY_FOR = {"train_hidden": ("train_model", "mlp"), "train_activation": ("train_model", "mlp"),
            "train_momentum": ("train_optimizer", "sgd")}  # widget: (the setting, the value it needs to matter)
# The speed and the log axis: they change how a run plays and shows, so a link does not carry them.
PLAYBACK = PageState((Control("toggle", "train_log_y", "log y"),
                      Control("select_slider", "train_pace", "Speed (steps per second)", tuple(PACES),
                              "slow motion to watch each step; changes apply while training", first="max")))
INTRO = ("The second seed notebook, live: a linear model from scratch (or nn.Linear / an MLP) on the previous k "
         "candles predicts the next one. Try normalisation `none` to watch the seed's loss explode.")
SETTINGS_CHANGED = ("The settings (or the loaded candles, or the device) changed: this run keeps its own; press Reset "
                    "to train with the new ones.")


def training_section(applied: dict | None) -> TrainingSection:
    """The training section of the config applied on the Config page (its model_dump), else the bundled config's."""
    return AppConfig.model_validate(applied).training if applied else load_config().training


def training_state(section: TrainingSection, n_candles: int) -> PageState:
    """The Training page's widgets, in link order, first values from the config's `training:` section: with the
    same candles, a copied link gives the same run and the same first loss."""
    f, s = specs_from_config(section, n_candles)
    return PageState((
        Control("slider", "train_rows", "Candles used (from the start)", (50, max(50, n_candles)), first=n_candles),
        Control("slider", "train_lags", "Lags k (previous candles per row)", (1, 30), first=f.lags),
        Control("multiselect", "train_columns", "Feature columns", tuple(FEATURE_COLUMNS), first=list(f.columns)),
        Control("selectbox", "train_target", "Target", tuple(TARGETS), first=f.target),
        Control("selectbox", "train_norm", "Normalisation", tuple(NORMALISATIONS),
                "none reproduces the seed's explosion; min-max and z-score use training rows only",
                first=f.normalisation),
        Control("slider", "train_valid", "Validation share (the last part of time)", (0.05, 0.5),
                first=f.validation_fraction, more={"step": 0.05}),
        Control("selectbox", "train_model", "Model", tuple(MODELS), first=s.model),
        Control("text_input", "train_hidden", "MLP hidden sizes", first=", ".join(map(str, s.hidden_sizes)),
                max_len=40),
        Control("selectbox", "train_activation", "Activation", tuple(ACTIVATIONS), first=s.activation),
        Control("selectbox", "train_init", "Initialisation", tuple(INITS), first=s.init),
        Control("selectbox", "train_loss", "Loss", tuple(LOSSES), first=s.loss),
        Control("selectbox", "train_optimizer", "Optimiser", tuple(OPTIMIZERS), first=s.optimizer),
        Control("checkbox", "train_zero_grad", "Zero the gradients every step",
                help="off = the seed's trap: each backward() adds onto the earlier gradients", first=s.zero_grad),
        Control("select_slider", "train_lr", "Learning rate", tuple(rate_options(section)), first=s.learning_rate,
                more={"format_func": rate_label}),
        Control("slider", "train_momentum", "Momentum (torch.optim.SGD)", (0.0, 0.99), first=s.momentum,
                more={"step": 0.01}),
        Control("number_input", "train_batch", "Batch size", (1, 100_000), first=s.batch_size),
        Control("number_input", "train_epochs", "Epochs", (1, 10_000), first=s.epochs),
        Control("number_input", "train_seed", "Random seed", (0, SEED_MAX), first=s.seed),
    ))


def control_groups(n_candles: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The controls column's expanders and their widgets, by key (no "Candles used" slider for 50 candles or fewer:
    a run uses them all)."""
    rows = ("train_rows",) if n_candles > 50 else ()
    return (("Data and features", (*rows, "train_lags", "train_columns", "train_target", "train_norm", "train_valid")),
            ("Model, loss, optimiser", ("train_model", "train_hidden", "train_activation", "train_init", "train_loss",
                                        "train_optimizer", "train_zero_grad", "train_lr", "train_momentum",
                                        "train_batch", "train_epochs", "train_seed")))


def greyed_out(key: str, values: Mapping) -> bool:
    """Whether a widget is disabled for the settings `values` (by key): it matters to one model or optimiser only."""
    needs = ONLY_FOR.get(key)
    return needs is not None and values[needs[0]] != needs[1]


def rate_label(rate: float) -> str:
    """A learning rate as the slider writes it: 0.001, 3e-05."""
    return f"{rate:g}"


def rate_options(section) -> list[float]:
    """The learning-rate slider's stops: the offered rates and the config's own."""
    return sorted({*RATES, section.learning_rate})


def read_settings(values: Mapping, n_candles: int, section) -> tuple[FeatureSpec, TrainSettings]:
    """The widgets' values (by key) as a FeatureSpec and TrainSettings; raises SettingsError for hidden sizes that
    do not parse (an MLP's only: another model keeps the config's)."""
    rows = values["train_rows"] if n_candles > 50 else n_candles  # (no slider for so few candles)
    spec = FeatureSpec(rows, values["train_lags"], tuple(values["train_columns"]), values["train_target"],
                       values["train_norm"], values["train_valid"])
    model = values["train_model"]
    hidden = parse_hidden_sizes(values["train_hidden"]) if model == "mlp" else tuple(section.hidden_sizes)
    settings = TrainSettings(model=model, hidden_sizes=hidden, activation=values["train_activation"],
                             init=values["train_init"], loss=values["train_loss"],
                             optimizer=values["train_optimizer"], zero_grad=values["train_zero_grad"],
                             learning_rate=values["train_lr"], momentum=values["train_momentum"],
                             batch_size=int(values["train_batch"]), epochs=int(values["train_epochs"]),
                             seed=int(values["train_seed"]))
    return spec, settings


def check_run(frame: pd.DataFrame, spec: FeatureSpec, settings: TrainSettings) -> None:
    """The cheap checks before a run (building the features waits for Reset); raises FeatureError/SettingsError."""
    check_settings(spec.is_classification, settings.model, settings.loss, list(settings.hidden_sizes))
    check_spec(frame, spec)


def read_run(values: Mapping, frame: pd.DataFrame,
             section: TrainingSection) -> tuple[FeatureSpec | None, TrainSettings | None, str | None]:
    """The widgets' values as a run's FeatureSpec and TrainSettings, or a message saying why they cannot train on
    `frame` (the cheap checks only: building the features waits for Reset)."""
    try:
        spec, settings = read_settings(values, len(frame), section)
        check_run(frame, spec, settings)
    except SETTINGS_ERRORS as exc:
        return None, None, str(exc)
    return spec, settings, None
