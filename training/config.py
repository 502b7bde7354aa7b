"""Training configuration: the YAML schema, its defaults (the paper's recipe) and its checks.

A config file has five sections, each optional (missing keys take the defaults below)::

    model:   HTTConfig's fields but joints, classes and d_model (see ModelSection)
    data:    {dataset, train_split, val_split, image_size, spacing, workers, cache}
    augment: {enabled, translate, blur_radius, brightness, contrast, saturation, hue}
    loss:    {hand_2d, hand_z, object, action}
    train:   {epochs, clips_per_epoch, batch_size, eval_batch_size, lr, weight_decay, lr_step,
              lr_gamma, seed, pretrained, frozen_batchnorm, init_mean_pose, eval_every,
              snapshot_every}

Unknown keys and bad values raise :class:`ConfigError` naming the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from htt_ros.data.dataset import IMAGE_SIZE
from htt_ros.model.config import HTTConfig

DATASETS = {"fpha": ("train", "test"), "h2o": ("train", "val", "test")}  # layout -> its splits


class ConfigError(ValueError):
    """An invalid training config: the message names the key, the value and what is allowed."""


# HTTConfig fields a config does not set: the data set's labels give the joints and classes,
# and d_model is the ResNet-18 feature width the transformers take.
_NOT_CONFIGURABLE = ("num_joints", "num_objects", "num_actions", "d_model")
_HTT_TYPES = typing.get_type_hints(HTTConfig)

ModelSection = dataclasses.make_dataclass(
    "ModelSection",
    [
        (f.name, _HTT_TYPES[f.name], field(default=f.default))
        for f in fields(HTTConfig)
        if f.name not in _NOT_CONFIGURABLE
    ],
    frozen=True,
    namespace={
        "__module__": __name__,
        "__doc__": "Network sizes: the :class:`htt_ros.model.HTTConfig` fields and defaults "
        "but joints, classes and d_model. ``window`` is t, ``clip_length`` is T.",
    },
)


@dataclass(frozen=True)
class DataSection:
    """Data set and clip sampling.

    ``image_size`` (W, H) is the network input; frames are resized from 480x270 (the aspect
    ratio must stay 16:9 because decoding uses fx for both axes). ``spacing`` is the temporal
    subsampling inside a clip. ``cache`` decodes every frame once into ``<data>/htt_cache``.
    """

    dataset: str = "fpha"
    train_split: str = "train"
    val_split: str = "test"
    image_size: tuple[int, int] = IMAGE_SIZE
    spacing: int = 2
    workers: int = 4
    cache: bool = False


@dataclass(frozen=True)
class AugmentSection:
    """The authors' training augmentation (training/augment.py); ranges at 480x270, scaled with
    the image.

    ``translate``: per-clip shift up to ``translate * W`` px in x and y; ``blur_radius``: per-frame
    Gaussian blur of radius U(0, 1) * this; colour factors per clip: brightness, contrast and
    saturation U(1 - x, 1 + x), hue U(-x, x).
    """

    enabled: bool = True
    translate: float = 0.1
    blur_radius: float = 0.5
    brightness: float = 0.5
    contrast: float = 0.5
    saturation: float = 0.5
    hue: float = 0.15


@dataclass(frozen=True)
class LossSection:
    """Loss weights: L1 2D (px), L1 depth (m), per-frame object CE, per-clip action CE."""

    hand_2d: float = 1.0
    hand_z: float = 100.0
    object: float = 1.0
    action: float = 1.0


@dataclass(frozen=True)
class TrainSection:
    """Optimisation (Adam, StepLR stepped per epoch) and run schedule.

    ``frozen_batchnorm``: the authors run the network in eval mode while training, so batch-norm
    uses its (ImageNet) running statistics and never updates them. ``init_mean_pose``: a new
    run starts the pose head's output bias at the training set's mean 2.5D pose (from scratch
    at reduced resolution fx is small, so the mean depth needs raw outputs of ~10, which Adam
    takes thousands of steps to reach from 0, i.e. Z = 0.4 m). ``clips_per_epoch``: train each
    epoch on a fresh random subset of that many training clips (0: every clip, the paper's
    epoch), so short runs get more, cheaper epochs (evaluations, LR steps). ``eval_every``:
    validate every N epochs (and after the last). ``snapshot_every``: keep
    ``checkpoint_<epoch>.pth`` every N.
    """

    epochs: int = 45
    clips_per_epoch: int = 0
    batch_size: int = 2
    eval_batch_size: int = 8
    lr: float = 3e-5
    weight_decay: float = 0.0
    lr_step: int = 15
    lr_gamma: float = 0.5
    seed: int = 0
    pretrained: bool = True
    frozen_batchnorm: bool = True
    init_mean_pose: bool = False
    eval_every: int = 5
    snapshot_every: int = 5


@dataclass(frozen=True)
class Config:
    """A full training config; :func:`load_config` reads one from YAML."""

    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    augment: AugmentSection = field(default_factory=AugmentSection)
    loss: LossSection = field(default_factory=LossSection)
    train: TrainSection = field(default_factory=TrainSection)

    def __post_init__(self) -> None:
        _check_values(self)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain containers (YAML-, JSON- and checkpoint-safe); tuples become lists."""
        return {
            f.name: {k: list(v) if isinstance(v, tuple) else v for k, v in vars(s).items()}
            for f in fields(self)
            for s in [getattr(self, f.name)]
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "config") -> Config:
        """Build and check a config from nested dicts; raises :class:`ConfigError`."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping of sections, got {_kind(data)}")
        sections = {f.name: f.type for f in fields(cls)}
        _reject_unknown(data, sections, source, "section")
        hints = typing.get_type_hints(cls)
        built = {
            name: _build_section(hints[name], data.get(name) or {}, f"{source}: {name}")
            for name in sections
        }
        return cls(**built)

    def replace(self, section: str, **values: Any) -> Config:
        """A copy with ``values`` replaced in ``section`` (checked again)."""
        new = dataclasses.replace(getattr(self, section), **values)
        return dataclasses.replace(self, **{section: new})

    def override(self, section: str, **values: Any) -> Config:
        """:meth:`replace` with the values that are not None (command-line flags left unset
        keep the config's value)."""
        return self.replace(section, **{k: v for k, v in values.items() if v is not None})


def load_config(path: str | Path) -> Config:
    """Read a YAML config file; raises :class:`ConfigError` naming the file and the problem."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"config file {path}: cannot read it as YAML ({err})") from None
    return Config.from_dict(data, source=str(path))


def _build_section(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    _reject_unknown(data, hints, where, "key")
    return cls(**{k: _coerce(v, hints[k], f"{where}.{k}") for k, v in data.items()})


def _reject_unknown(data: dict[str, Any], known: Any, where: str, what: str) -> None:
    unknown = sorted(map(str, set(data) - set(known)))
    if unknown:
        raise ConfigError(f"{where}: unknown {what} {unknown}; allowed: {sorted(known)}")


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` as type ``hint`` (bool, int, float, str or ``tuple[int, int]``)."""
    ok: bool
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif hint is str:
        ok = isinstance(value, str)
    elif typing.get_origin(hint) is tuple:
        ok = (
            isinstance(value, list | tuple)
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        )
        value = tuple(value) if ok else value
    else:  # pragma: no cover - every field above has one of these types
        raise TypeError(f"{where}: unsupported field type {hint}")
    if not ok:
        expected = "[W, H] (two integers)" if typing.get_origin(hint) is tuple else hint.__name__
        raise ConfigError(f"{where}: expected {expected}, got {value!r} ({_kind(value)})")
    return value


def _kind(value: Any) -> str:
    return type(value).__name__


def _check_values(cfg: Config) -> None:
    """Ranges and cross-field rules; raises :class:`ConfigError` naming the key."""
    m, d, a, t = cfg.model, cfg.data, cfg.augment, cfg.train
    positive = {f"model.{name}": value for name, value in vars(m).items()} | {
        "data.spacing": d.spacing,
        "train.epochs": t.epochs,
        "train.batch_size": t.batch_size,
        "train.eval_batch_size": t.eval_batch_size,
        "train.lr_step": t.lr_step,
        "train.eval_every": t.eval_every,
        "train.snapshot_every": t.snapshot_every,
    }
    for key, value in positive.items():
        if value < 1:
            raise ConfigError(f"{key}: must be a positive integer, got {value}")
    if m.clip_length % m.window:
        raise ConfigError(
            f"model.clip_length: T={m.clip_length} must be a multiple of model.window t={m.window}"
        )
    if d.dataset not in DATASETS:
        raise ConfigError(f"data.dataset: {d.dataset!r}; allowed: {sorted(DATASETS)}")
    for key, split in (("data.train_split", d.train_split), ("data.val_split", d.val_split)):
        if split not in DATASETS[d.dataset]:
            raise ConfigError(
                f"{key}: {split!r} is not a {d.dataset} split; allowed: "
                f"{list(DATASETS[d.dataset])}"
            )
    width, height = d.image_size
    if width < 32 or height < 18 or width * IMAGE_SIZE[1] != height * IMAGE_SIZE[0]:
        raise ConfigError(
            f"data.image_size: {[width, height]}; must keep the 480x270 aspect ratio (16:9, "
            f"e.g. [480, 270], [256, 144], [128, 72], [64, 36]) because decoding uses fx for "
            f"both axes, and be at least [32, 18]"
        )
    if t.clips_per_epoch < 0:
        raise ConfigError(f"train.clips_per_epoch: must be >= 0 (0: all), got {t.clips_per_epoch}")
    if d.workers < 0:
        raise ConfigError(f"data.workers: must be >= 0, got {d.workers}")
    for key, value in (
        ("augment.translate", a.translate),
        ("augment.blur_radius", a.blur_radius),
        ("train.lr", t.lr),
        ("train.weight_decay", t.weight_decay),
    ):
        if value < 0:
            raise ConfigError(f"{key}: must be >= 0, got {value}")
    for key, value in (
        ("augment.brightness", a.brightness),
        ("augment.contrast", a.contrast),
        ("augment.saturation", a.saturation),
    ):
        if not 0 <= value < 1:
            raise ConfigError(f"{key}: factor range U(1-x, 1+x) needs 0 <= x < 1, got {value}")
    if not 0 <= a.hue <= 0.5:
        raise ConfigError(f"augment.hue: needs 0 <= hue <= 0.5, got {a.hue}")
    if not 0 < t.lr_gamma <= 1:
        raise ConfigError(f"train.lr_gamma: needs 0 < gamma <= 1, got {t.lr_gamma}")
    for key, value in vars(cfg.loss).items():
        if value < 0:
            raise ConfigError(f"loss.{key}: weights must be >= 0, got {value}")
