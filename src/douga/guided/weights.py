"""The guided generators' models, loaded from the paths in ``guidance:``, and the image to optimise.

CLIP is required. The VQ-GAN is optional (without it the image is a weight-free
Fourier or pixel parameterisation); so is Wav2CLIP (without it, segments without a
lyric follow the prompts only, and douga says so). Missing weights are an error that
says where to get them; nothing is downloaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from douga.errors import InputError, MissingDependency
from douga.guided.settings import GuidanceSpec

if TYPE_CHECKING:
    from douga.guided.image import GuidedImage
    from douga.models.clip import ClipGuide
    from douga.models.vqgan import VQGAN
    from douga.models.wav2clip import Wav2Clip

log = logging.getLogger(__name__)

__all__ = ["GuidanceModels", "load_guidance_models", "new_guided_image", "optimisation_size"]


@dataclass
class GuidanceModels:
    guide: ClipGuide
    vqgan: VQGAN | None
    audio: Wav2Clip | None
    device: torch.device


def load_vqgan_any(path: str | Path) -> VQGAN:
    """A VQ-GAN from a ``douga train vqgan`` folder or a taming ``NAME.ckpt`` (+ ``NAME.yaml``)."""
    from douga.models.taming import WEIGHTS_HELP, load_taming_vqgan
    from douga.models.vqgan import load_vqgan

    p = Path(path)
    if p.is_dir():
        return load_vqgan(p)
    if p.suffix.lower() == ".ckpt" or p.exists():
        return load_taming_vqgan(p)
    raise InputError(f"{p}: VQGAN weights not found; {WEIGHTS_HELP}")


def load_guidance_models(spec: GuidanceSpec, *, audio: bool = True,
                         device: str | None = None) -> GuidanceModels:
    """CLIP, and the VQ-GAN and Wav2CLIP when the spec names them (on ``device``)."""
    try:
        import transformers  # noqa: F401
    except ImportError:
        raise MissingDependency("guided generation needs torch and transformers: "
                                "pip install 'douga[learned]'") from None
    from douga.models.clip import WEIGHTS_HELP, ClipGuide, missing_weights

    if spec.clip is None:
        raise missing_weights("CLIP", "guidance.clip", WEIGHTS_HELP)
    try:
        dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    except RuntimeError:
        raise InputError(f"--device {device}: not a torch device; expected cpu, cuda or "
                         "cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"--device {device}: no CUDA GPU is available here; use --device cpu")
    guide = ClipGuide(spec.clip).to(dev)
    vqgan = None
    if spec.parameterization == "vqgan":
        if spec.vqgan is None:
            raise InputError("guidance.image: vqgan needs guidance.vqgan (a VQ-GAN folder or a "
                             "taming NAME.ckpt); or choose image: fourier or pixel")
        vqgan = load_vqgan_any(spec.vqgan).to(dev)
    wav2clip = None
    if audio and spec.audio_encoder is not None:
        from douga.models.wav2clip import load_wav2clip

        wav2clip = load_wav2clip(spec.audio_encoder).to(dev)
    elif audio:
        from douga.models.wav2clip import WEIGHTS_HELP as AUDIO_HELP

        log.warning("no guidance.audio_encoder: %s", AUDIO_HELP)
    return GuidanceModels(guide, vqgan, wav2clip, dev)


def optimisation_size(width: int, height: int, *, long_side: int,
                      multiple: int) -> tuple[int, int]:
    """(height, width) of the optimised image: the output's aspect, long side ``long_side``,
    both multiples of ``multiple`` (the VQ-GAN's down-sampling factor)."""
    scale = long_side / max(width, height)
    h = max(multiple, round(height * scale / multiple) * multiple)
    w = max(multiple, round(width * scale / multiple) * multiple)
    return h, w


def new_guided_image(models: GuidanceModels, spec: GuidanceSpec, *, width: int, height: int,
                     seed: int) -> GuidedImage:
    """A fresh optimisation at the output's aspect ratio, as ``spec`` says."""
    from douga.guided.image import GuidedImage, make_param

    multiple = models.vqgan.config.downsample if models.vqgan is not None else 8
    size = optimisation_size(width, height, long_side=spec.size, multiple=multiple)
    param = make_param(spec.parameterization, size, seed=seed, vqgan=models.vqgan,
                       device=models.device)
    return GuidedImage(models.guide, param, cutouts=spec.cutouts, cut_pow=spec.cut_pow,
                       step_size=spec.step_size, seed=seed,
                       l1_weight=spec.l1_weight if spec.consistency == "l1" else 0.0)
