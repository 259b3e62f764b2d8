"""Training configs: YAML files for ``douga train vqgan`` and ``douga train transformer``.

A config has the data set, the output folder, the model's shape (the fields of
:class:`~douga.models.vqgan.VQGANConfig` or
:class:`~douga.models.frame_transformer.FrameTransformerConfig`) and the training
settings. Paths are relative to the config file. Unknown keys are errors with a
did-you-mean, as in the project file. Presets (``tiny`` for a CPU, ``base`` for a
GPU) live in ``configs/`` at the top of the repository.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from douga.errors import InputError
from douga.project import format_validation_error, read_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class LoopSettings(_Strict):
    """What every trainer shares."""

    batch_size: int = Field(32, ge=1)
    seed: int = 0
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"  # used on GPUs only
    log_every: int = Field(25, ge=1)
    sample_every: int = Field(500, ge=1)
    checkpoint_every: int = Field(500, ge=1)
    num_workers: int = Field(0, ge=0)
    threads: int = Field(0, ge=0)  # CPU threads for torch; 0 = torch's default


class VQGANTraining(LoopSettings):
    steps: int = Field(20000, ge=1)
    lr: float = Field(2e-4, gt=0)
    disc_lr: float = Field(2e-4, gt=0)
    betas: tuple[float, float] = (0.5, 0.9)
    clip_norm: float = Field(1.0, gt=0)
    disc_start: int = Field(5000, ge=0)  # steps before the GAN loss switches on
    disc_weight: float = Field(0.8, ge=0)
    perceptual: Literal["msssim", "vgg16"] = "msssim"
    perceptual_weight: float = Field(1.0, ge=0)
    vgg16_weights: Path | None = None
    feature_matching_weight: float = Field(1.0, ge=0)  # discriminator feature matching


class TransformerTraining(LoopSettings):
    epochs: int = Field(50, ge=1)
    lr_start: float = Field(5e-6, gt=0)
    lr_max: float = Field(3e-4, gt=0)
    warmup: float = Field(0.15, ge=0, lt=1)  # share of all steps spent warming up
    weight_decay: float = Field(0.01, ge=0)
    clip_norm: float = Field(1.0, gt=0)
    perceptual_weight: float = Field(0.0, ge=0)  # on frames decoded from the predicted tokens
    self_feed_after_epoch: int | None = Field(None, ge=0)  # feed back the model's own frames


class VQGANTrainConfig(_Strict):
    data: Path
    out: Path
    model: dict[str, Any] = Field(default_factory=dict)
    train: VQGANTraining = Field(default_factory=VQGANTraining)


class TransformerTrainConfig(_Strict):
    data: Path
    vqgan: Path  # stage-1 model folder (runs/NAME/model)
    out: Path
    gpt2: Path | None = None  # a pretrained GPT-2 folder for the transformer blocks
    model: dict[str, Any] = Field(default_factory=dict)
    train: TransformerTraining = Field(default_factory=TransformerTraining)


C = TypeVar("C", bound=_Strict)


def load_train_config(path: str | Path, cls: type[C]) -> C:
    """Read and validate a training config; relative paths are resolved against its folder."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found; expected a training config (YAML)")
    data = read_yaml(p)
    if not isinstance(data, dict):
        raise InputError(f"{p}: expected a mapping of config keys at the top level")
    try:
        cfg = cls.model_validate(data)
    except ValidationError as e:
        raise InputError(format_validation_error(e, source=str(p), root=cls)) from None
    base = p.parent
    updates: dict[str, Any] = {}
    for name in ("data", "out", "vqgan", "gpt2"):
        value = getattr(cfg, name, None)
        if isinstance(value, Path) and not value.is_absolute():
            updates[name] = Path(os.path.normpath(base / value))
    train = getattr(cfg, "train", None)
    vgg = train.vgg16_weights if isinstance(train, VQGANTraining) else None
    if train is not None and vgg is not None and not vgg.is_absolute():
        updates["train"] = train.model_copy(update={"vgg16_weights": base / vgg})
    return cfg.model_copy(update=updates)
