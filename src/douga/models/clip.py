"""CLIP (Radford et al. 2021) as a differentiable guide: texts and images in one space.

The guided generators steer an image so that CLIP sees in it what the prompts say.
This module loads a CLIP checkpoint through transformers' ``CLIPModel`` from a local
folder (``save_pretrained`` layout: ``config.json``, weights, tokenizer files), or,
when the machine is online, from the hub by a name written with a ``hub:`` prefix
(``hub:openai/clip-vit-base-patch32``: explicit, so that a mistyped folder never
turns into a download), and exposes two encoders:

* :meth:`ClipGuide.encode_text` — prompts -> (N, D) unit vectors (no gradient, cached);
* :meth:`ClipGuide.encode_image` — images (B, 3, S, S) in [0, 1] -> (B, D) unit
  vectors, differentiable: the CLIP normalisation is applied here, in torch, so the
  gradient reaches the pixels (transformers' image processor works on numpy).

CLIP is frozen; its input size S is ``input_size`` (224 for ViT-B/32).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from douga.errors import InputError
from douga.models.io import hf_model_type

# the normalisation every OpenAI CLIP was trained with (used when the folder has no
# preprocessor_config.json saying otherwise)
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)

DEFAULT_HUB_NAME = "openai/clip-vit-base-patch32"
WEIGHTS_HELP = (
    "get CLIP weights once, on a machine with network: "
    f"`huggingface-cli download {DEFAULT_HUB_NAME} --local-dir models/clip-vit-base-patch32`, "
    "then set `guidance: {clip: models/clip-vit-base-patch32}` in the project file "
    f"(or, online, `clip: {'hub:' + DEFAULT_HUB_NAME}`)"
)
HUB_PREFIX = "hub:"
_HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def missing_weights(what: str, source: object, how: str) -> InputError:
    """The error for weights that are not where the user said (one line, with how to get them)."""
    return InputError(f"{source}: {what} weights not found; {how}")


class ClipGuide(nn.Module):
    """A frozen CLIP model with differentiable image encoding.

    Parameters
    ----------
    source
        A checkpoint folder, or ``hub:`` and a hub name such as
        ``hub:openai/clip-vit-base-patch32`` (fetched by transformers, or taken from its
        cache).
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, source: str | Path) -> None:
        super().__init__()
        from transformers import AutoTokenizer, CLIPModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        text = str(source)
        hub = text[len(HUB_PREFIX):] if text.startswith(HUB_PREFIX) else None
        folder = Path(text)
        local = hub is None and folder.is_dir()
        if hub is not None and not _HUB_NAME.fullmatch(hub):
            raise InputError(f"{text}: expected {HUB_PREFIX}ORG/NAME, such as "
                             f"{HUB_PREFIX}{DEFAULT_HUB_NAME}")
        if hub is None and not local:
            raise missing_weights("CLIP", source, WEIGHTS_HELP)
        if local and not (folder / "config.json").is_file():
            raise InputError(f"{folder}: no config.json; expected a CLIP checkpoint folder "
                             "(save_pretrained layout)")
        model_type = hf_model_type(folder) if local else "clip"
        if model_type != "clip":
            raise InputError(f"{folder}: config.json is not a CLIP model's (model_type "
                             f"{model_type!r}); expected a CLIP checkpoint folder")
        name = str(folder) if hub is None else hub
        try:
            self.model = CLIPModel.from_pretrained(name, local_files_only=local)
            self.tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=local)
        except (OSError, ValueError, KeyError) as e:
            raise InputError(f"{source}: cannot load CLIP ({str(e).splitlines()[0]})") from None
        self.model.eval().requires_grad_(False)
        self.source = name
        config: Any = self.model.config
        self.input_size = int(config.vision_config.image_size)
        self.dim = int(config.projection_dim)
        self.max_tokens = int(config.text_config.max_position_embeddings)
        mean, std = _normalisation(folder) if local else (OPENAI_MEAN, OPENAI_STD)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self._text_cache: dict[str, torch.Tensor] = {}

    @property
    def device(self) -> torch.device:
        return self.mean.device

    @torch.no_grad()
    def encode_text(self, texts: list[str]) -> torch.Tensor:
        """Texts -> (N, D) unit vectors on the model's device."""
        missing = sorted({t for t in texts if t not in self._text_cache})
        if missing:
            batch = self.tokenizer(missing, padding=True, truncation=True,
                                   max_length=self.max_tokens, return_tensors="pt")
            feats = _features(self.model.get_text_features(**batch.to(self.device)))
            for t, v in zip(missing, F.normalize(feats.float(), dim=-1), strict=True):
                self._text_cache[t] = v
        if not texts:
            return torch.zeros(0, self.dim, device=self.device)
        return torch.stack([self._text_cache[t] for t in texts])

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) images in [0, 1] -> (B, D) unit vectors; differentiable.

        Images of another size are resized (bilinear) to ``input_size``.
        """
        if images.shape[-2:] != (self.input_size, self.input_size):
            images = F.interpolate(images, size=(self.input_size, self.input_size),
                                   mode="bilinear", align_corners=False, antialias=False)
        pixels = (images - self.mean) / self.std
        feats = _features(self.model.get_image_features(pixel_values=pixels))
        return F.normalize(feats.float(), dim=-1)


def _features(out: object) -> torch.Tensor:
    """The projected embedding, whether transformers returns it bare or as ``pooler_output``."""
    if isinstance(out, torch.Tensor):
        return out
    pooled = getattr(out, "pooler_output", None)
    if not isinstance(pooled, torch.Tensor):
        raise TypeError(f"unexpected CLIP feature output {type(out).__name__}")
    return pooled


def _normalisation(folder: Path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    path = folder / "preprocessor_config.json"
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
        mean, std = tuple(float(v) for v in cfg["image_mean"]), tuple(
            float(v) for v in cfg["image_std"])
    except (OSError, ValueError, KeyError, TypeError):
        return OPENAI_MEAN, OPENAI_STD
    if len(mean) != 3 or len(std) != 3:
        return OPENAI_MEAN, OPENAI_STD
    return mean, std


def spherical_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared great-circle distance between unit vectors, broadcast over leading dims.

    ``2 * arcsin(|x - y| / 2)**2``: the loss VQGAN-CLIP minimises; unlike 1 - cosine it
    keeps a useful gradient when the vectors are already close.
    """
    return (x - y).norm(dim=-1).div(2).clamp(max=1.0).arcsin().pow(2).mul(2)
