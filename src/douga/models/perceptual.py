"""Perceptual terms of the reconstruction loss: VGG16 features by path, or weight-free MS-SSIM.

GANime adds a perceptual loss (Johnson et al. 2016: distances between the features a
pretrained VGG network computes for the two images) to the L1 reconstruction loss.
VGG weights cannot be installed from a package here, so:

- ``kind="vgg16"`` builds VGG16's convolutional trunk (the layout of torchvision's
  ``vgg16().features``, so its published ``vgg16-397923af.pth`` state dict loads by
  path, strictly) and compares channel-normalised activations after each block;
- ``kind="msssim"`` (the default) needs no weights: 1 − multi-scale SSIM (Wang et
  al. 2003), which rewards matching local structure and contrast rather than only
  pixel values. The discriminator's feature matching, in the trainer, adds a learned
  perceptual signal on top.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from douga.errors import InputError
from douga.models.statedict import load_state_dict_file

# torchvision's VGG16 "D" configuration: channels per conv, "M" = 2x2 max pool
_VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
_TAPS = (3, 8, 15, 22, 29)  # relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 in ``features``
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG16Features(nn.Module):
    """VGG16's convolutional trunk; ``forward`` returns the activations at the five taps."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = 3
        for v in _VGG16:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                assert isinstance(v, int)
                layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=False)]
                c = v
        self.features = nn.Sequential(*layers)
        mean, std = torch.tensor(_IMAGENET_MEAN), torch.tensor(_IMAGENET_STD)
        self.register_buffer("mean", mean.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", std.view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: (B, 3, H, W) in [-1, 1] -> five feature maps."""
        h = ((x + 1) / 2 - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.features):
            h = layer(h)
            if i in _TAPS:
                out.append(h)
            if i >= _TAPS[-1]:
                break
        return out


def load_vgg16(path: str | Path) -> VGG16Features:
    """VGG16 features from torchvision's state dict file (its ``features.N.*`` keys)."""
    return load_state_dict_file(VGG16Features(), path, prefix="features.",
                                what="VGG16 weights (torchvision's vgg16-397923af.pth)")


def _gaussian(size: int, sigma: float, device: torch.device) -> torch.Tensor:
    x = torch.arange(size, device=device, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _ssim_parts(x: torch.Tensor, y: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image mean SSIM and contrast-structure term, data in [0, 1]."""
    c = x.shape[1]
    g = _gaussian(size, 1.5, x.device)
    wx = g.view(1, 1, 1, -1).expand(c, 1, 1, size)
    wy = g.view(1, 1, -1, 1).expand(c, 1, size, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, wx, groups=c), wy, groups=c)

    c1, c2 = 0.01**2, 0.03**2
    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx**2
    syy = blur(y * y) - my**2
    sxy = blur(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = (2 * mx * my + c1) / (mx**2 + my**2 + c1) * cs
    return ssim.mean(dim=(1, 2, 3)), cs.mean(dim=(1, 2, 3))


def ms_ssim(x: torch.Tensor, y: torch.Tensor, *, scales: int = 3) -> torch.Tensor:
    """Multi-scale SSIM per image of (B, 3, H, W) images in [-1, 1]; as many scales as fit."""
    x, y = (x + 1) / 2, (y + 1) / 2
    weights = torch.tensor([0.0448, 0.2856, 0.3001, 0.2363, 0.1333], device=x.device)
    values = []
    for s in range(scales):
        size = min(11, x.shape[-1], x.shape[-2])
        if size < 3:
            break
        size -= 1 - size % 2  # odd window
        ssim, cs = _ssim_parts(x, y, size)
        values.append(cs if s < scales - 1 else ssim)
        if min(x.shape[-2:]) < 8:
            values[-1] = ssim
            break
        x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    w = weights[: len(values)]
    w = w / w.sum()
    stacked = torch.stack(values, dim=0).clamp(min=1e-6)  # (S, B)
    return torch.prod(stacked ** w[:, None], dim=0)


class PerceptualLoss(nn.Module):
    """Perceptual distance between two image batches in [-1, 1]; a scalar loss.

    Parameters
    ----------
    kind
        ``"msssim"`` (weight-free) or ``"vgg16"`` (needs ``weights``).
    weights
        Path to torchvision's VGG16 state dict for ``kind="vgg16"``.
    """

    def __init__(self, kind: str = "msssim", *, weights: str | Path | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.vgg: VGG16Features | None = None
        if kind == "vgg16":
            if weights is None:
                raise InputError(
                    "perceptual loss 'vgg16': needs the VGG16 weights file by path "
                    "(torchvision's vgg16-397923af.pth); or use 'msssim', which needs none"
                )
            self.vgg = load_vgg16(weights)
        elif kind != "msssim":
            raise InputError(f"perceptual loss {kind!r}: expected 'msssim' or 'vgg16'")

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.vgg is None:
            return (1.0 - ms_ssim(x, y)).mean()
        loss = x.new_zeros(())
        for fx, fy in zip(self.vgg(x), self.vgg(y), strict=True):
            nx = fx / (fx.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            ny = fy / (fy.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            loss = loss + (nx - ny).pow(2).sum(1).mean()
        return loss
