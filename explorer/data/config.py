"""YAML configs (the seed's `configs.yaml`), validated with pydantic into clear errors."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from explorer.data.columns import OHLCV

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "configs" / "configs.yaml"
MAX_CONFIG_BYTES = 64_000


class ConfigError(ValueError):
    """The config cannot be used; the message names the key and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DataSection(_Strict):
    """Where the candles come from and how to read them (the seed's keys)."""
    file_path: str = Field(min_length=1)
    separator: str = Field(default="|", min_length=1, max_length=2)
    train_rows: int = Field(default=1000, gt=0, le=2_000_000)
    features: list[str] = Field(default=["timestamp", *OHLCV],
                                min_length=2, max_length=64)


class TrainingSection(_Strict):
    """Defaults for the training page (ranges match its widgets, so any valid config can be shown)."""
    lags: int = Field(default=3, ge=1, le=30)
    columns: list[Literal[OHLCV]] = Field(default=list(OHLCV), min_length=1)
    target: Literal["next_high", "next_close", "next_return", "next_direction"] = "next_high"
    normalisation: Literal["none", "minmax", "zscore", "log_returns"] = "zscore"
    validation_fraction: float = Field(default=0.2, ge=0.05, le=0.5)
    model: Literal["scratch_linear", "linear", "mlp"] = "scratch_linear"
    hidden_sizes: list[Annotated[int, Field(ge=1, le=1024)]] = Field(default=[16, 16], max_length=6)
    activation: Literal["relu", "tanh", "sigmoid"] = "relu"
    init: Literal["seed_sqrt_n", "pytorch_default"] = "pytorch_default"
    loss: Literal["mse", "mae", "huber", "bce_logits", "cross_entropy"] = "mse"
    optimizer: Literal["manual_sgd", "sgd", "adam"] = "manual_sgd"
    zero_grad: bool = True
    learning_rate: float = Field(default=0.01, gt=0, le=10)
    momentum: float = Field(default=0.0, ge=0, le=0.99)
    batch_size: int = Field(default=64, ge=1, le=100_000)
    epochs: int = Field(default=200, ge=1, le=10_000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class AppConfig(_Strict):
    """The whole config file."""
    data: DataSection
    training: TrainingSection = TrainingSection()


def _describe(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            lines.append(f"unknown key `{where}`")
        elif e["type"] == "missing":
            lines.append(f"missing key `{where}`")
        else:
            lines.append(f"`{where}`: {e['msg']} (got {e.get('input')!r:.60})")
    return "The config has problems: " + "; ".join(lines) + "."


def _refuse_aliases(text: str) -> None:
    """Anchors/aliases let a few lines expand into billions of values ("billion laughs"): a config needs none."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise ConfigError("The config uses a YAML alias (`*name`); aliases are not allowed here, write the "
                              "value out.")


def parse_config(text: str) -> AppConfig:
    """Parse YAML text into a validated config, or raise ConfigError saying what is wrong."""
    if len(text.encode("utf-8", "replace")) > MAX_CONFIG_BYTES:
        raise ConfigError(f"The config is larger than {MAX_CONFIG_BYTES // 1000} kB; a config is a few lines.")
    try:
        _refuse_aliases(text)
        raw = read_config(text)
    except RecursionError:  # PyYAML composes nested [[[...]]] recursively
        raise ConfigError("The config is nested too deeply to read; a config is a few flat sections.") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise ConfigError(f"The config is not valid YAML{at}: {getattr(exc, 'problem', exc)}.") from None
    if not isinstance(raw, dict):
        raise ConfigError("The config must be a mapping with a `data:` section, like configs/configs.yaml.")
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def read_config(text: str) -> dict:
    """Seed Part D: the YAML text as the dictionary `print(config)` shows (parse_config checks it first)."""
    config = yaml.safe_load(text)
    return config


def read_csv_arguments(config: dict) -> dict:
    """Seed Part D: the config's `data:` section as the arguments of the seed's pd.read_csv call."""
    file_path = config["data"]["file_path"]
    sep = config["data"]["separator"]
    nrows = config["data"]["train_rows"]
    cols = config["data"]["features"]
    return dict(filepath_or_buffer=file_path, sep=sep, nrows=nrows, header=None, names=cols)


def load_config(path: Path = DEFAULT_CONFIG) -> AppConfig:
    """Read and validate a config file from disk."""
    return parse_config(Path(path).read_text())


def resolve_data_path(config: AppConfig, root: Path = ROOT) -> Path:
    """The candle file a config names, which must exist inside data/ (relative to the repository root)."""
    name = config.data.file_path
    if Path(name).is_absolute():
        raise ConfigError(f"`data.file_path` must be relative to the project (e.g. data/...), not {name!r}.")
    try:
        path = (root / name).resolve()
        exists = path.is_file()
    except (OSError, ValueError) as exc:  # the file system refuses the name (NUL byte, too long, ...)
        raise ConfigError(f"`data.file_path` cannot be used as a file name: {str(exc)[:160]}.") from None
    if (root / "data").resolve() not in path.parents:
        raise ConfigError(f"`data.file_path` may only name files inside data/; {name!r} is outside it.")
    if not exists:
        raise ConfigError(f"`data.file_path` names {name!r}, but there is no such file in data/.")
    return path


def training_note(config: AppConfig) -> str:
    """What applying a config changes on the Training page, in words."""
    t = config.training
    return (f"The Training page's defaults now follow this config's `training:` section (lags {t.lags}, {t.model}, "
            f"{t.optimizer}, learning rate {t.learning_rate:g}, {t.epochs} epochs); a link's own values still win, "
            "and a run already trained keeps its settings until Reset.")
