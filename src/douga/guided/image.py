"""One image optimised until CLIP sees the prompts in it (the VQGAN-CLIP loop).

An image parameterisation makes a picture from parameters; every step takes random
cutouts of the picture, encodes them with CLIP and moves the parameters to lower the
weighted spherical distance to the guidance vectors (text prompts, image prompts,
audio embeddings). Three parameterisations:

* ``vqgan`` — a continuous latent grid decoded by a VQ-GAN after snapping to its
  codebook (straight-through gradient), as in VQGAN-CLIP: douga's own VQ-GAN or a
  public taming-transformers checkpoint;
* ``pixel`` — the pixels themselves (through a sigmoid), weight-free;
* ``fourier`` — a 2-D spectrum scaled by 1/frequency (Mordvintsev et al.'s
  decorrelated parameterisation), weight-free and smoother than ``pixel``.

Every parameterisation can be reset to a given picture (:meth:`ImageParam.set_image`):
that is how an init image, a keyframe, or the zoomed previous frame of a video
starts the next optimisation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from douga.models.clip import ClipGuide, spherical_distance
from douga.models.frames import to_uint8

if TYPE_CHECKING:
    from douga.models.vqgan import VQGAN

Parameterization = Literal["vqgan", "pixel", "fourier"]

__all__ = ["GuidedImage", "ImageParam", "Target", "embed_images", "make_param"]


def _to_unit(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 H×W×3 -> (1, 3, H, W) float in [0, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(image)).to(device)
    return x.permute(2, 0, 1)[None].float() / 255


class ImageParam(nn.Module, ABC):
    """Parameters that make one (1, 3, H, W) picture in [0, 1]."""

    def __init__(self, size: tuple[int, int]) -> None:
        super().__init__()
        self.size = size  # (height, width)

    @abstractmethod
    def forward(self) -> torch.Tensor: ...

    @abstractmethod
    def set_image(self, image: np.ndarray) -> None:
        """Make the parameters show ``image`` (uint8 H×W×3 at ``size``) as nearly as they can."""

    def latent(self) -> torch.Tensor:
        """What the L1 consistency term compares between frames (default: the parameters)."""
        return next(iter(self.parameters()))


class PixelParam(ImageParam):
    def __init__(self, size: tuple[int, int], *, generator: torch.Generator) -> None:
        super().__init__(size)
        self.logits = nn.Parameter(torch.randn(1, 3, *size, generator=generator) * 0.1)

    def forward(self) -> torch.Tensor:
        return torch.sigmoid(self.logits)

    @torch.no_grad()
    def set_image(self, image: np.ndarray) -> None:
        self.logits.copy_(torch.logit(_to_unit(image, self.logits.device), eps=1e-3))


class FourierParam(ImageParam):
    """Pixels = sigmoid(irfft2(spectrum / frequency)): low frequencies move first."""

    scale: torch.Tensor

    def __init__(self, size: tuple[int, int], *, generator: torch.Generator,
                 decay: float = 1.0) -> None:
        super().__init__(size)
        h, w = size
        fy = torch.fft.fftfreq(h)[:, None]
        fx = torch.fft.rfftfreq(w)[None, :]
        freq = torch.sqrt(fy**2 + fx**2).clamp(min=1.0 / max(h, w))
        scale = (1.0 / freq**decay) / (1.0 / freq**decay).max() * max(h, w) ** 0.5
        self.register_buffer("scale", scale, persistent=False)
        spec = torch.randn(1, 3, h, w // 2 + 1, 2, generator=generator) * 0.01
        self.spectrum = nn.Parameter(spec)

    def forward(self) -> torch.Tensor:
        spec = torch.view_as_complex(self.spectrum) * self.scale
        return torch.sigmoid(torch.fft.irfft2(spec, s=self.size, norm="ortho"))

    @torch.no_grad()
    def set_image(self, image: np.ndarray) -> None:
        logits = torch.logit(_to_unit(image, self.spectrum.device), eps=1e-3)
        spec = torch.fft.rfft2(logits, norm="ortho") / self.scale
        self.spectrum.copy_(torch.view_as_real(spec))


class VQGANParam(ImageParam):
    """A latent grid (1, D, H/f, W/f), snapped to the VQ-GAN's codebook and decoded."""

    z_min: torch.Tensor
    z_max: torch.Tensor

    def __init__(self, size: tuple[int, int], vqgan: VQGAN, *, generator: torch.Generator) -> None:
        super().__init__(size)
        f = vqgan.config.downsample
        if size[0] % f or size[1] % f:
            raise ValueError(f"size {size}: expected multiples of the VQ-GAN's factor {f}")
        self.vqgan = vqgan.eval().requires_grad_(False)
        codebook = vqgan.quantizer.codebook
        pick = torch.randint(0, codebook.shape[0], (size[0] // f * (size[1] // f),),
                             generator=generator).to(codebook.device)
        z = codebook[pick].t().reshape(1, -1, size[0] // f, size[1] // f)
        self.z = nn.Parameter(z.clone())
        self.register_buffer("z_min", codebook.min(0).values.view(1, -1, 1, 1), persistent=False)
        self.register_buffer("z_max", codebook.max(0).values.view(1, -1, 1, 1), persistent=False)

    def forward(self) -> torch.Tensor:
        z = self.z
        b, d, h, w = z.shape
        codebook = self.vqgan.quantizer.codebook
        idx = self.vqgan.quantizer.nearest(z.permute(0, 2, 3, 1).reshape(-1, d).detach())
        zq = codebook[idx].view(b, h, w, d).permute(0, 3, 1, 2)
        zq = z + (zq - z).detach()  # straight-through: the gradient reaches z
        return (self.vqgan.decode(zq).clamp(-1, 1) + 1) / 2

    @torch.no_grad()
    def set_image(self, image: np.ndarray) -> None:
        x = _to_unit(image, self.z.device) * 2 - 1
        self.z.copy_(self.vqgan.quant_conv(self.vqgan.encoder(x)))

    @torch.no_grad()
    def clamp_(self) -> None:
        """Keep the latent inside the codebook's range (VQGAN-CLIP's clamp_with_grad)."""
        self.z.copy_(torch.maximum(torch.minimum(self.z, self.z_max), self.z_min))


def make_param(kind: Parameterization, size: tuple[int, int], *, seed: int,
               vqgan: VQGAN | None = None, device: torch.device | None = None) -> ImageParam:
    """A new parameterisation of ``kind`` at (height, width) ``size``."""
    gen = torch.Generator().manual_seed(int(seed))
    param: ImageParam
    if kind == "vqgan":
        if vqgan is None:
            raise ValueError("the vqgan parameterisation needs a VQ-GAN")
        param = VQGANParam(size, vqgan, generator=gen)
    elif kind == "pixel":
        param = PixelParam(size, generator=gen)
    else:
        param = FourierParam(size, generator=gen)
    return param.to(device) if device is not None else param


@dataclass(frozen=True)
class Target:
    """A guidance vector (a unit vector in CLIP space) and its weight (negative: away)."""

    vector: torch.Tensor
    weight: float = 1.0


def cutouts(image: torch.Tensor, *, count: int, size: int, cut_pow: float,
            generator: torch.Generator) -> torch.Tensor:
    """``count`` random square crops of (1, 3, H, W), each resized to (size, size).

    Crop sides are drawn as ``u**cut_pow`` between min(H, W, size) and min(H, W)
    (VQGAN-CLIP's MakeCutouts); half are flipped left-right and a little noise is
    added, so the image cannot satisfy CLIP with one adversarial pattern.
    """
    _, _, h, w = image.shape
    side_max = min(h, w)
    side_min = min(side_max, size)
    crops = []
    u = torch.rand(count, 3, generator=generator)
    for i in range(count):
        side = int(u[i, 0].item() ** cut_pow * (side_max - side_min) + side_min)
        y = int(u[i, 1].item() * (h - side + 1))
        x = int(u[i, 2].item() * (w - side + 1))
        crops.append(F.adaptive_avg_pool2d(image[:, :, y:y + side, x:x + side], size))
    batch = torch.cat(crops)
    flip = (torch.rand(count, generator=generator) < 0.5).to(batch.device)
    batch = torch.where(flip[:, None, None, None], batch.flip(-1), batch)
    noise = torch.randn(batch.shape, generator=generator).to(batch.device) * 0.02
    return (batch + noise).clamp(0, 1)


@torch.no_grad()
def embed_images(guide: ClipGuide, images: list[np.ndarray], *, seed: int = 0,
                 count: int = 8) -> torch.Tensor:
    """Image prompts: each uint8 image -> its (D,) unit vector (mean over cutouts). (N, D)."""
    gen = torch.Generator().manual_seed(int(seed))
    out = []
    for image in images:
        x = _to_unit(image, guide.device)
        crops = cutouts(x, count=count, size=guide.input_size, cut_pow=1.0, generator=gen)
        out.append(F.normalize(guide.encode_image(crops).mean(0), dim=-1))
    return torch.stack(out) if out else torch.zeros(0, guide.dim, device=guide.device)


class GuidedImage:
    """The optimisation of one image towards guidance vectors (Adam on the parameters).

    Parameters
    ----------
    guide
        The CLIP model.
    param
        The image parameterisation (:func:`make_param`), on the guide's device.
    cutouts, cut_pow
        Random crops per step and their size distribution (see :func:`cutouts`).
    step_size
        Adam's learning rate.
    seed
        Seed of the cutouts.
    l1_weight
        Weight of ``|latent - anchor|_1`` (Music2Video's L1 consistency), active once
        :meth:`anchor` has been called.
    """

    def __init__(self, guide: ClipGuide, param: ImageParam, *, cutouts: int = 32,
                 cut_pow: float = 1.0, step_size: float = 0.1, seed: int = 0,
                 l1_weight: float = 0.0) -> None:
        self.guide, self.param = guide, param
        self.count, self.cut_pow, self.step_size = int(cutouts), float(cut_pow), float(step_size)
        self.l1_weight = float(l1_weight)
        self.generator = torch.Generator().manual_seed(int(seed))
        self._anchor: torch.Tensor | None = None
        self._reset_optimizer()

    def _reset_optimizer(self) -> None:
        self.optimizer = torch.optim.Adam(self.param.parameters(), lr=self.step_size)

    def set_image(self, image: np.ndarray) -> None:
        """Restart from ``image`` (uint8 H×W×3 at the param's size); Adam's state is reset."""
        self.param.set_image(image)
        self._reset_optimizer()

    def anchor(self) -> None:
        """Remember the current latent; later steps pay ``l1_weight`` for moving away from it."""
        self._anchor = self.param.latent().detach().clone()

    def loss(self, targets: list[Target], *, pixel_target: torch.Tensor | None = None,
             pixel_weight: float = 0.0) -> torch.Tensor:
        """The objective at the current parameters (differentiable)."""
        image = self.param()
        total = image.new_zeros(())
        if targets:
            crops = cutouts(image, count=self.count, size=self.guide.input_size,
                            cut_pow=self.cut_pow, generator=self.generator)
            emb = self.guide.encode_image(crops)  # (count, D)
            for t in targets:
                total = total + t.weight * spherical_distance(emb, t.vector[None]).mean()
        if pixel_target is not None and pixel_weight > 0:
            total = total + pixel_weight * F.mse_loss(image, pixel_target)
        if self._anchor is not None and self.l1_weight > 0:
            total = total + self.l1_weight * (self.param.latent() - self._anchor).abs().mean()
        return total

    def step(self, targets: list[Target], steps: int = 1, *,
             pixel_target: np.ndarray | None = None, pixel_weight: float = 0.0) -> float:
        """Run ``steps`` optimisation steps; returns the last loss.

        ``pixel_target`` (uint8 H×W×3) adds ``pixel_weight`` × MSE to it, so a guided
        shot can be pulled onto the keyframe it must end on.
        """
        target = None if pixel_target is None else _to_unit(pixel_target, self.guide.device)
        value = float("nan")
        for _ in range(steps):
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss(targets, pixel_target=target, pixel_weight=pixel_weight)
            if not loss.requires_grad:
                break
            loss.backward()
            self.optimizer.step()
            if isinstance(self.param, VQGANParam):
                self.param.clamp_()
            value = float(loss.detach())
        return value

    @torch.no_grad()
    def image(self) -> np.ndarray:
        """The current picture, uint8 H×W×3."""
        return to_uint8(self.param() * 2 - 1)[0]
