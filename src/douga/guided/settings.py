"""The ``guidance:`` key of the project file: weights, prompt schedule and optimisation settings.

Light to import (no torch): the project file model embeds it. Example::

    guidance:
      clip: models/clip-vit-base-patch32      # CLIP folder (or hub:openai/clip-vit-base-patch32)
      vqgan: models/vqgan_imagenet_f16_16384.ckpt   # optional; NAME.yaml beside it
      audio_encoder: models/Wav2CLIP.ckpt     # optional: segments follow their sound
      prompts:
        - text: "a lighthouse in a storm, oil painting | blurry:-0.5"   # whole song
        - section: 2                          # the 2nd section of the MusicMap (1-based)
          text: "calm sea at dawn"
        - lyric: 3                            # while the 3rd lyric line is sung
          text: "a burning sky"
        - at: "17:1"                          # from bar 17 on (or seconds: "40s")
          text: "stars"
          image: refs/night.png               # and an image prompt (target image)
      zoom: 1.01                              # per new image: the feedback zoom
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["GuidanceSpec", "PromptEntry"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PromptEntry(_Model):
    """A prompt and when it applies: the whole song, a section, a lyric line, or from a time on."""

    text: str | None = Field(default=None, min_length=1)
    """Weighted prompts: ``"a red fox:1 | blurry:-0.5"``."""
    image: str | None = None
    """A target image (image prompt), relative to the project file."""
    weight: float = 1.0
    """Weight of the image prompt (negative: away from it)."""
    section: int | None = Field(default=None, ge=1)
    """Apply during this section of the analysis (1-based)."""
    lyric: int | None = Field(default=None, ge=1)
    """Apply while this lyric line is sung (1-based)."""
    at: str | None = None
    """Apply from this position on: ``bar:beat`` (1-based) or seconds such as ``"12.5s"``."""

    @field_validator("text")
    @classmethod
    def _weighted(cls, v: str | None) -> str | None:
        from douga.errors import InputError
        from douga.guided.prompts import parse_prompts

        if v is not None:
            try:
                parse_prompts(v, field="text")
            except InputError as e:
                raise ValueError(str(e).removeprefix("text: ")) from None
        return v

    @model_validator(mode="after")
    def _one_scope(self) -> PromptEntry:
        if self.text is None and self.image is None:
            raise ValueError("expected a text, an image, or both")
        scopes = [s for s in ("section", "lyric", "at") if getattr(self, s) is not None]
        if len(scopes) > 1:
            raise ValueError(f"expected at most one of section, lyric or at; got {scopes}")
        return self


class GuidanceSpec(_Model):
    """How text- and audio-guided frames are made (``douga guided``, ``--generator clip``)."""

    clip: str | None = None
    """CLIP checkpoint folder (save_pretrained layout), or ``hub:ORG/NAME`` when online."""
    vqgan: str | None = None
    """VQ-GAN: a ``douga train vqgan`` folder or a taming ``NAME.ckpt`` (+ ``NAME.yaml``)."""
    audio_encoder: str | None = None
    """Wav2CLIP checkpoint: each music segment without a lyric is guided by its sound."""
    image: Literal["vqgan", "pixel", "fourier"] | None = None
    """What is optimised; default ``vqgan`` when a VQ-GAN is given, else ``fourier``."""
    prompts: list[PromptEntry] = Field(default_factory=list)
    """The prompt schedule."""
    size: int = Field(default=256, ge=16, le=2048)
    """Long side of the optimised image in pixels (frames are scaled to the output)."""
    cutouts: int = Field(default=32, ge=1, le=256)
    cut_pow: float = Field(default=1.0, gt=0, le=10)
    step_size: float = Field(default=0.1, gt=0, le=10)
    """Adam's learning rate."""
    init_steps: int = Field(default=50, ge=0, le=100_000)
    """Steps before the first frame (from the init image, or from noise)."""
    images_interval: int = Field(default=10, ge=1, le=10_000)
    """Optimisation steps per new image (VQGAN-CLIP's ``images_interval``)."""
    min_rate: float = Field(default=2.0, gt=0, le=120)
    """New images per second in the calmest segment."""
    max_rate: float = Field(default=12.0, gt=0, le=120)
    """New images per second in the most intense segment."""
    zoom: float = Field(default=1.0, ge=0.5, le=2.0)
    """Scale applied to each image before the next is optimised from it (1.02: zoom in)."""
    angle: float = Field(default=0.0, ge=-45, le=45)
    """Degrees of rotation per new image."""
    shift: tuple[float, float] = (0.0, 0.0)
    """(x, y) pixels of translation per new image."""
    consistency: Literal["add", "l1", "none"] = "add"
    """Between segments: add the previous segment's guidance vector (Music2Video), or an
    L1 pull towards the previous segment's latent, or nothing."""
    l1_weight: float = Field(default=0.1, ge=0, le=100)
    min_segment: float = Field(default=0.4, gt=0, le=60)
    """Shortest music segment in seconds; shorter ones merge with the next."""
    keyframe_weight: float = Field(default=1.0, ge=0, le=100)
    """Weight of the pull towards the next keyframe (image prompt and pixels) near its time."""

    @model_validator(mode="after")
    def _rates(self) -> GuidanceSpec:
        if self.max_rate < self.min_rate:
            raise ValueError(f"max_rate {self.max_rate} is below min_rate {self.min_rate}")
        return self

    @property
    def parameterization(self) -> Literal["vqgan", "pixel", "fourier"]:
        return self.image or ("vqgan" if self.vqgan else "fourier")
