"""The Training page's settings as widgets see them: what a copied link carries, each widget's first value (from the
config's training section), and the widget values read back into a FeatureSpec and TrainSettings."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from explorer.data.config import AppConfig, TrainingSection, load_config
from explorer.teaching.shareable import Shared
from explorer.training.features import FEATURE_COLUMNS, NORMALISATIONS, TARGETS, FeatureError, FeatureSpec, check_spec
from explorer.training.models import (ACTIVATIONS, INITS, LEARNING_RATES, LOSSES, MODELS, OPTIMIZERS, SettingsError,
                                      check_settings, parse_hidden_sizes)
from explorer.training.trainer import TrainSettings, specs_from_config

PACES = ["5", "20", "100", "500", "max"]  # the speed slider: steps per second
RATES = sorted(LEARNING_RATES)
SETTINGS_ERRORS = (FeatureError, SettingsError)  # settings that cannot train; the message says why
SETTINGS_CHANGED = ("The settings (or the loaded candles, or the device) changed: this run keeps its own; press Reset "
                    "to train with the new ones.")


def training_section(applied: dict | None) -> TrainingSection:
    """The training section of the config applied on the Config page (its model_dump), else the bundled config's."""
    return AppConfig.model_validate(applied).training if applied else load_config().training


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


def widget_defaults(section, n_candles: int) -> dict:
    """Every training widget's first value, by key, from the config's `training:` section."""
    f, s = specs_from_config(section, n_candles)
    return {"train_rows": n_candles, "train_lags": f.lags, "train_columns": list(f.columns), "train_target": f.target,
            "train_norm": f.normalisation, "train_valid": f.validation_fraction, "train_model": s.model,
            "train_hidden": ", ".join(map(str, s.hidden_sizes)), "train_activation": s.activation,
            "train_init": s.init, "train_loss": s.loss, "train_optimizer": s.optimizer, "train_zero_grad": s.zero_grad,
            "train_lr": s.learning_rate, "train_momentum": s.momentum, "train_batch": s.batch_size,
            "train_epochs": s.epochs, "train_seed": s.seed}


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
